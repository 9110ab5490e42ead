//! [`Drafts`]: the replies an agent has typed but not sent, per session. They are kept in
//! memory and in localStorage, so neither an expired sign-in nor a reload loses a word: the
//! same conversation opens again with the text still in the reply box.
//!
//! A draft also remembers the id its last send went out with while the answer is unknown (the
//! network failed, or the sign-in expired meanwhile). Sending the same text again reuses it,
//! and the server then answers with the message it already has instead of a second one.

use std::collections::HashMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::storage;

/// A reply being written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub text: String,
    /// The id of a send of exactly this text whose outcome is unknown.
    pub client_msg_id: Option<String>,
}

/// Every draft of this browser, by agent and session. Provided once by the app, so that
/// drafts outlive the signed-in part of the console.
#[derive(Debug, Clone, Copy, Default)]
pub struct Drafts {
    held: RwSignal<HashMap<(Uuid, Uuid), Draft>>,
}

impl Drafts {
    fn name(agent: Uuid, session: Uuid) -> String {
        format!("draft:{agent}:{session}")
    }

    /// The agent's draft for the session (tracked), from memory or else from storage.
    pub fn get(&self, agent: Uuid, session: Uuid) -> Draft {
        self.held
            .with(|held| held.get(&(agent, session)).cloned())
            .unwrap_or_else(|| storage::read(&Self::name(agent, session)).unwrap_or_default())
    }

    fn put(&self, agent: Uuid, session: Uuid, draft: Draft) {
        let name = Self::name(agent, session);
        if draft == Draft::default() {
            storage::delete(&name);
        } else {
            storage::write(&name, &draft);
        }
        self.held.update(|held| {
            held.insert((agent, session), draft);
        });
    }

    /// The agent typed: the text is now `text`.
    pub fn set_text(&self, agent: Uuid, session: Uuid, text: String) {
        let draft = untrack(|| self.get(agent, session));
        // An edited text is another message: a send of it needs an id of its own.
        let client_msg_id = draft.client_msg_id.filter(|_| draft.text == text);
        self.put(
            agent,
            session,
            Draft {
                text,
                client_msg_id,
            },
        );
    }

    /// The id to send the draft's text with: the one of an earlier attempt at the same text,
    /// or a fresh one, kept with the draft until the server confirms.
    pub fn attempt(&self, agent: Uuid, session: Uuid) -> String {
        let draft = untrack(|| self.get(agent, session));
        if let Some(id) = draft.client_msg_id {
            return id;
        }
        let id = Uuid::new_v4().to_string();
        self.put(
            agent,
            session,
            Draft {
                text: draft.text,
                client_msg_id: Some(id.clone()),
            },
        );
        id
    }

    /// The reply went out: its draft is done.
    pub fn sent(&self, agent: Uuid, session: Uuid, client_msg_id: &str) {
        let draft = untrack(|| self.get(agent, session));
        // Only the text that was sent: a draft typed since then stays.
        if draft.client_msg_id.as_deref() == Some(client_msg_id) {
            self.put(agent, session, Draft::default());
        }
    }

    /// The server refused the send: a later one of the same text is a new attempt.
    pub fn refused(&self, agent: Uuid, session: Uuid) {
        let draft = untrack(|| self.get(agent, session));
        self.put(
            agent,
            session,
            Draft {
                text: draft.text,
                client_msg_id: None,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn a_draft_outlives_the_page_and_belongs_to_its_agent_and_session() {
        let (agent, session) = (Uuid::new_v4(), Uuid::new_v4());
        let owner = Owner::new();
        owner.with(|| {
            Drafts::default().set_text(agent, session, "Your order left today".into());
        });
        // Another page view: nothing in memory, the text comes from storage.
        Owner::new().with(|| {
            let drafts = Drafts::default();
            assert_eq!(drafts.get(agent, session).text, "Your order left today");
            assert_eq!(drafts.get(Uuid::new_v4(), session), Draft::default());
            assert_eq!(drafts.get(agent, Uuid::new_v4()), Draft::default());
        });
    }

    #[wasm_bindgen_test]
    fn sending_the_same_text_again_reuses_its_id_and_an_edit_gets_a_new_one() {
        let (agent, session) = (Uuid::new_v4(), Uuid::new_v4());
        Owner::new().with(|| {
            let drafts = Drafts::default();
            drafts.set_text(agent, session, "Hello".into());
            let first = drafts.attempt(agent, session);
            assert_eq!(drafts.attempt(agent, session), first, "a retry");

            drafts.set_text(agent, session, "Hello!".into());
            let edited = drafts.attempt(agent, session);
            assert_ne!(edited, first);

            drafts.sent(agent, session, &first);
            assert_eq!(drafts.get(agent, session).text, "Hello!", "not that text");
            drafts.sent(agent, session, &edited);
            assert_eq!(drafts.get(agent, session), Draft::default());
        });
    }
}
