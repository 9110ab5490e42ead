//! `use_chat_connection()`: the visitor's side of the chat as signals to render and callbacks
//! to call. It resumes the stored session, loads history, keeps the event stream connected
//! (reconnecting with jittered backoff, and at once when the browser comes back online or the
//! page becomes visible), and delivers what the visitor types through an outbox that survives
//! reloads.
//!
//! The server is the truth: messages are kept by their sequence number, a reconnect names
//! the last one held and receives exactly what came after, and a send is retried with the
//! same client id until the server confirms it, so nothing is lost or doubled.
//!
//! A live channel's visitor starts with the details form and a session of their own; a
//! persistent channel's visitor is signed in by their site, and the same stream then follows
//! their one open conversation. The two modes differ in three places only, all in this file:
//! how a session update is taken ([`ChatConnection::session_changed`]), what a refused token
//! means ([`ChatConnection::token_refused`]) and which messages belong on screen.
//!
//! # Layout, one concern a file
//! - [`state`]: what the panel shows, one enum whose transitions are plain functions;
//! - [`epoch`]: the one way to tell that an answer or a timer is stale;
//! - `link`: the stream's state as the visitor sees it, and the backoff of other retries;
//! - `stream`: the connection loop and the event stream;
//! - `history`: the first page and earlier pages of messages;
//! - `outbox`: sending, retrying with the same client id, confirming, each message an
//!   `outgoing` one;
//! - `live`: a live session's resume, start, end and restart;
//! - `identity`: a persistent visitor's sign-in, refresh and expiry, over `sign_in`, the
//!   sign-in as data (the verified visitor, when to refresh, how a refusal reads);
//! - `conversation`: the persistent visitor's one open conversation on screen;
//! - `hours`: asking again when agents are due back;
//! - `visitor`: forgetting the visitor, and what the page says the chat is about;
//! - `watch`: the read-only view of each signal the components are given.
//!
//! Imports run one way: this file holds [`ChatConnection`] and uses only the data modules
//! below it (`state`, `epoch`, `link`, `watch`, `outgoing`, `sign_in`); the behaviour files
//! (`stream`, `history`, `outbox`, `live`, `identity`, `conversation`, `hours`, `visitor`)
//! import it and add their part of the connection in `impl` blocks.

use std::collections::BTreeMap;

use leptos::{prelude::*, task::spawn_local};
use palaver_client::{reconnect::WakeUp, socket};
use palaver_protocol::{
    ChannelInfo, ChannelMode, EndReason, ErrorCode, Message, QueueStatus, Session, SessionState,
    frames::VisitorFrame,
};

use crate::{
    api::{Api, ApiFailure},
    bridge::Bridge,
    config::WidgetConfig,
    i18n::Texts,
    session::{Details, Stored},
};

pub mod epoch;
pub mod state;

mod conversation;
mod history;
mod hours;
mod identity;
mod link;
mod live;
mod outbox;
mod outgoing;
mod sign_in;
mod stream;
mod visitor;
mod watch;

use epoch::{Epoch, Scope};
pub use link::Link;
pub use outgoing::Outgoing;
pub use state::{ChatState, Screen};
pub use watch::Watch;

/// What the widget needs from outside the hook.
#[derive(Clone, Copy)]
pub struct ChatOptions {
    /// Whether the panel is open: messages that arrive while it is closed count as unread.
    pub open: RwSignal<bool>,
}

/// The chat: signals to render and callbacks (its methods) to call. Cheap to copy into
/// closures.
#[derive(Clone, Copy)]
pub struct ChatConnection {
    /// What the panel shows.
    pub state: Watch<ChatState>,
    /// The channel's settings, once known.
    pub channel: Watch<Option<ChannelInfo>>,
    /// Confirmed messages by sequence number.
    pub messages: Watch<BTreeMap<i64, Message>>,
    /// Typed messages the server has not confirmed yet, oldest first.
    pub outbox: Watch<Vec<Outgoing>>,
    /// Whether older messages than the first one held exist.
    pub has_older: Watch<bool>,
    pub link: Watch<Link>,
    pub queue: Watch<Option<QueueStatus>>,
    /// The name of the agent who is typing, if one is.
    pub agent_typing: Watch<Option<String>>,
    /// Messages that arrived while the panel was closed.
    pub unread: Watch<u32>,
    /// The last incoming message, for the polite live region.
    pub announcement: Watch<String>,
    set: Setters,
    open: RwSignal<bool>,
    inner: StoredValue<Inner, LocalStorage>,
}

/// The public signals, writable: only the connection writes them.
#[derive(Clone, Copy)]
struct Setters {
    state: RwSignal<ChatState>,
    channel: RwSignal<Option<ChannelInfo>>,
    messages: RwSignal<BTreeMap<i64, Message>>,
    outbox: RwSignal<Vec<Outgoing>>,
    has_older: RwSignal<bool>,
    link: RwSignal<Link>,
    queue: RwSignal<Option<QueueStatus>>,
    agent_typing: RwSignal<Option<String>>,
    unread: RwSignal<u32>,
    announcement: RwSignal<String>,
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
    epoch: Epoch,
    history_loaded: bool,
    /// Writes frames to the open event stream.
    socket: Option<socket::FrameSender<VisitorFrame>>,
    /// Wakes the connection loop early; running while a loop runs.
    wake_up: WakeUp,
    /// Persistent mode: the verified visitor; see `identity`.
    identity: sign_in::Identity,
}

