//! A live channel's session: resuming the stored one inside its window, the details form and
//! starting a session from it, the visitor ending the chat, and starting again after an end.
//! Also the page load itself, which finds out the channel's mode when no session is stored.

use std::collections::BTreeMap;

use leptos::{prelude::*, task::spawn_local};
use palaver_protocol::{ChannelInfo, ChannelMode, EndReason};

use super::{ChatConnection, ChatState, Outgoing, link::backoff};
use crate::{
    api::ApiFailure,
    session::{Details, StoredSession},
};

impl ChatConnection {
    /// On page load: resume the stored live session inside its window, or else start as the
    /// channel's mode says.
    pub(super) async fn resume(self) {
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
        self.set
            .outbox
            .set(stored.outbox().into_iter().map(Outgoing::new).collect());
        match self.api().session(&session.token).await {
            Ok(current) => {
                self.session_changed(Some(&current));
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
            Err(_) => {}
        }
        self.set.state.set(ChatState::chat());
        self.connect();
    }

    /// No live session to resume: a persistent channel signs the visitor in, any other shows
    /// the details form. The form never shows before the mode is known, since a persistent
    /// channel must never ask for details.
    async fn start_without_session(self) {
        let Some(info) = self.channel_info().await else {
            // An unknown or refused channel: the form, whose start then shows the server's
            // error.
            self.set.state.set(ChatState::form(None));
            return;
        };
        let persistent = info.mode == ChannelMode::Persistent;
        self.set.channel.set(Some(info));
        if persistent {
            self.start_persistent();
            spawn_local(self.watch_hours());
        } else {
            self.set.state.set(ChatState::form(None));
        }
    }

    /// The channel's settings, asked again with backoff while the server is unreachable;
    /// `None` when it refuses.
    async fn channel_info(&self) -> Option<ChannelInfo> {
        let channel_id = self.channel_id();
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

    /// Shows the details form, then asks the channel's settings (operating hours, whether
    /// email is required) for it.
    pub(super) async fn show_form(&self, reason: Option<EndReason>) {
        self.set.state.set(ChatState::form(reason));
        self.refresh_channel().await;
    }

    /// Starts a new session with the visitor's details.
    pub fn start(&self, details: Details) {
        let chat = *self;
        chat.update_state(ChatState::starting);
        spawn_local(async move {
            let (channel_id, regarding) = chat
                .inner
                .with_value(|inner| (inner.channel_id.clone(), inner.regarding.clone()));
            let result = chat
                .api()
                .start(&channel_id, &details.to_request(regarding))
                .await;
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
                    chat.set.messages.set(BTreeMap::new());
                    chat.set.outbox.set(Vec::new());
                    chat.set.has_older.set(false);
                    chat.session_changed(Some(&created.session));
                    chat.set.state.set(ChatState::chat());
                    chat.connect();
                }
                Err(ApiFailure::Refused { body, .. }) => {
                    chat.update_state(|state| state.start_failed(body.message, body.fields))
                }
                Err(ApiFailure::Unreachable) => {
                    let message = chat.texts().network_error.to_owned();
                    chat.update_state(|state| state.start_failed(message, BTreeMap::new()))
                }
            }
        });
    }

    /// Shows the form again after an ended chat, keeping the details for one click.
    pub fn new_chat(&self) {
        let reason = self.state.with_untracked(ChatState::ended_reason);
        self.set.messages.set(BTreeMap::new());
        self.set.outbox.set(Vec::new());
        let chat = *self;
        spawn_local(async move { chat.show_form(reason).await });
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
                Err(_) => chat.set.link.set(super::Link::Offline),
            }
        });
    }

    /// The chat is over: keep the transcript on screen, forget the session.
    pub(super) fn finish(&self, reason: EndReason) {
        let ended = self
            .set
            .state
            .try_update(|state| state.end(reason))
            .unwrap_or(false);
        if !ended {
            return;
        }
        self.forget_session();
        self.set.queue.set(None);
        self.set.agent_typing.set(None);
        self.emit("sessionEnded", &serde_json::json!({ "reason": reason }));
    }
}
