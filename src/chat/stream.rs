//! The connection loop: history if it is not loaded yet, then the event stream, opened with
//! the last sequence number held so that the server sends exactly what was missed. A dropped
//! stream is retried with backoff, or at once when the browser wakes the loop.
//!
//! The socket itself is the client crate's typed [`socket::open`]. Its
//! `reconnect::keep_connected` loop is not used: this loop must stop as soon as its
//! [`Epoch`] is stale (a reset, a new identity), without showing "connecting" once more, and
//! a refused persistent token may be tried again when a newer one came meanwhile.

use futures::{
    StreamExt,
    channel::mpsc::{UnboundedReceiver, unbounded},
};
use leptos::{prelude::*, task::spawn_local};
use palaver_client::socket;
use palaver_protocol::{
    EndReason, ErrorCode, Sender,
    frames::{VisitorEvent, VisitorFrame},
};

use super::{
    ChatConnection, Link,
    epoch::{Epoch, Scope},
    history::FirstPage,
    link::backoff,
};

/// How a connection ended.
enum Outcome {
    /// The session is over.
    Over(EndReason),
    /// The server refused this token.
    Refused(String),
    /// No token to connect with: the loop has nothing to do.
    Stopped,
    /// The stream dropped; try again.
    Dropped { was_online: bool },
}

impl ChatConnection {
    /// Starts the connection loop for the current session.
    pub(super) fn connect(&self) {
        let (kick, wake) = unbounded();
        self.inner.update_value(|inner| inner.kick = Some(kick));
        spawn_local(self.run(self.epoch(), wake));
    }

    /// Whether a connection loop runs.
    pub(super) fn connecting(&self) -> bool {
        self.inner.with_value(|inner| inner.kick.is_some())
    }

    /// Wakes the connection loop when it waits to reconnect.
    pub(super) fn kick(&self) {
        self.inner.with_value(|inner| {
            if let Some(kick) = &inner.kick {
                // A closed channel means no loop is waiting: nothing to wake.
                let _ = kick.unbounded_send(());
            }
        });
    }

    /// Tells the agent whether the visitor is typing (only while connected).
    pub fn set_typing(&self, typing: bool) {
        self.inner.with_value(|inner| {
            if let Some(socket) = &inner.socket {
                socket.send(&VisitorFrame::Typing { typing });
            }
        });
    }

    /// The stream is down (for now): nobody types and nothing can be written to it.
    fn link_down(&self) {
        self.set.link.set(Link::Offline);
        self.set.agent_typing.set(None);
        self.inner.update_value(|inner| inner.socket = None);
    }

    async fn run(self, since: Epoch, mut wake: UnboundedReceiver<()>) {
        let mut attempt: u32 = 0;
        while self.still(since, Scope::Connection) {
            self.set.link.set(Link::Connecting);
            match self.connect_once(since).await {
                Outcome::Over(reason) => {
                    self.finish(reason);
                    return;
                }
                Outcome::Stopped => {
                    if self.still(since, Scope::Connection) {
                        self.inner.update_value(|inner| inner.kick = None);
                    }
                    return;
                }
                Outcome::Refused(token) => {
                    // A live chat goes back to the form; a persistent one waits for a new
                    // identity, which starts the loop again, unless one came meanwhile.
                    if self.token_refused(&token) {
                        if self.still(since, Scope::Connection) {
                            self.link_down();
                            self.inner.update_value(|inner| inner.kick = None);
                        }
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
            if !self.still(since, Scope::Connection) {
                return;
            }
            self.link_down();
            let delay = backoff(attempt);
            attempt = attempt.saturating_add(1);
            let timer = gloo_timers::future::sleep(delay);
            futures::future::select(Box::pin(timer), wake.next()).await;
        }
    }

    /// One connection: history if not loaded yet, then the stream until it drops.
    async fn connect_once(self, since: Epoch) -> Outcome {
        let Some(token) = self.token() else {
            return Outcome::Stopped;
        };
        match self.first_page(&token, since).await {
            FirstPage::Loaded => {}
            FirstPage::Stale | FirstPage::Unreachable => {
                return Outcome::Dropped { was_online: false };
            }
            FirstPage::Refused => return Outcome::Refused(token),
            FirstPage::Over(reason) => return Outcome::Over(reason),
        }
        let Some((frames, mut events)) =
            socket::open::<VisitorFrame, VisitorEvent>(&self.api().events_url())
        else {
            return Outcome::Dropped { was_online: false };
        };
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
        if !frames.send(&auth) {
            return Outcome::Dropped { was_online: false };
        }
        self.inner.update_value(|inner| inner.socket = Some(frames));
        let mut was_online = false;
        while let Some(event) = events.next().await {
            if !self.still(since, Scope::Connection) {
                return Outcome::Dropped { was_online };
            }
            match event {
                VisitorEvent::Ready { session } => {
                    was_online = true;
                    self.set.link.set(Link::Online);
                    // A live session that is over is reported by an error frame instead.
                    self.session_changed(session.as_ref());
                    spawn_local(self.flush());
                }
                VisitorEvent::Message { message } => self.receive(message, true),
                VisitorEvent::Typing { sender, typing } => {
                    if let Sender::Agent { name, .. } = sender {
                        self.set.agent_typing.set(typing.then_some(name));
                    }
                }
                VisitorEvent::Queue { queue } => self.set.queue.set(Some(queue)),
                VisitorEvent::Session { session } => {
                    if let Some(reason) = self.session_changed(Some(&session)) {
                        return Outcome::Over(reason);
                    }
                }
                VisitorEvent::Error { error } => {
                    return match (error.error, error.end_reason) {
                        (ErrorCode::IdentityExpired | ErrorCode::Unauthorized, _) => {
                            Outcome::Refused(token)
                        }
                        (ErrorCode::SessionEnded, Some(reason)) => Outcome::Over(reason),
                        _ => Outcome::Dropped { was_online },
                    };
                }
            }
        }
        Outcome::Dropped { was_online }
    }
}
