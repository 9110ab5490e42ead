//! `use_chat_connection()`: the visitor's side of the chat as signals and actions. It resumes
//! the stored session, loads history, keeps the event stream connected (reconnecting with
//! jittered backoff, and at once when the browser comes back online or the page becomes
//! visible), and delivers what the visitor types through an outbox that survives reloads.
//!
//! The server is the truth: messages are kept by their sequence number, a reconnect names
//! the last one held and receives exactly what came after, and a send is retried with the
//! same client id until the server confirms it, so nothing is lost or doubled.
//!
//! A live channel's visitor starts with the details form and a session of their own; a
//! persistent channel's visitor is signed in by their site, and the same stream then follows
//! their one open conversation ([`persistent`]).

use std::{collections::BTreeMap, fmt, time::Duration};

use futures::{
    StreamExt,
    channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded},
};
use gloo_net::websocket::{Message as WsMessage, futures::WebSocket};
use leptos::{prelude::*, task::spawn_local};
use palaver_protocol::{
    ChannelInfo, ChannelMode, EndReason, ErrorCode, Message, QueueStatus, SendMessage, Sender,
    Session, SessionState,
    frames::{VisitorEvent, VisitorFrame},
};
use uuid::Uuid;

use crate::{
    WidgetConfig,
    api::{Api, ApiFailure},
    bridge::Bridge,
    i18n::Texts,
    session::{Details, Pending, Stored, StoredSession},
};

mod persistent;

/// Messages per history page: a screenful or two, well under the server's
/// [`palaver_protocol::limits::PAGE_MAX`].
const PAGE: u32 = 30;
/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading the stored session.
    Loading,
    /// The details form; `reason` says why an earlier chat is over, when one was.
    Form { reason: Option<EndReason> },
    /// A persistent channel with no verified visitor: no identity from the site yet, or one
    /// the server refused ([`ChatConnection::identity_error`] says why).
    SignIn,
    /// A chat in progress.
    Chat,
    /// The chat just ended; the transcript stays until the visitor starts a new one.
    Ended { reason: EndReason },
}

/// The state of the event stream, as the visitor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Online,
    /// Disconnected; retrying in the background.
    Offline,
}

impl LinkState {
    pub fn describe(self, texts: &Texts) -> &'static str {
        match self {
            Self::Connecting => texts.connecting,
            Self::Online => texts.online,
            Self::Offline => texts.offline,
        }
    }
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connecting => "connecting",
            Self::Online => "online",
            Self::Offline => "offline",
        })
    }
}

/// A message the visitor typed that the server has not confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub pending: Pending,
    /// Why the server refused it, when it did; it is then not retried.
    pub refused: Option<String>,
}

/// What the widget needs from outside the hook.
#[derive(Clone, Copy)]
pub struct ChatOptions {
    /// Whether the panel is open: messages that arrive while it is closed count as unread.
    pub open: RwSignal<bool>,
}

/// The chat: signals to render and actions to call. Cheap to copy into closures.
#[derive(Clone, Copy)]
pub struct ChatConnection {
    pub phase: RwSignal<Phase>,
    pub channel: RwSignal<Option<ChannelInfo>>,
    /// Confirmed messages by sequence number.
    pub messages: RwSignal<BTreeMap<i64, Message>>,
    /// Typed messages the server has not confirmed yet, oldest first.
    pub outbox: RwSignal<Vec<Outgoing>>,
    /// Whether older messages than the first one held exist.
    pub has_older: RwSignal<bool>,
    pub link: RwSignal<LinkState>,
    pub queue: RwSignal<Option<QueueStatus>>,
    /// The name of the agent who is typing, if one is.
    pub agent_typing: RwSignal<Option<String>>,
    /// The details form's per-field errors, as the server gave them.
    pub field_errors: RwSignal<BTreeMap<String, String>>,
    /// A message for the whole form (outside hours, unreachable server).
    pub form_error: RwSignal<Option<String>>,
    pub starting: RwSignal<bool>,
    /// Messages that arrived while the panel was closed.
    pub unread: RwSignal<u32>,
    /// The last incoming message, for the polite live region.
    pub announcement: RwSignal<String>,
    /// Persistent mode: an agent closed the conversation on screen; the visitor's next message
    /// starts a new one.
    pub conversation_closed: RwSignal<bool>,
    /// Persistent mode: why the visitor's identity was not accepted, in the server's or the
    /// site's words.
    pub identity_error: RwSignal<Option<String>>,
    /// Persistent mode: the sign-in ran out and the site gave no fresh identity.
    pub sign_in_expired: RwSignal<bool>,
    open: RwSignal<bool>,
    inner: StoredValue<Inner, LocalStorage>,
}

