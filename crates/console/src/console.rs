//! `use_console()`: the signed-in console as signals and actions. It loads the team, the
//! channels and the inbox, opens conversations, replies and acts on sessions, and keeps
//! everything current from the agent event stream ([`stream`]).
//!
//! The server is the truth and the stream an optimisation: a message is kept once by its
//! sequence number however often it arrives, a reply is retried with the same client id until
//! the server confirms it, and after a reconnect the inbox is loaded again and the open
//! conversation catches up on what came after the last message held.

use std::{collections::HashMap, time::Duration};

use leptos::prelude::*;
use palaver_client::{
    Link, Transcript, fetch::retry_unreachable, reconnect::WakeUp, socket::FrameSender,
};
use palaver_protocol::{
    AgentSession, AgentStatus, ChannelInfo, Message, SendMessage, Sender, frames::AgentFrame,
    limits::PAGE_MAX,
};
use uuid::Uuid;

use crate::{
    api::{Action, Api, ApiFailure, Words},
    auth::{Auth, SignedIn},
    drafts::Drafts,
    inbox::{Filters, place},
    route::Route,
    storage,
    tasks::Tasks,
    time,
    unread::Seen,
};

mod stream;

/// Messages per page of a conversation: the most the server gives at once.
const PAGE: u32 = PAGE_MAX;
/// How long "is typing" stays without a fresh typing event from the visitor.
const VISITOR_TYPING_FOR: Duration = Duration::from_secs(6);
/// How often, at most, the agent's "still typing" goes out, and how long after the last
/// keystroke "stopped typing" follows.
const AGENT_TYPING_EVERY: Duration = Duration::from_secs(3);

/// One conversation on screen: the open one, or one opened read-only from Chat History.
#[derive(Debug, Clone, Copy)]
pub struct SessionView {
    pub id: RwSignal<Option<Uuid>>,
    pub session: RwSignal<Option<AgentSession>>,
    pub transcript: RwSignal<Transcript>,
    /// Whether older messages than the first one held exist.
    pub has_earlier: RwSignal<bool>,
    pub loading: RwSignal<bool>,
    /// What went wrong last, in words.
    pub error: RwSignal<Option<String>>,
    pub visitor_typing: RwSignal<bool>,
    /// An action (join, set waiting, end, Regarding) is on its way.
    pub busy: RwSignal<bool>,
    /// Bumped whenever another session is shown, so answers for the last one are dropped.
    generation: StoredValue<u32>,
    typing_generation: StoredValue<u32>,
}

impl SessionView {
    fn new() -> Self {
        Self {
            id: RwSignal::new(None),
            session: RwSignal::new(None),
            transcript: RwSignal::new(Transcript::default()),
            has_earlier: RwSignal::new(false),
            loading: RwSignal::new(false),
            error: RwSignal::new(None),
            visitor_typing: RwSignal::new(false),
            busy: RwSignal::new(false),
            generation: StoredValue::new(0),
            typing_generation: StoredValue::new(0),
        }
    }

    /// Whether this view shows `session`.
    pub fn is(&self, session: Uuid) -> bool {
        self.id.get_untracked() == Some(session)
    }

    /// Shows `session` (or nothing), empty; returns the generation its answers must carry.
    fn reset(&self, session: Option<Uuid>) -> u32 {
        self.generation.update_value(|generation| *generation += 1);
        // Set only on a change: the pane draws the conversation again when the id is set.
        if self.id.get_untracked() != session {
            self.id.set(session);
        }
        self.session.set(None);
        self.transcript
            .set(session.map(Transcript::of).unwrap_or_default());
        self.has_earlier.set(false);
        self.loading.set(session.is_some());
        self.error.set(None);
        self.visitor_typing.set(false);
        self.busy.set(false);
        self.generation.get_value()
    }

    fn current(&self, generation: u32) -> bool {
        self.generation.get_value() == generation
    }
}

/// A reply on its way to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sending,
    /// The server could not be reached; trying again with the same id.
    Retrying,
}

/// Chat History: every session of the open conversation's contact.
#[derive(Debug, Clone, Copy)]
pub struct History {
    pub open: RwSignal<bool>,
    pub contact: RwSignal<Option<Uuid>>,
    /// Newest first; `None` while loading.
    pub rows: RwSignal<Option<Vec<AgentSession>>>,
    pub error: RwSignal<Option<String>>,
    /// A session opened from the list, read-only.
    pub view: SessionView,
}

