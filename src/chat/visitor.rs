//! The host page's say over the visitor: `Palaver.reset()` forgets them entirely (a shared
//! computer, a sign-out), and `Palaver.setRegarding(text)` names what the chat is about.

use std::collections::BTreeMap;

use leptos::{prelude::*, task::spawn_local};
use palaver_protocol::ErrorCode;

use super::{ChatConnection, ChatState, epoch::Scope};

impl ChatConnection {
    /// `Palaver.reset()`: forget the visitor entirely, then show an empty form, or on a
    /// persistent channel wait for a new identity.
    pub fn reset(&self) {
        self.forget_visitor();
        self.inner.update_value(|inner| {
            inner.regarding = None;
            inner.identity.sign_out();
        });
        if self.is_persistent() {
            self.start_persistent();
        } else if self.channel.with_untracked(Option::is_some)
            || self
                .state
                .with_untracked(|state| *state != ChatState::Loading)
        {
            // Through `Loading`, so that a form on screen is rebuilt empty rather than keep
            // what was typed into it.
            self.set.state.set(ChatState::Loading);
            let chat = *self;
            spawn_local(async move {
                leptos::task::tick().await;
                chat.show_form(None).await
            });
        }
        // Otherwise the page is still finding out the channel's mode, and goes on to the form
        // or the sign-in with nothing of the visitor left.
    }

    /// Drops everything known about the visitor, in memory and in this browser's storage,
    /// and stops the connection; the page's settings (Regarding, the channel) stay.
    pub(super) fn forget_visitor(&self) {
        self.forget_session();
        self.stored().forget_everything();
        self.inner.update_value(|inner| {
            inner.epoch.advance(Scope::Visitor);
            inner.identity.forget_visitor();
        });
        self.set.messages.set(BTreeMap::new());
        self.set.outbox.set(Vec::new());
        self.set.has_older.set(false);
        self.set.queue.set(None);
        self.set.agent_typing.set(None);
        self.set.unread.set(0);
        self.set.announcement.set(String::new());
        self.update_state(ChatState::forget);
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
                    // next one (see `conversation::show_conversation`).
                    Err(failure) if failure.code() == Some(ErrorCode::NoConversation) => {}
                    Err(failure) => {
                        leptos::logging::warn!("palaver: Regarding was not saved: {failure:?}")
                    }
                }
            });
        }
    }
}
