//! Every signed-in agent's stream: sessions, messages, visitor typing and agents' status;
//! from the console, typing and presence (whether the agent takes new chats).

use axum::{
    extract::{State, WebSocketUpgrade, ws::WebSocket},
    response::Response,
};
use futures_util::StreamExt;
use palaver_protocol::{
    AgentRef, Message, Sender,
    frames::{AgentEvent, AgentFrame},
    limits::PAGE_MAX,
};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{
    assignment::status::{publish_status, statuses},
    chat::{
        access::signed_in_agent,
        assign::{offer, open_session},
        view::{agent_view, agent_views},
    },
    http::{
        error::ApiError,
        socket::common::{
            Sink, TypingThrottle, admit, authenticate, next_frame, run_until_either_ends,
            send_json, small,
        },
    },
    hub::{Event, Next, Subscription, Topic},
    state::AppState,
    store::{PageRequest, SessionRecord},
    tokens::hash_token,
};

/// Every signed-in agent's live stream: sessions, messages and visitor typing.
/// The first frame must be `{"type":"auth","token":…}`.
#[utoipa::path(get, path = "/api/v1/agent/events", tag = "agent",
    responses((status = 101, description = "Switching to the WebSocket protocol")))]
pub async fn upgrade(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    small(upgrade).on_upgrade(move |socket| agent_socket(state, socket))
}

async fn agent_socket(state: AppState, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let first = authenticate(
        &mut sink,
        &mut stream,
        |frame| match frame {
            AgentFrame::Auth { token } => Some(token),
            AgentFrame::Typing { .. } | AgentFrame::Presence { .. } | AgentFrame::Open { .. } => {
                None
            }
        },
        |error| AgentEvent::Error { error },
    )
    .await;
    let Some(token) = first else {
        return;
    };
    // Subscribed before the agent is admitted, so nothing published after `ready` is missed.
    let inbox = state.hub.subscribe(Topic::Inbox);
    let checked = signed_in_agent(&state, &token).await;
    let Some(agent) = admit(&mut sink, checked, |error| AgentEvent::Error { error }).await else {
        return;
    };
    if !send_json(
        &mut sink,
        &AgentEvent::Ready {
            agent: agent.clone(),
        },
    )
    .await
    {
        return;
    }
    state.presence.arrive(agent.id);
    let state_for_stop = state.clone();
    let (opening, opened) = watch::channel(None);
    let stream_of = Stream {
        state: state.clone(),
        sink,
        token_hash: hash_token(&token),
        sent_change: 0,
        open: None,
    };
    let sending = tokio::spawn(stream_of.run(inbox, opened));
    let agent_id = agent.id;
    let receiving = tokio::spawn(async move {
        let mut typing = TypingThrottle::default();
        loop {
            let frame = tokio::select! {
                frame = next_frame::<AgentFrame>(&mut stream) => match frame {
                    Some(frame) => frame,
                    None => return,
                },
                () = typing.due() => {
                    if let Some((session_id, now)) = typing.pass(None) {
                        agent_typing(&state, &agent, session_id, now).await;
                    }
                    continue;
                }
            };
            match frame {
                Ok(AgentFrame::Typing {
                    session_id,
                    typing: now,
                }) => {
                    if let Some((session_id, now)) = typing.pass(Some((session_id, now))) {
                        agent_typing(&state, &agent, session_id, now).await;
                    }
                }
                Ok(AgentFrame::Presence { available }) => {
                    agent_presence(&state, agent.id, available).await;
                }
                Ok(AgentFrame::Open { session_id }) => {
                    opening.send_replace(session_id);
                }
                Ok(AgentFrame::Auth { .. }) | Err(_) => {}
            }
        }
    });
    run_until_either_ends(&state_for_stop, sending, receiving).await;
    if state_for_stop.presence.leave(agent_id)
        && let Err(error) = publish_status(&state_for_stop, agent_id).await
    {
        tracing::error!(?error, "announcing an agent who left");
    }
}

/// The agent takes new chats or stops; when they start, queued sessions are offered.
async fn agent_presence(state: &AppState, agent_id: Uuid, available: bool) {
    if !state.presence.set_available(agent_id, available) {
        return;
    }
    if let Err(error) = publish_status(state, agent_id).await {
        tracing::error!(?error, "announcing an agent's availability");
    }
    if available {
        offer(state).await;
    }
}