/// The signed-in console. Cheap to copy into closures.
#[derive(Clone, Copy)]
pub struct Console {
    /// The signed-in agent, with their capacity and load.
    pub me: RwSignal<AgentStatus>,
    /// Whether the agent takes new chats: their choice, kept in this browser.
    pub available: RwSignal<bool>,
    pub link: RwSignal<Link>,
    pub agents: RwSignal<Vec<AgentStatus>>,
    pub channels: RwSignal<Vec<ChannelInfo>>,
    pub filters: RwSignal<Filters>,
    /// The inbox as the filters show it, newest first.
    pub rows: RwSignal<Vec<AgentSession>>,
    pub inbox_loading: RwSignal<bool>,
    pub inbox_error: RwSignal<Option<String>>,
    pub seen: RwSignal<Seen>,
    /// The open conversation.
    pub main: SessionView,
    pub history: History,
    /// Replies on their way, by session.
    pub deliveries: RwSignal<HashMap<Uuid, Delivery>>,
    pub auth: Auth,
    pub drafts: Drafts,
    pub route: Route,
    inner: StoredValue<Inner, LocalStorage>,
}

/// The non-reactive part.
struct Inner {
    api: Api,
    tasks: Tasks,
    expires_at: chrono::DateTime<chrono::Utc>,
    /// Writes frames to the open event stream.
    socket: Option<FrameSender<AgentFrame>>,
    /// Wakes the reconnection loop early.
    wake_up: WakeUp,
    /// Bumped per inbox load, so that only the latest one's answer is taken.
    inbox_generation: u32,
    /// Live changes that arrived while the inbox was loading, replayed on its answer, which
    /// may predate them.
    inbox_backlog: Option<Vec<InboxChange>>,
    /// The agent is typing in this session; the last "typing" went out at `sent_at` (ms).
    typing: Option<(Uuid, f64)>,
    typing_generation: u32,
}

/// A live change to the inbox.
enum InboxChange {
    Session(Box<AgentSession>),
    Seq(Uuid, i64),
}

/// Starts the console for a signed-in agent; call once, in the component that shows it. Its
/// work stops when that component goes.
pub fn use_console(signed_in: SignedIn) -> Console {
    let tasks = Tasks::tied_to_owner();
    let api = expect_context::<Api>().with_token(&signed_in.token.token);
    let me = signed_in.status;
    let console = Console {
        available: RwSignal::new(storage::read(&availability_name(me.id)).unwrap_or(true)),
        seen: RwSignal::new(Seen::load(me.id)),
        me: RwSignal::new(me),
        link: RwSignal::new(Link::Connecting),
        agents: RwSignal::new(Vec::new()),
        channels: RwSignal::new(Vec::new()),
        filters: RwSignal::new(Filters::default()),
        rows: RwSignal::new(Vec::new()),
        inbox_loading: RwSignal::new(true),
        inbox_error: RwSignal::new(None),
        main: SessionView::new(),
        history: History {
            open: RwSignal::new(false),
            contact: RwSignal::new(None),
            rows: RwSignal::new(None),
            error: RwSignal::new(None),
            view: SessionView::new(),
        },
        deliveries: RwSignal::new(HashMap::new()),
        auth: expect_context(),
        drafts: expect_context(),
        route: expect_context(),
        inner: StoredValue::new_local(Inner {
            api,
            tasks,
            expires_at: signed_in.token.expires_at,
            socket: None,
            wake_up: WakeUp::default(),
            inbox_generation: 0,
            inbox_backlog: None,
            typing: None,
            typing_generation: 0,
        }),
    };
    console.load_team();
    Effect::new(move |_| {
        console.filters.track();
        console.load_inbox();
    });
    Effect::new(move |_| {
        let open = console.route.open.get();
        untrack(|| console.open(open));
    });
    console.connect();
    console.spawn(console.watch_expiry());
    console
}

fn availability_name(agent: Uuid) -> String {
    format!("available:{agent}")
}

impl Console {
    fn api(&self) -> Api {
        self.inner.with_value(|inner| inner.api.clone())
    }