/// The non-reactive part: where to talk to and the current connection.
struct Inner {
    api: Api,
    stored: Stored,
    channel_id: String,
    texts: &'static Texts,
    bridge: Bridge,
    token: Option<String>,
    /// What the host page said the chat is about, sent with the next session.
    regarding: Option<String>,
    /// Bumped whenever the session changes, so loops of an older one stop.
    generation: u32,
    /// Bumped whenever the visitor is forgotten (reset, another person signing in), so that
    /// answers to requests made for them are dropped.
    era: u32,
    history_loaded: bool,
    /// Writes frames to the open event stream.
    socket: Option<UnboundedSender<VisitorFrame>>,
    /// Wakes the reconnection loop early; `None` while no loop runs.
    kick: Option<UnboundedSender<()>>,
    /// Persistent mode: the verified visitor; see [`persistent`].
    identity: persistent::Identity,
}

/// Starts the chat for this page view; call once, in the root component.
pub fn use_chat_connection(
    config: &WidgetConfig,
    bridge: Bridge,
    options: ChatOptions,
) -> ChatConnection {
    let chat = ChatConnection {
        phase: RwSignal::new(Phase::Loading),
        channel: RwSignal::new(None),
        messages: RwSignal::new(BTreeMap::new()),
        outbox: RwSignal::new(Vec::new()),
        has_older: RwSignal::new(false),
        link: RwSignal::new(LinkState::Connecting),
        queue: RwSignal::new(None),
        agent_typing: RwSignal::new(None),
        field_errors: RwSignal::new(BTreeMap::new()),
        form_error: RwSignal::new(None),
        starting: RwSignal::new(false),
        unread: RwSignal::new(0),
        announcement: RwSignal::new(String::new()),
        conversation_closed: RwSignal::new(false),
        identity_error: RwSignal::new(None),
        sign_in_expired: RwSignal::new(false),
        open: options.open,
        inner: StoredValue::new_local(Inner {
            api: Api::new(&config.server),
            stored: Stored::new(&config.channel),
            channel_id: config.channel.clone(),
            texts: Texts::for_language(config.language),
            bridge,
            token: None,
            regarding: None,
            generation: 0,
            era: 0,
            history_loaded: false,
            socket: None,
            kick: None,
            identity: persistent::Identity::new(config.identity_token.clone()),
        }),
    };
    let kick = move || chat.kick();
    window_event_listener_untyped("online", move |_| kick());
    window_event_listener_untyped("visibilitychange", move |_| {
        if document().visibility_state() == web_sys::VisibilityState::Visible {
            kick();
        }
    });
    Effect::new(move |_| {
        if chat.open.get() {
            chat.unread.set(0);
        }
    });
    Effect::new(move |_| {
        let unread = chat.unread.get();
        chat.emit("unread", &unread);
    });
    spawn_local(chat.resume());
    chat
}

impl ChatConnection {
    fn api(&self) -> Api {
        self.inner.with_value(|inner| inner.api.clone())
    }

    fn stored(&self) -> Stored {
        self.inner.with_value(|inner| inner.stored.clone())
    }

    fn token(&self) -> Option<String> {
        self.inner.with_value(|inner| inner.token.clone())
    }

    fn generation(&self) -> u32 {
        self.inner.with_value(|inner| inner.generation)
    }

    fn era(&self) -> u32 {
        self.inner.with_value(|inner| inner.era)
    }

    /// Whether the channel is in persistent mode (tracked, for views).
    pub fn persistent(&self) -> bool {
        self.channel.with(|channel| is_persistent(channel.as_ref()))
    }

    fn is_persistent(&self) -> bool {
        self.channel
            .with_untracked(|channel| is_persistent(channel.as_ref()))
    }

    /// Tells the host page. The bridge is taken out first: the page's handler runs at once
    /// and may send a command back, which must find the connection free.
    fn emit(&self, name: &str, data: &impl serde::Serialize) {
        let bridge = self.inner.with_value(|inner| inner.bridge.clone());
        bridge.emit(name, data);
    }