async fn agent_typing(state: &AppState, agent: &AgentRef, session_id: Uuid, typing: bool) {
    if open_session(state, session_id).await.is_ok() {
        state.hub.publish(Event::Typing {
            session_id,
            sender: Sender::Agent {
                id: agent.id,
                name: agent.name.clone(),
            },
            typing,
        });
    }
}

/// One console's stream: the inbox, and the typing of the conversation it shows.
struct Stream {
    state: AppState,
    sink: Sink,
    /// The sign-in the stream was opened with; signing out closes it.
    token_hash: String,
    /// The greatest change number the stream has sent: where it catches up from.
    sent_change: i64,
    /// The conversation the console shows.
    open: Option<Opened>,
}

/// The conversation a console shows, and how far the stream has brought it.
struct Opened {
    id: Uuid,
    /// Its last message when it was opened: the console loads what came before itself.
    last_at_open: i64,
    /// The last of its messages the stream sent since.
    sent: Option<i64>,
}

impl Opened {
    /// The last message the console is known to have been given or to load itself.
    fn after(&self) -> i64 {
        self.sent.unwrap_or(self.last_at_open)
    }
}

/// What wakes a console's stream.
enum Wake {
    Inbox(Next),
    Open(Next),
    /// The console shows another conversation, or none (`None` when the console is gone).
    Opened(Option<Option<Uuid>>),
}

/// How far before the last change it sent a stream catches up from: changes are announced
/// just after they are written, so of two writes at once the later may be announced first.
const CATCH_UP_OVERLAP: i64 = 64;

impl Stream {
    async fn run(mut self, mut inbox: Subscription, mut opened: watch::Receiver<Option<Uuid>>) {
        // Subscribed before this read, so every change after it reaches the stream.
        self.sent_change = match self.state.store.last_change().await {
            Ok(change) => change,
            Err(error) => {
                tracing::error!(?error, "reading where a console's stream begins");
                return;
            }
        };
        let mut typing: Option<Subscription> = None;
        loop {
            let wake = tokio::select! {
                next = inbox.next() => Wake::Inbox(next),
                next = async {
                    match &mut typing {
                        Some(typing) => typing.next().await,
                        None => std::future::pending().await,
                    }
                } => Wake::Open(next),
                changed = opened.changed() => {
                    Wake::Opened(changed.ok().map(|()| *opened.borrow_and_update()))
                }
            };
            let going = match wake {
                Wake::Inbox(Next::Event(event)) | Wake::Open(Next::Event(event)) => {
                    self.send(&event).await
                }
                // Typing is news only as it happens: what was missed is gone, harmlessly.
                Wake::Open(Next::Behind) => true,
                Wake::Inbox(Next::Behind) => self.catch_up().await,
                Wake::Opened(None) => false,
                Wake::Opened(Some(session_id)) => {
                    typing = session_id.map(|id| self.state.hub.subscribe(Topic::Open(id)));
                    self.open = None;
                    match session_id {
                        Some(id) => self.send_opened(id).await,
                        None => true,
                    }
                }
            };
            if !going {
                return;
            }
        }
    }

    /// Sends the conversation the console opened as it stands, from which its messages
    /// follow; `false` when the stream ends.
    async fn send_opened(&mut self, session_id: Uuid) -> bool {
        let read = async {
            match self.state.store.session(session_id).await? {
                Some(record) => agent_view(&self.state, &record).await.map(Some),
                None => Ok(None),
            }
        };
        match read.await {
            Ok(Some(session)) => {
                self.open = Some(Opened {
                    id: session_id,
                    last_at_open: session.session.last_seq,
                    sent: None,
                });
                send_json(&mut self.sink, &AgentEvent::Session { session }).await
            }
            // An unknown id opens nothing; the console learns of it from the API.
            Ok(None) => true,
            Err(error) => {
                tracing::error!(?error, %session_id, "reading an opened session");
                false
            }
        }
    }

    /// After falling behind the inbox: every session changed since the last change sent, as
    /// it stands, with its newest message (which marks it unread), the open conversation's
    /// messages since the last one sent, and every agent's status. `false` when the stream
    /// ends (signed out, gone, or the store failed).
    async fn catch_up(&mut self) -> bool {
        match self.read_missed().await {
            Ok(going) => going,
            Err(error) => {
                tracing::error!(?error, "catching a console's stream up");
                false
            }
        }
    }

