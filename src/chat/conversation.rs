//! Persistent mode: the signed-in visitor's one open conversation, on screen. The API and
//! the event stream always speak of the contact's open conversation. When an agent ends it
//! the transcript stays on screen, marked closed, and the visitor's next message starts a
//! fresh conversation, which replaces it on screen.

use leptos::{prelude::*, task::spawn_local};
use palaver_protocol::{EndReason, Session, SessionState};
use uuid::Uuid;

use super::{ChatConnection, ChatState};

impl ChatConnection {
    /// Whether a message of conversation `id` belongs on screen: in live mode every one; in
    /// persistent mode those of the conversation shown, or of a newer one, which replaces it.
    pub(super) fn on_screen(&self, id: Uuid) -> bool {
        !self.is_persistent() || self.show_conversation(id)
    }

    /// Makes conversation `id` the one on screen. Another one than shown replaces it: its
    /// messages leave the screen, while the outbox stays. Returns `false` for a conversation
    /// that was itself replaced.
    fn show_conversation(&self, id: Uuid) -> bool {
        let (shown, replaced) = self.inner.with_value(|inner| {
            (
                inner.identity.conversation,
                inner.identity.replaced.contains(&id),
            )
        });
        if replaced {
            return false;
        }
        if shown == Some(id) {
            return true;
        }
        self.inner.update_value(|inner| {
            if let Some(old) = shown {
                inner.identity.replaced.push(old);
            }
            inner.identity.conversation = Some(id);
        });
        self.set.messages.set(Default::default());
        self.set.has_older.set(false);
        self.set.agent_typing.set(None);
        self.update_state(ChatState::reopen_conversation);
        // What the page said the chat is about goes with the conversation it now shows.
        let (token, regarding) = self
            .inner
            .with_value(|inner| (inner.token.clone(), inner.regarding.clone()));
        if let (Some(token), Some(regarding)) = (token, regarding) {
            let api = self.api();
            spawn_local(async move {
                if let Err(failure) = api.set_regarding(&token, Some(regarding)).await {
                    leptos::logging::warn!("palaver: Regarding was not saved: {failure:?}");
                }
            });
        }
        true
    }

    /// The conversation the sign-in names, or `None` when the contact has no open one.
    pub(super) fn show_signed_in_conversation(&self, session: Option<&Session>) {
        match session {
            Some(session) => {
                let shown = self.inner.with_value(|inner| inner.identity.conversation);
                if self.show_conversation(session.id) {
                    if shown != Some(session.id) {
                        self.inner
                            .update_value(|inner| inner.history_loaded = false);
                    }
                    self.update_state(ChatState::reopen_conversation);
                }
            }
            None => {
                self.conversation_gone(None);
                self.inner.update_value(|inner| inner.history_loaded = true);
            }
        }
    }

    /// The conversation as the stream reports it: `None` when the contact has no open one.
    pub(super) fn follow(&self, session: Option<&Session>) {
        match session {
            Some(session) => {
                if !self.show_conversation(session.id) {
                    return;
                }
                if session.state == SessionState::Ended {
                    self.conversation_gone(session.end_reason);
                } else {
                    self.update_state(ChatState::reopen_conversation);
                }
            }
            None => self.conversation_gone(None),
        }
    }

    /// The conversation on screen is over; it stays on screen, marked closed, until the
    /// visitor's next message starts another. Nothing happens without one on screen (as in
    /// live mode).
    pub(super) fn conversation_gone(&self, reason: Option<EndReason>) {
        let shown = self
            .inner
            .with_value(|inner| inner.identity.conversation.is_some());
        let news = shown
            && self
                .set
                .state
                .try_update(ChatState::close_conversation)
                .unwrap_or(false);
        if !news {
            return;
        }
        self.set.agent_typing.set(None);
        // Its earlier pages are no longer the visitor's to read.
        self.set.has_older.set(false);
        self.emit("sessionEnded", &serde_json::json!({ "reason": reason }));
    }
}
