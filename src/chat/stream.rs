//! The connection loop: history if it is not loaded yet, then the event stream, opened with
//! the last sequence number held so that the server sends exactly what was missed. A dropped
//! stream is retried with backoff, or at once when the browser wakes the loop.
//!
//! The loop is the client crate's `reconnect::keep_connected`, shared with the console, and
//! the socket its typed [`socket::open`]. The loop belongs to the [`Epoch`] it started in: it
//! ends as soon as its [`Scope::Connection`] has moved on (a reset, a new identity), without
//! showing "connecting" once more, and a refused persistent token is tried again when a
//! newer one came meanwhile.

use futures::FutureExt;
use leptos::{prelude::*, task::spawn_local};
use palaver_client::{
    reconnect::{Ended, keep_connected},
    socket,
};
use palaver_protocol::{
    EndReason, ErrorCode, Sender,
    frames::{VisitorEvent, VisitorFrame},
};

use super::{
    ChatConnection, Link,
    epoch::{Epoch, Scope},
    history::FirstPage,
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
        let pause = self.inner.with_value(|inner| inner.wake_up.start());
        let since = self.epoch();
        let chat = *self;
        spawn_local(keep_connected(
            self.set.link,
            pause,
            move || chat.still(since, Scope::Connection),
            move || {
                chat.follow_stream(since)
                    .map(move |outcome| chat.ended(since, outcome))
            },
        ));
    }

    /// Whether a connection loop runs.
    pub(super) fn connecting(&self) -> bool {
        self.inner.with_value(|inner| inner.wake_up.is_running())
    }

    /// Wakes the connection loop when it waits to reconnect.
    pub(super) fn kick(&self) {
        self.inner.with_value(|inner| inner.wake_up.wake());
    }

    /// Tells the agent whether the visitor is typing (only while connected).
    pub fn set_typing(&self, typing: bool) {
        self.inner.with_value(|inner| {
            if let Some(socket) = &inner.socket {
                socket.send(&VisitorFrame::Typing { typing });
            }
        });
    }

    /// The stream is down (for now): nobody types and nothing can be written to it. The
    /// loop shows the link offline.
    fn stream_down(&self) {
        self.set.agent_typing.set(None);
        self.inner.update_value(|inner| inner.socket = None);
    }

    /// What the end of one connection means for the loop.
    fn ended(self, since: Epoch, outcome: Outcome) -> Ended {
        let current = |chat: &Self| chat.still(since, Scope::Connection);
        match outcome {
            Outcome::Over(reason) => {
                self.finish(reason);
                Ended::Stop
            }
            Outcome::Stopped => {
                if current(&self) {
                    self.inner.with_value(|inner| inner.wake_up.stop());
                }
                Ended::Stop
            }
            // A live chat goes back to the form; a persistent one waits for a new identity,
            // which starts the loop again, unless one came meanwhile: that one is tried after
            // the shortest wait.
            Outcome::Refused(token) => {
                let refused = self.token_refused(&token);
                if current(&self) {
                    self.stream_down();
                    if refused {
                        self.set.link.set(Link::Offline);
                        self.inner.with_value(|inner| inner.wake_up.stop());
                    }
                }
                if refused {
                    Ended::Stop
                } else {
                    Ended::Dropped { was_online: true }
                }
            }
            Outcome::Dropped { was_online } => {
                if current(&self) {
                    self.stream_down();
                }
                Ended::Dropped { was_online }
            }
        }
    }

    /// One connection: history if not loaded yet, then the stream until it drops.
    async fn follow_stream(self, since: Epoch) -> Outcome {
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