/// Starts the chat for this page view; call once, in the root component.
pub fn use_chat_connection(
    config: &WidgetConfig,
    bridge: Bridge,
    options: ChatOptions,
) -> ChatConnection {
    let set = Setters {
        state: RwSignal::new(ChatState::Loading),
        channel: RwSignal::new(None),
        messages: RwSignal::new(BTreeMap::new()),
        outbox: RwSignal::new(Vec::new()),
        has_older: RwSignal::new(false),
        link: RwSignal::new(Link::Connecting),
        queue: RwSignal::new(None),
        agent_typing: RwSignal::new(None),
        unread: RwSignal::new(0),
        announcement: RwSignal::new(String::new()),
    };
    let wake_up = WakeUp::default();
    wake_up.on_return();
    let chat = ChatConnection {
        state: Watch::of(set.state),
        channel: Watch::of(set.channel),
        messages: Watch::of(set.messages),
        outbox: Watch::of(set.outbox),
        has_older: Watch::of(set.has_older),
        link: Watch::of(set.link),
        queue: Watch::of(set.queue),
        agent_typing: Watch::of(set.agent_typing),
        unread: Watch::of(set.unread),
        announcement: Watch::of(set.announcement),
        set,
        open: options.open,
        inner: StoredValue::new_local(Inner {
            api: Api::new(&config.server),
            stored: Stored::new(&config.channel),
            channel_id: config.channel.clone(),
            texts: Texts::for_language(config.language),
            bridge,
            token: None,
            regarding: None,
            epoch: Epoch::default(),
            history_loaded: false,
            socket: None,
            wake_up,
            identity: sign_in::Identity::new(config.identity_token.clone()),
        }),
    };
    Effect::new(move |_| {
        if chat.open.get() {
            chat.set.unread.set(0);
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

    fn channel_id(&self) -> String {
        self.inner.with_value(|inner| inner.channel_id.clone())
    }

    fn token(&self) -> Option<String> {
        self.inner.with_value(|inner| inner.token.clone())
    }

    /// Now, for a request or a timer to check later with [`Self::still`].
    fn epoch(&self) -> Epoch {
        self.inner.with_value(|inner| inner.epoch)
    }

    /// Whether what began at `then` still belongs to the current `scope`.
    fn still(&self, then: Epoch, scope: Scope) -> bool {
        self.inner
            .with_value(|inner| inner.epoch.holds(then, scope))
    }

    fn update_state(&self, change: impl FnOnce(&mut ChatState)) {
        self.set.state.update(change);
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

    /// Asks the channel's settings again (operating hours may have begun or ended).
    async fn refresh_channel(&self) {
        if let Ok(info) = self.api().channel(&self.channel_id()).await {
            self.set.channel.set(Some(info));
        }
    }

    /// Drops the session token and stops its connection, keeping what is stored.
    fn stop_connection(&self) {
        self.inner.update_value(|inner| {
            inner.token = None;
            inner.epoch.advance(Scope::Connection);
            inner.socket = None;
            inner.wake_up.stop();
        });
    }

    /// Drops the session token, its stored copy and its outbox, and stops its connection.
    fn forget_session(&self) {
        self.stored().clear_session();
        self.stop_connection();
        self.inner
            .update_value(|inner| inner.history_loaded = false);
    }

    /// Takes in the session as the server reports it (on connecting, or when it changes).
    /// A live chat shows its queue place and returns its end reason once it is over; a
    /// persistent visitor's screen follows their open conversation, which never ends the chat.
    fn session_changed(&self, session: Option<&Session>) -> Option<EndReason> {
        if self.is_persistent() {
            self.follow(session);
            return None;
        }
        let session = session?;
        self.set.queue.set(
            session
                .queue
                .filter(|_| session.state == SessionState::Queued),
        );
        session.end_reason
    }

    /// The server refused `token`. A live session is then gone: the form shows again. A
    /// persistent visitor's sign-in has run out: the page is asked for a fresh identity. Returns
    /// `false` when a newer token has replaced `token` meanwhile and the caller may try again.
    fn token_refused(&self, token: &str) -> bool {
        if self.is_persistent() {
            return self.token_expired(token);
        }
        if self.token().as_deref() == Some(token) {
            self.forget_session();
            self.set.state.set(ChatState::form(None));
        }
        true
    }

    /// A call of the visitor API that only reads was refused: a refused token or a
    /// conversation closed meanwhile say so; anything else waits for the next try.
    fn read_refused(&self, token: &str, failure: &ApiFailure) {
        match failure {
            ApiFailure::Refused { status: 401, .. } => {
                self.token_refused(token);
            }
            failure if failure.code() == Some(ErrorCode::NoConversation) => {
                self.conversation_gone(None)
            }
            _ => {}
        }
    }
}

fn is_persistent(channel: Option<&ChannelInfo>) -> bool {
    channel.is_some_and(|channel| channel.mode == ChannelMode::Persistent)
}