    /// Runs a task for as long as the agent stays signed in.
    fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        self.inner.with_value(|inner| inner.tasks.spawn(task));
    }

    /// A channel's name (its *Configuration*), tracked; its id until the channels are known.
    pub fn channel_name(&self, id: &str) -> String {
        self.channels.with(|channels| {
            channels
                .iter()
                .find(|channel| channel.id == id)
                .map_or_else(|| id.to_owned(), |channel| channel.name.clone())
        })
    }

    pub fn me_id(&self) -> Uuid {
        self.me.with_untracked(|me| me.id)
    }

    /// A failed call: a refused token ends the sign-in; the rest is for the caller to say.
    fn failed(&self, failure: &ApiFailure) {
        self.auth.check_failure(failure);
    }

    /// Ends the sign-in when its time is up, even with no call to find out.
    async fn watch_expiry(self) {
        let expires_at = self.inner.with_value(|inner| inner.expires_at);
        loop {
            let left = (expires_at - time::now()).num_milliseconds();
            if left <= 0 {
                self.auth.expire();
                return;
            }
            // Checked at least every minute: timers stall while a laptop sleeps.
            let wait = u64::try_from(left.min(60_000)).unwrap_or(0);
            gloo_timers::future::sleep(Duration::from_millis(wait)).await;
        }
    }

    /// The agent's status, the team and the channels, as they stand now.
    fn load_team(&self) {
        let console = *self;
        let api = self.api();
        self.spawn(async move {
            let (me, agents, channels) = futures::join!(api.me(), api.agents(), api.channels());
            match me {
                Ok(me) => console.me.set(me),
                Err(failure) => console.failed(&failure),
            }
            match agents {
                Ok(agents) => console.agents.set(agents),
                Err(failure) => console.failed(&failure),
            }
            match channels {
                Ok(channels) => console.channels.set(channels),
                Err(failure) => console.failed(&failure),
            }
        });
    }

    /// Loads the inbox for the current filters; an answer to an older load is dropped.
    pub fn load_inbox(&self) {
        let console = *self;
        let query = self
            .filters
            .with_untracked(|filters| filters.query(self.me_id()));
        let generation = self.inner.with_value(|inner| inner.inbox_generation + 1);
        self.inner.update_value(|inner| {
            inner.inbox_generation = generation;
            inner.inbox_backlog = Some(Vec::new());
        });
        self.inbox_loading.set(true);
        let api = self.api();
        self.spawn(async move {
            let result = api.sessions(&query).await;
            if console.inner.with_value(|inner| inner.inbox_generation) != generation {
                return;
            }
            let backlog = console
                .inner
                .try_update_value(|inner| inner.inbox_backlog.take())
                .flatten()
                .unwrap_or_default();
            console.inbox_loading.set(false);
            match result {
                Ok(rows) => {
                    console.rows.set(rows);
                    console.inbox_error.set(None);
                    for change in backlog {
                        match change {
                            InboxChange::Session(row) => console.place_row(*row),
                            InboxChange::Seq(session, seq) => console.raise_seq(session, seq),
                        }
                    }
                }
                Err(failure) => {
                    console.failed(&failure);
                    console.inbox_error.set(Some(failure.words("")));
                }
            }
        });
    }

    /// Puts a session that started or changed in the inbox, or out of it when the filters
    /// no longer show it.
    fn place_row(&self, row: AgentSession) {
        let belongs = self
            .filters
            .with_untracked(|filters| filters.matches(&row, self.me_id()));
        self.rows.update(|rows| place(rows, row, belongs));
    }

    /// A row's newest message is now at least `seq`.
    fn raise_seq(&self, session: Uuid, seq: i64) {
        self.rows.update(|rows| {
            if let Some(row) = rows.iter_mut().find(|row| row.session.id == session) {
                row.session.last_seq = row.session.last_seq.max(seq);
            }
        });
    }

    /// Remembers a live change for the inbox load under way, if one is.
    fn backlog(&self, change: InboxChange) {
        self.inner.update_value(|inner| {
            if let Some(backlog) = &mut inner.inbox_backlog {
                backlog.push(change);
            }
        });
    }

    fn mark_read(&self, session: Uuid, seq: i64) {
        let mut changed = false;
        self.seen
            .update(|seen| changed = seen.read_up_to(session, seq));
        if changed {
            self.seen.with_untracked(|seen| seen.save(self.me_id()));
        }
    }

    /// Whether a session has messages the agent has not seen.
    pub fn is_unread(&self, session: Uuid, last_seq: i64) -> bool {
        !self.main.is(session) && self.seen.with(|seen| seen.is_unread(session, last_seq))
    }

    /// Opens a conversation (the address changed), closing Chat History.
    fn open(&self, session: Option<Uuid>) {
        self.close_history();
        if self.main.id.get_untracked() == session {
            return;
        }
        self.stop_typing();
        if let Some(session) = session {
            // The mark goes at once, without waiting for the conversation to load.
            let last_seq = self.rows.with_untracked(|rows| {
                rows.iter()
                    .find(|row| row.session.id == session)
                    .map(|row| row.session.last_seq)
            });
            if let Some(last_seq) = last_seq {
                self.mark_read(session, last_seq);
            }
        }
        self.show(self.main, session);
    }

    /// Loads `session` into `view`: the session and its newest page of messages.
    fn show(&self, view: SessionView, session: Option<Uuid>) {
        let generation = view.reset(session);
        let Some(id) = session else {
            return;
        };
        let console = *self;
        let api = self.api();
        let query = [("limit", PAGE.to_string())];
        self.spawn(async move {
            let (row, page) = futures::join!(api.session(id), api.messages(id, &query));
            if !view.current(generation) {
                return;
            }
            view.loading.set(false);
            match row {
                // A live change that arrived meanwhile is at least as new.
                Ok(row) if view.session.with_untracked(Option::is_none) => {
                    view.session.set(Some(row));
                }
                Ok(_) => {}
                Err(failure) => {
                    console.failed(&failure);
                    view.error.set(Some(failure.words("")));
                }
            }
            match page {
                Ok(page) => {
                    view.transcript.update(|transcript| {
                        transcript.extend(page.messages);
                    });
                    view.has_earlier.set(page.has_more);
                }
                Err(failure) => console.failed(&failure),
            }
            if console.main.is(id) {
                let last_seq = view
                    .session
                    .with_untracked(|row| row.as_ref().map_or(0, |row| row.session.last_seq))
                    .max(view.transcript.with_untracked(Transcript::last_seq));
                console.mark_read(id, last_seq);
            }
        });
    }

    /// Loads the page of messages before the first one held.
    pub fn load_earlier(&self, view: SessionView) {
        let (Some(id), Some(first)) = (
            view.id.get_untracked(),
            view.transcript.with_untracked(Transcript::first_seq),
        ) else {
            return;
        };
        let generation = view.generation.get_value();
        let console = *self;
        let api = self.api();
        view.loading.set(true);
        self.spawn(async move {
            let query = [("before", first.to_string()), ("limit", PAGE.to_string())];
            let result = api.messages(id, &query).await;
            if !view.current(generation) {
                return;
            }
            view.loading.set(false);
            match result {
                Ok(page) => {
                    view.transcript.update(|transcript| {
                        transcript.extend(page.messages);
                    });
                    view.has_earlier.set(page.has_more);
                }
                Err(failure) => {
                    console.failed(&failure);
                    view.error.set(Some(failure.words("")));
                }
            }
        });
    }

    /// After a reconnect: the session as it stands, and every message after the last one
    /// held, page by page.
    async fn catch_up(self, view: SessionView) {
        let Some(id) = view.id.get_untracked() else {
            return;
        };
        if view.transcript.with_untracked(Transcript::is_empty) {
            // Nothing held to continue from (the first load failed or is on its way): the
            // newest page again, rather than the whole conversation from its start.
            self.show(view, Some(id));
            return;
        }
        let generation = view.generation.get_value();
        let api = self.api();
        if let Ok(row) = api.session(id).await
            && view.current(generation)
        {
            view.session.set(Some(row));
        }
        loop {
            if !view.current(generation) {
                return;
            }
            let after = view.transcript.with_untracked(Transcript::last_seq);
            let query = [("after", after.to_string()), ("limit", PAGE.to_string())];
            match api.messages(id, &query).await {
                Ok(page) if view.current(generation) => {
                    let more = page.has_more;
                    for message in page.messages {
                        self.on_message(message);
                    }
                    if !more {
                        return;
                    }
                }
                Ok(_) => return,
                Err(failure) => {
                    self.failed(&failure);
                    return;
                }
            }
        }
    }

    /// Fetches the session shown in `view` again, after an action was refused.
    fn refresh(&self, view: SessionView) {
        let Some(id) = view.id.get_untracked() else {
            return;
        };
        let console = *self;
        let api = self.api();
        self.spawn(async move {
            match api.session(id).await {
                Ok(row) => console.on_session(row),
                Err(failure) => console.failed(&failure),
            }
        });
    }

    /// Joins, sets waiting or ends the open conversation.
    pub fn act(&self, action: Action) {
        self.change(move |api, id| async move { api.act(id, action).await }, "");
    }

    /// Sets the open conversation's Regarding; an empty text clears it.
    pub fn save_regarding(&self, text: String) {
        let text = text.trim().to_owned();
        let regarding = (!text.is_empty()).then_some(text);
        self.change(
            move |api, id| async move { api.set_regarding(id, regarding).await },
            "regarding",
        );
    }

    /// Changes the open conversation with `call`, which answers with the session as it then
    /// stands. While it runs the actions wait; a refusal is shown in words, the server's
    /// message for `field` when it gave one.
    fn change<F>(&self, call: impl FnOnce(Api, Uuid) -> F + 'static, field: &'static str)
    where
        F: Future<Output = Result<AgentSession, ApiFailure>>,
    {
        let view = self.main;
        let Some(id) = view.id.get_untracked() else {
            return;
        };
        view.busy.set(true);
        view.error.set(None);
        let console = *self;
        let api = self.api();
        self.spawn(async move {
            let result = call(api, id).await;
            view.busy.set(false);
            match result {
                Ok(row) => console.on_session(row),
                Err(failure) => console.refused(view, &failure, field),
            }
        });
    }

    /// A change to `view`'s session was refused: the reason goes on screen and the session
    /// is fetched again, since the refusal often means it changed (another agent joined, it
    /// ended).
    fn refused(&self, view: SessionView, failure: &ApiFailure, field: &str) {
        self.failed(failure);
        if failure.is_unauthorized() {
            return;
        }
        view.error.set(Some(failure.words(field)));
        self.refresh(view);
    }

    /// Sends the open conversation's draft. A network failure is retried with the same id
    /// until the server answers; a refusal is shown and the draft kept.
    pub fn reply(&self) {
        let Some(session) = self.main.id.get_untracked() else {
            return;
        };
        let me = self.me_id();
        let body = untrack(|| self.drafts.get(me, session))
            .text
            .trim()
            .to_owned();
        if body.is_empty()
            || self
                .deliveries
                .with_untracked(|held| held.contains_key(&session))
        {
            return;
        }
        let client_msg_id = self.drafts.attempt(me, session);
        self.stop_typing();
        self.main.error.set(None);
        self.deliveries.update(|held| {
            held.insert(session, Delivery::Sending);
        });
        let console = *self;
        let api = self.api();
        let message = SendMessage {
            client_msg_id,
            body,
        };
        self.spawn(async move {
            let result = retry_unreachable(
                || api.reply(session, &message),
                || {
                    console.deliveries.update(|held| {
                        held.insert(session, Delivery::Retrying);
                    });
                },
            )
            .await;
            console.deliveries.update(|held| {
                held.remove(&session);
            });
            match result {
                Ok(sent) => {
                    console.drafts.sent(me, session, &message.client_msg_id);
                    console.on_message(sent);
                }
                // An expired sign-in keeps the draft and its id for the next attempt.
                Err(failure) if failure.is_unauthorized() => console.failed(&failure),
                Err(failure) => {
                    console.drafts.refused(me, session);
                    if console.main.is(session) {
                        console.refused(console.main, &failure, "body");
                    }
                }
            }
        });
    }

    /// The agent typed in the open conversation's reply box: the visitor is told, at most
    /// every few seconds, and told again when the typing stops.
    pub fn typing(&self) {
        let Some(session) = self.main.id.get_untracked() else {
            return;
        };
        let now = js_sys::Date::now();
        let every = AGENT_TYPING_EVERY.as_millis() as f64;
        let (announce, generation) = self.inner.with_value(|inner| {
            let announce = inner
                .typing
                .is_none_or(|(held, sent_at)| held != session || now - sent_at >= every);
            (announce, inner.typing_generation + 1)
        });
        if announce {
            self.send_frame(AgentFrame::Typing {
                session_id: session,
                typing: true,
            });
        }
        self.inner.update_value(|inner| {
            inner.typing_generation = generation;
            if announce {
                inner.typing = Some((session, now));
            }
        });
        let console = *self;
        self.spawn(async move {
            gloo_timers::future::sleep(AGENT_TYPING_EVERY).await;
            if console.inner.with_value(|inner| inner.typing_generation) == generation {
                console.stop_typing();
            }
        });
    }

    /// The agent stopped typing (sent, paused, left the conversation).
    pub fn stop_typing(&self) {
        let typing = self
            .inner
            .try_update_value(|inner| inner.typing.take())
            .flatten();
        if let Some((session, _)) = typing {
            self.send_frame(AgentFrame::Typing {
                session_id: session,
                typing: false,
            });
        }
    }

    /// The agent takes new chats or not; remembered in this browser and told to the server.
    pub fn set_available(&self, available: bool) {
        self.available.set(available);
        storage::write(&availability_name(self.me_id()), &available);
        self.send_frame(AgentFrame::Presence { available });
    }

    /// Opens Chat History for the open conversation's contact.
    pub fn open_history(&self) {
        let Some(contact) = self
            .main
            .session
            .with_untracked(|row| row.as_ref().map(|row| row.to.id))
        else {
            return;
        };
        let history = self.history;
        history.open.set(true);
        history.contact.set(Some(contact));
        history.rows.set(None);
        history.error.set(None);
        history.view.reset(None);
        let console = *self;
        let api = self.api();
        self.spawn(async move {
            let result = api.contact_sessions(contact).await;
            if history.contact.get_untracked() != Some(contact) {
                return;
            }
            match result {
                Ok(rows) => history.rows.set(Some(rows)),
                Err(failure) => {
                    console.failed(&failure);
                    history.error.set(Some(failure.words("")));
                    history.rows.set(Some(Vec::new()));
                }
            }
        });
    }

    pub fn close_history(&self) {
        if self.history.open.get_untracked() {
            self.history.open.set(false);
            self.history.contact.set(None);
            self.history.view.reset(None);
        }
    }

    /// Opens one session of Chat History, read-only (`None`: back to the list).
    pub fn view_in_history(&self, session: Option<Uuid>) {
        self.show(self.history.view, session);
    }

    /// A session started or changed.
    fn on_session(&self, row: AgentSession) {
        let id = row.session.id;
        for view in [self.main, self.history.view] {
            if view.is(id) {
                view.session.set(Some(row.clone()));
            }
        }
        if self.history.contact.get_untracked() == Some(row.to.id) {
            self.history.rows.update(|rows| {
                if let Some(rows) = rows {
                    place(rows, row.clone(), true);
                }
            });
        }
        self.backlog(InboxChange::Session(Box::new(row.clone())));
        self.place_row(row);
    }

    /// A message in any session.
    fn on_message(&self, message: Message) {
        let id = message.session_id;
        let seq = message.seq;
        self.raise_seq(id, seq);
        self.backlog(InboxChange::Seq(id, seq));
        if self.main.is(id) {
            if message.sender == Sender::Visitor {
                self.main.visitor_typing.set(false);
            }
            self.mark_read(id, seq);
        } else {
            let mut changed = false;
            self.seen
                .update(|seen| changed = seen.arrived(&message, self.me_id()));
            if changed {
                self.seen.with_untracked(|seen| seen.save(self.me_id()));
            }
        }
        for view in [self.main, self.history.view] {
            if view.is(id) {
                view.transcript.update(|transcript| {
                    transcript.insert(message.clone());
                });
            }
        }
    }

    /// The visitor of a session started or stopped typing.
    fn on_typing(&self, session: Uuid, typing: bool) {
        let view = self.main;
        if !view.is(session) {
            return;
        }
        view.visitor_typing.set(typing);
        view.typing_generation
            .update_value(|generation| *generation += 1);
        if typing {
            // A visitor whose widget went away sends no "stopped": the mark fades instead.
            let generation = view.typing_generation.get_value();
            self.spawn(async move {
                gloo_timers::future::sleep(VISITOR_TYPING_FOR).await;
                if view.typing_generation.get_value() == generation {
                    view.visitor_typing.set(false);
                }
            });
        }
    }

    /// An agent's availability or load changed.
    fn on_agent(&self, status: AgentStatus) {
        if status.id == self.me_id() {
            self.me.set(status.clone());
        }
        self.agents.update(
            |agents| match agents.iter_mut().find(|agent| agent.id == status.id) {
                Some(agent) => *agent = status,
                None => agents.push(status),
            },
        );
    }
}