    async fn read_missed(&mut self) -> anyhow::Result<bool> {
        let state = self.state.clone();
        if state
            .store
            .agent_by_token(&self.token_hash, state.clock.now())
            .await?
            .is_none()
        {
            return Ok(self.signed_out().await);
        }
        let mut after = self.sent_change.saturating_sub(CATCH_UP_OVERLAP);
        loop {
            let changed = state.store.changed_sessions(after, PAGE_MAX).await?;
            let full = changed.len() == PAGE_MAX as usize;
            let rows: Vec<SessionRecord> =
                changed.iter().map(|(record, _)| record.clone()).collect();
            let views = agent_views(&state, changed).await?;
            for (record, session) in rows.iter().zip(views) {
                after = record.change;
                self.sent_change = self.sent_change.max(record.change);
                if !send_json(&mut self.sink, &AgentEvent::Session { session }).await
                    || !self.send_missed_messages(record.id).await?
                {
                    return Ok(false);
                }
            }
            if !full {
                break;
            }
        }
        for agent in statuses(&state).await? {
            if !send_json(&mut self.sink, &AgentEvent::Agent { agent }).await {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The messages of a changed session the console may lack: for the conversation it
    /// shows, all since the last one sent; for any other, the newest.
    async fn send_missed_messages(&mut self, session_id: Uuid) -> anyhow::Result<bool> {
        let page = match &self.open {
            Some(open) if open.id == session_id => PageRequest::After {
                after: open.after(),
                limit: PAGE_MAX,
            },
            _ => PageRequest::Latest { limit: 1 },
        };
        let mut page = Some(page);
        while let Some(request) = page.take() {
            let read = self.state.store.messages(session_id, request).await?;
            let more = read.has_more && matches!(request, PageRequest::After { .. });
            for message in read.messages {
                let seq = message.seq;
                if !self.send_message(message).await {
                    return Ok(false);
                }
                page = more.then_some(PageRequest::After {
                    after: seq,
                    limit: PAGE_MAX,
                });
            }
        }
        Ok(true)
    }

    /// Sends a message the inbox brought. The open conversation's go in order, each once:
    /// one the stream sent already is dropped, and one that overtook others brings them
    /// from the store.
    async fn send_news(&mut self, message: &Message) -> bool {
        let Some(open) = self
            .open
            .as_ref()
            .filter(|open| open.id == message.session_id)
        else {
            return self.send_message(message.clone()).await;
        };
        if open.sent.is_some_and(|sent| message.seq <= sent) {
            return true;
        }
        if message.seq <= open.after() + 1 {
            return self.send_message(message.clone()).await;
        }
        match self.send_missed_messages(message.session_id).await {
            Ok(going) => going,
            Err(error) => {
                tracing::error!(?error, "catching an open conversation up");
                false
            }
        }
    }

    /// Sends a message, noting it when it belongs to the open conversation.
    async fn send_message(&mut self, message: Message) -> bool {
        if let Some(open) = &mut self.open
            && open.id == message.session_id
        {
            open.sent = Some(open.sent.map_or(message.seq, |sent| sent.max(message.seq)));
        }
        send_json(&mut self.sink, &AgentEvent::Message { message }).await
    }

    /// Tells the console its sign-in is over; always `false`: the stream ends.
    async fn signed_out(&mut self) -> bool {
        let error = ApiError::Unauthorized("You signed out.").body();
        send_json(&mut self.sink, &AgentEvent::Error { error }).await;
        false
    }

    /// Sends an event as its frame; `false` when the stream ends.
    async fn send(&mut self, event: &Event) -> bool {
        let frame = match event {
            Event::Message { message, change } => {
                self.sent_change = self.sent_change.max(*change);
                return self.send_news(message).await;
            }
            Event::Session { session, change } => {
                self.sent_change = self.sent_change.max(*change);
                AgentEvent::Session {
                    session: session.clone(),
                }
            }
            Event::Typing {
                session_id,
                sender: Sender::Visitor,
                typing,
            } => AgentEvent::Typing {
                session_id: *session_id,
                typing: *typing,
            },
            Event::Agent(agent) => AgentEvent::Agent {
                agent: agent.clone(),
            },
            Event::SignedOut { token_hash } if *token_hash == self.token_hash => {
                return self.signed_out().await;
            }
            Event::Typing { .. } | Event::Queue { .. } | Event::SignedOut { .. } => return true,
        };
        send_json(&mut self.sink, &frame).await
    }
}