    pub fn texts(&self) -> &'static Texts {
        self.inner.with_value(|inner| inner.texts)
    }

    /// The details given last time, for a one-click new chat.
    pub fn remembered_details(&self) -> Option<Details> {
        self.stored().details()
    }

    fn kick(&self) {
        self.inner.with_value(|inner| {
            if let Some(kick) = &inner.kick {
                // A closed channel means no loop is waiting: nothing to wake.
                let _ = kick.unbounded_send(());
            }
        });
    }

    /// On page load: resume the stored live session inside its window, or else start as the
    /// channel's mode says.
    async fn resume(self) {
        let stored = self.stored();
        let Some(session) = stored.session() else {
            self.start_without_session().await;
            return;
        };
        if !session.is_current(js_sys::Date::now()) {
            stored.clear_session();
            self.show_form(Some(EndReason::Expired)).await;
            return;
        }
        self.inner
            .update_value(|inner| inner.token = Some(session.token.clone()));
        self.outbox.set(
            stored
                .outbox()
                .into_iter()
                .map(|pending| Outgoing {
                    pending,
                    refused: None,
                })
                .collect(),
        );
        match self.api().session(&session.token).await {
            Ok(current) => {
                self.apply(&current);
                self.phase.set(Phase::Chat);
            }
            Err(ApiFailure::Refused { status: 410, body }) => {
                self.forget_session();
                self.show_form(body.end_reason.or(Some(EndReason::Expired)))
                    .await;
                return;
            }
            Err(ApiFailure::Refused { status: 401, .. }) => {
                self.forget_session();
                self.show_form(None).await;
                return;
            }
            // Unreachable for now: show the chat and let the connection loop retry.
            Err(_) => self.phase.set(Phase::Chat),
        }
        self.connect();
    }

    /// No live session to resume: a persistent channel signs the visitor in, any other shows
    /// the details form. The form never shows before the mode is known, since a persistent
    /// channel must never ask for details.
    async fn start_without_session(self) {
        let Some(info) = self.channel_info().await else {
            // An unknown or refused channel: the form, whose start then shows the server's
            // error.
            self.phase.set(Phase::Form { reason: None });
            return;
        };
        let persistent = info.mode == ChannelMode::Persistent;
        self.channel.set(Some(info));
        if persistent {
            self.start_persistent();
            spawn_local(self.watch_hours());
        } else {
            self.phase.set(Phase::Form { reason: None });
        }
    }

    /// The channel's settings, asked again with backoff while the server is unreachable;
    /// `None` when it refuses.
    async fn channel_info(&self) -> Option<ChannelInfo> {
        let channel_id = self.inner.with_value(|inner| inner.channel_id.clone());
        let mut attempt = 0;
        loop {
            match self.api().channel(&channel_id).await {
                Ok(info) => return Some(info),
                Err(ApiFailure::Refused { .. }) => return None,
                Err(ApiFailure::Unreachable) => {
                    gloo_timers::future::sleep(backoff(attempt)).await;
                    attempt = attempt.saturating_add(1);
                }
            }
        }
    }

    async fn show_form(&self, reason: Option<EndReason>) {
        self.phase.set(Phase::Form { reason });
        let channel_id = self.inner.with_value(|inner| inner.channel_id.clone());
        if let Ok(info) = self.api().channel(&channel_id).await {
            self.channel.set(Some(info));
        }
    }

    /// Starts a new session with the visitor's details.
    pub fn start(&self, details: Details) {
        let chat = *self;
        chat.starting.set(true);
        chat.field_errors.set(BTreeMap::new());
        chat.form_error.set(None);
        spawn_local(async move {
            let (channel_id, regarding, texts) = chat.inner.with_value(|inner| {
                (
                    inner.channel_id.clone(),
                    inner.regarding.clone(),
                    inner.texts,
                )
            });
            let result = chat
                .api()
                .start(&channel_id, &details.to_request(regarding))
                .await;
            chat.starting.set(false);
            match result {
                Ok(created) => {
                    let stored = chat.stored();
                    stored.save_details(&details);
                    stored
                        .save_session(&StoredSession::new(created.token.clone(), &created.session));
                    chat.inner.update_value(|inner| {
                        inner.token = Some(created.token);
                        inner.history_loaded = true;
                    });
                    chat.messages.set(BTreeMap::new());
                    chat.outbox.set(Vec::new());
                    chat.has_older.set(false);
                    chat.apply(&created.session);
                    chat.phase.set(Phase::Chat);
                    chat.connect();
                }
                Err(ApiFailure::Refused { body, .. }) => {
                    if body.fields.is_empty() {
                        chat.form_error.set(Some(body.message));
                    }
                    chat.field_errors.set(body.fields);
                }
                Err(ApiFailure::Unreachable) => {
                    chat.form_error.set(Some(texts.network_error.to_owned()))
                }
            }
        });
    }

    /// Shows the form again after an ended chat, keeping the details for one click.
    pub fn new_chat(&self) {
        let reason = match self.phase.get_untracked() {
            Phase::Ended { reason } => Some(reason),
            _ => None,
        };
        self.messages.set(BTreeMap::new());
        self.outbox.set(Vec::new());
        let chat = *self;
        spawn_local(async move { chat.show_form(reason).await });
    }

    /// Sends a message: it shows at once as pending and turns sent when confirmed.
    pub fn send(&self, body: String) {
        let pending = Pending {
            client_msg_id: Uuid::new_v4().to_string(),
            body,
        };
        self.outbox.update(|outbox| {
            outbox.push(Outgoing {
                pending: pending.clone(),
                refused: None,
            })
        });
        self.save_outbox();
        self.set_typing(false);
        let chat = *self;
        spawn_local(async move { chat.deliver(pending).await });
    }

    /// The messages still to deliver: the outbox less what the server refused.
    fn undelivered(&self) -> Vec<Pending> {
        self.outbox.with_untracked(|outbox| {
            outbox
                .iter()
                .filter(|outgoing| outgoing.refused.is_none())
                .map(|outgoing| outgoing.pending.clone())
                .collect()
        })
    }

    fn save_outbox(&self) {
        self.stored().save_outbox(&self.undelivered());
    }

    /// Posts one pending message. Unreachable or failing servers leave it pending for the
    /// next connection; a retry with the same client id never doubles it.
    async fn deliver(self, pending: Pending) {
        let Some(token) = self.token() else {
            return;
        };
        if self.waits_for_identity() {
            return;
        }
        let message = SendMessage {
            client_msg_id: pending.client_msg_id.clone(),
            body: pending.body.clone(),
        };
        let era = self.era();
        let result = self.api().send(&token, &message).await;
        if self.era() != era {
            return;
        }
        match result {
            Ok(message) => self.receive(message, false),
            Err(ApiFailure::Refused { status: 401, .. }) if self.is_persistent() => {
                // Kept for the next identity; sent again at once if one came meanwhile.
                if !self.token_expired(&token) {
                    spawn_local(self.deliver(pending));
                }
            }
            Err(ApiFailure::Refused { status: 410, body }) => {
                self.finish(body.end_reason.unwrap_or(EndReason::Expired))
            }
            Err(ApiFailure::Refused { status: 422, body }) => {
                let reason = body.fields.get("body").cloned().unwrap_or(body.message);
                self.outbox.update(|outbox| {
                    if let Some(outgoing) = outbox
                        .iter_mut()
                        .find(|outgoing| outgoing.pending == pending)
                    {
                        outgoing.refused = Some(reason);
                    }
                });
                self.save_outbox();
            }
            Err(_) => self.kick(),
        }
    }

    /// Retries every pending message, in order.
    async fn flush(self) {
        for pending in self.undelivered() {
            self.deliver(pending).await;
        }
    }

    /// Takes in a confirmed message, from the stream or a send's answer.
    fn receive(&self, message: Message, live: bool) {
        if let Some(client_msg_id) = &message.client_msg_id
            && message.sender == Sender::Visitor
        {
            let confirmed = self
                .outbox
                .try_update(|outbox| {
                    let before = outbox.len();
                    outbox.retain(|outgoing| &outgoing.pending.client_msg_id != client_msg_id);
                    outbox.len() != before
                })
                .unwrap_or(false);
            if confirmed {
                self.save_outbox();
            }
        }
        if !self.on_screen(message.session_id) {
            return;
        }
        let new = self
            .messages
            .try_update(|messages| messages.insert(message.seq, message.clone()).is_none())
            .unwrap_or(false);
        if !new || !live || message.sender == Sender::Visitor {
            return;
        }
        let texts = self.texts();
        let who = match &message.sender {
            Sender::Agent { name, .. } => name.clone(),
            Sender::System | Sender::Visitor => texts.title.to_owned(),
        };
        self.announcement.set(format!("{who}: {}", message.body));
        if let Sender::Agent { .. } = message.sender {
            self.agent_typing.set(None);
        }
        if !self.open.get_untracked() {
            self.unread.update(|unread| *unread += 1);
        }
        self.emit("message", &message);
    }

    fn apply(&self, session: &Session) {
        self.queue.set(session.queue);
        if session.state != SessionState::Queued {
            self.queue.set(None);
        }
    }

    /// The visitor ends the chat.
    pub fn end(&self) {
        let Some(token) = self.token() else {
            return;
        };
        let chat = *self;
        spawn_local(async move {
            match chat.api().end(&token).await {
                Ok(_) => chat.finish(EndReason::Visitor),
                Err(ApiFailure::Refused { status: 410, body }) => {
                    chat.finish(body.end_reason.unwrap_or(EndReason::Visitor))
                }
                Err(_) => chat.link.set(LinkState::Offline),
            }
        });
    }

    /// The chat is over: keep the transcript on screen, forget the session.
    fn finish(&self, reason: EndReason) {
        if matches!(self.phase.get_untracked(), Phase::Ended { .. }) {
            return;
        }
        self.forget_session();
        self.queue.set(None);
        self.agent_typing.set(None);
        self.phase.set(Phase::Ended { reason });
        self.emit("sessionEnded", &serde_json::json!({ "reason": reason }));
    }

    /// Drops the session token and stops its connection.
    fn forget_session(&self) {
        self.stored().clear_session();
        self.stop_connection();
        self.inner
            .update_value(|inner| inner.history_loaded = false);
    }

    /// Drops the bearer token and stops the connection loop, keeping what is stored.
    fn stop_connection(&self) {
        self.inner.update_value(|inner| {
            inner.token = None;
            inner.generation += 1;
            inner.socket = None;
            inner.kick = None;
        });
    }

    /// `Palaver.reset()`: forget the visitor entirely, then show an empty form, or on a
    /// persistent channel wait for a new identity.
    pub fn reset(&self) {
        self.forget_visitor();
        self.inner.update_value(|inner| {
            inner.regarding = None;
            inner.identity.sign_out();
        });
        self.field_errors.set(BTreeMap::new());
        self.form_error.set(None);
        self.identity_error.set(None);
        if self.is_persistent() {
            self.start_persistent();
        } else if self.channel.with_untracked(Option::is_some)
            || self.phase.get_untracked() != Phase::Loading
        {
            let chat = *self;
            spawn_local(async move { chat.show_form(None).await });
        }
        // Otherwise the page is still finding out the channel's mode, and goes on to the form
        // or the sign-in with nothing of the visitor left.
    }

    /// Drops everything known about the visitor, in memory and in this browser's storage,
    /// and stops the connection; the page's settings (Regarding, the channel) stay.
    fn forget_visitor(&self) {
        self.forget_session();
        self.stored().forget_everything();
        self.inner.update_value(|inner| {
            inner.era = inner.era.wrapping_add(1);
            inner.identity.forget_visitor();
        });
        self.messages.set(BTreeMap::new());
        self.outbox.set(Vec::new());
        self.has_older.set(false);
        self.queue.set(None);
        self.agent_typing.set(None);
        self.unread.set(0);
        self.announcement.set(String::new());
        self.conversation_closed.set(false);
        self.sign_in_expired.set(false);
    }

    /// `Palaver.setRegarding(text)`: now for a running chat, or with the next one.
    pub fn set_regarding(&self, regarding: Option<String>) {
        self.inner
            .update_value(|inner| inner.regarding = regarding.clone());
        if let Some(token) = self.token() {
            let api = self.api();
            spawn_local(async move {
                match api.set_regarding(&token, regarding).await {
                    Ok(_) => {}
                    // A persistent visitor without an open conversation: it goes with the
                    // next one (see `persistent::show_conversation`).
                    Err(failure) if failure.code() == Some(ErrorCode::NoConversation) => {}
                    Err(failure) => {
                        leptos::logging::warn!("palaver: Regarding was not saved: {failure:?}")
                    }
                }
            });
        }
    }

    /// Tells the agent whether the visitor is typing (only while connected).
    pub fn set_typing(&self, typing: bool) {
        self.inner.with_value(|inner| {
            if let Some(socket) = &inner.socket {
                let _ = socket.unbounded_send(VisitorFrame::Typing { typing });
            }
        });
    }

    /// Loads the page of messages before the first one held.
    pub fn load_older(&self) {
        let (Some(token), Some(first)) = (
            self.token(),
            self.messages
                .with_untracked(|messages| messages.keys().next().copied()),
        ) else {
            return;
        };
        let chat = *self;
        let era = self.era();
        spawn_local(async move {
            let query = format!("?before={first}&limit={PAGE}");
            let result = chat.api().messages(&token, &query).await;
            if chat.era() != era {
                return;
            }
            match result {
                Ok(page) => {
                    chat.add_page(page.messages);
                    chat.has_older.set(page.has_more);
                }
                Err(failure) if chat.is_persistent() => chat.persistent_failure(&token, &failure),
                Err(_) => {}
            }
        });
    }

    /// Takes in a page of history.
    fn add_page(&self, page: Vec<Message>) {
        for message in page {
            if self.on_screen(message.session_id) {
                self.messages.update(|messages| {
                    messages.insert(message.seq, message);
                });
            }
        }
    }

    /// Starts the connection loop for the current session.
    fn connect(&self) {
        let (kick, wake) = unbounded();
        self.inner.update_value(|inner| inner.kick = Some(kick));
        spawn_local(self.run(self.generation(), wake));
    }

    async fn run(self, generation: u32, mut wake: UnboundedReceiver<()>) {
        let mut attempt: u32 = 0;
        while self.generation() == generation {
            self.link.set(LinkState::Connecting);
            match self.connect_once(generation).await {
                Outcome::Over(reason) => {
                    self.finish(reason);
                    return;
                }
                // Persistent mode has no session to lose: the loop waits for a new identity.
                Outcome::Lost if self.is_persistent() => {
                    if self.generation() == generation {
                        self.inner.update_value(|inner| inner.kick = None);
                    }
                    return;
                }
                Outcome::Lost => {
                    self.forget_session();
                    self.phase.set(Phase::Form { reason: None });
                    return;
                }
                Outcome::IdentityExpired(token) => {
                    // Unless a fresh token came meanwhile, the loop waits for one; a new
                    // identity starts it again.
                    if self.token_expired(&token) && self.generation() == generation {
                        self.link.set(LinkState::Offline);
                        self.agent_typing.set(None);
                        self.inner.update_value(|inner| {
                            inner.socket = None;
                            inner.kick = None;
                        });
                        return;
                    }
                    attempt = 0;
                }
                Outcome::Dropped { was_online } => {
                    if was_online {
                        attempt = 0;
                    }
                }
            }
            if self.generation() != generation {
                return;
            }
            self.link.set(LinkState::Offline);
            self.agent_typing.set(None);
            self.inner.update_value(|inner| inner.socket = None);
            let delay = backoff(attempt);
            attempt = attempt.saturating_add(1);
            let timer = gloo_timers::future::sleep(delay);
            futures::future::select(Box::pin(timer), wake.next()).await;
        }
    }

    /// One connection: history if not loaded yet, then the stream until it drops.
    async fn connect_once(self, generation: u32) -> Outcome {
        let Some(token) = self.token() else {
            return Outcome::Lost;
        };
        let history_loaded = self.inner.with_value(|inner| inner.history_loaded);
        let persistent = self.is_persistent();
        if !history_loaded {
            let result = self.api().messages(&token, &format!("?limit={PAGE}")).await;
            if self.generation() != generation {
                return Outcome::Dropped { was_online: false };
            }
            match result {
                Ok(page) => {
                    self.add_page(page.messages);
                    self.has_older.set(page.has_more);
                    self.inner.update_value(|inner| inner.history_loaded = true);
                }
                Err(ApiFailure::Refused { status: 401, .. }) if persistent => {
                    return Outcome::IdentityExpired(token);
                }
                Err(ApiFailure::Refused { body, .. })
                    if persistent && body.error == ErrorCode::NoConversation =>
                {
                    // Closed since the sign-in: nothing to load until the next message.
                    self.conversation_gone(None);
                    self.inner.update_value(|inner| inner.history_loaded = true);
                }
                Err(ApiFailure::Refused { status: 410, body }) => {
                    return Outcome::Over(body.end_reason.unwrap_or(EndReason::Expired));
                }
                Err(ApiFailure::Refused { status: 401, .. }) => return Outcome::Lost,
                Err(_) => return Outcome::Dropped { was_online: false },
            }
        }
        let Ok(socket) = WebSocket::open(&self.api().events_url()) else {
            return Outcome::Dropped { was_online: false };
        };
        let (mut write, mut read) = socket.split();
        let after_seq = self
            .messages
            .with_untracked(|messages| messages.keys().next_back().copied().unwrap_or(0));
        // A persistent visitor's `after_seq` counts in the conversation on screen; the server
        // sends all of the open one when that is another.
        let session_id = self.inner.with_value(|inner| inner.identity.conversation);
        let auth = VisitorFrame::Auth {
            token: token.clone(),
            after_seq,
            session_id,
        };
        let (frames, mut outgoing) = unbounded::<VisitorFrame>();
        if frames.unbounded_send(auth).is_err() {
            return Outcome::Dropped { was_online: false };
        }
        spawn_local(async move {
            use futures::SinkExt;
            while let Some(frame) = outgoing.next().await {
                let Ok(text) = serde_json::to_string(&frame) else {
                    continue;
                };
                if write.send(WsMessage::Text(text)).await.is_err() {
                    break;
                }
            }
        });
        self.inner.update_value(|inner| inner.socket = Some(frames));
        let mut was_online = false;
        while let Some(Ok(WsMessage::Text(text))) = read.next().await {
            if self.generation() != generation {
                return Outcome::Dropped { was_online };
            }
            let Ok(event) = serde_json::from_str::<VisitorEvent>(&text) else {
                continue;
            };
            match event {
                VisitorEvent::Ready { session } => {
                    was_online = true;
                    self.link.set(LinkState::Online);
                    if persistent {
                        self.follow(session.as_ref());
                    } else if let Some(session) = &session {
                        self.apply(session);
                    }
                    spawn_local(self.flush());
                }
                VisitorEvent::Message { message } => self.receive(message, true),
                VisitorEvent::Typing { sender, typing } => {
                    if let Sender::Agent { name, .. } = sender {
                        self.agent_typing.set(typing.then_some(name));
                    }
                }
                VisitorEvent::Queue { queue } => self.queue.set(Some(queue)),
                // A persistent visitor's stream goes on past an ended conversation: the next
                // message starts a fresh one, announced the same way.
                VisitorEvent::Session { session } if persistent => self.follow(Some(&session)),
                VisitorEvent::Session { session } => {
                    self.apply(&session);
                    if let Some(reason) = session.end_reason {
                        return Outcome::Over(reason);
                    }
                }
                VisitorEvent::Error { error } => {
                    return match (error.error, error.end_reason) {
                        (ErrorCode::IdentityExpired | ErrorCode::Unauthorized, _) if persistent => {
                            Outcome::IdentityExpired(token)
                        }
                        (ErrorCode::SessionEnded, Some(reason)) => Outcome::Over(reason),
                        (ErrorCode::Unauthorized, _) => Outcome::Lost,
                        _ => Outcome::Dropped { was_online },
                    };
                }
            }
        }
        Outcome::Dropped { was_online }
    }
}

/// How a connection ended.
enum Outcome {
    /// The session is over.
    Over(EndReason),
    /// The server does not know the token.
    Lost,
    /// Persistent mode: the server no longer takes this bearer token.
    IdentityExpired(String),
    /// The stream dropped; try again.
    Dropped { was_online: bool },
}

fn is_persistent(channel: Option<&ChannelInfo>) -> bool {
    channel.is_some_and(|channel| channel.mode == ChannelMode::Persistent)
}

/// 0.5 s doubling up to 30 s, each wait jittered down to half, so that many widgets
/// returning at once after an outage do not arrive together.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(500)
        .saturating_mul(2u32.saturating_pow(attempt.min(6)))
        .min(MAX_BACKOFF);
    base.mul_f64(0.5 + js_sys::Math::random() / 2.0)
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn backoff_grows_to_its_ceiling_with_jitter() {
        for _ in 0..20 {
            let first = backoff(0);
            assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
            let late = backoff(20);
            assert!(late >= MAX_BACKOFF / 2 && late <= MAX_BACKOFF);
        }
    }
}
