//! Actions on the open conversation: join, set waiting, end, and its Regarding. Each answers
//! with the session as it then stands; a refusal is shown in words and the session fetched
//! again, since a refusal often means it changed meanwhile.

use leptos::prelude::*;
use palaver_protocol::AgentSession;
use uuid::Uuid;

use super::{Console, SessionView};
use crate::api::{Action, Api, ApiFailure, Words};

impl Console {
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
    pub(super) fn change<F>(&self, call: impl FnOnce(Api, Uuid) -> F + 'static, field: &'static str)
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
    pub(super) fn refused(&self, view: SessionView, failure: &ApiFailure, field: &str) {
        self.failed(failure);
        if failure.is_unauthorized() {
            return;
        }
        view.error.set(Some(failure.words(field)));
        self.refresh(view);
    }
}
