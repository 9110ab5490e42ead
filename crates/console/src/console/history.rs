//! Chat History: from the open conversation, every session of its contact, newest first;
//! any of them opens read-only beside the list.

use leptos::prelude::*;
use palaver_protocol::AgentSession;
use uuid::Uuid;

use super::{Console, SessionView};
use crate::api::Words;

/// Chat History: every session of the open conversation's contact.
#[derive(Debug, Clone, Copy)]
pub struct History {
    pub open: RwSignal<bool>,
    pub contact: RwSignal<Option<Uuid>>,
    /// Newest first; `None` while loading.
    pub rows: RwSignal<Option<Vec<AgentSession>>>,
    pub error: RwSignal<Option<String>>,
    /// A session opened from the list, read-only.
    pub view: SessionView,
}

impl Console {
    /// Opens Chat History for the open conversation's contact.
    pub fn open_history(&self) {
        let Some(contact) = self
            .main
            .session
            .with_untracked(|row| row.as_ref().map(|row| row.to.id))
        else {
            return;
        };
        let history = self.history;
        history.open.set(true);
        history.contact.set(Some(contact));
        history.rows.set(None);
        history.error.set(None);
        history.view.reset(None);
        let console = *self;
        let api = self.api();
        self.spawn(async move {
            let result = api.contact_sessions(contact).await;
            if history.contact.get_untracked() != Some(contact) {
                return;
            }
            match result {
                Ok(rows) => history.rows.set(Some(rows)),
                Err(failure) => {
                    console.failed(&failure);
                    history.error.set(Some(failure.words("")));
                    history.rows.set(Some(Vec::new()));
                }
            }
        });
    }

    pub fn close_history(&self) {
        if self.history.open.get_untracked() {
            self.history.open.set(false);
            self.history.contact.set(None);
            self.history.view.reset(None);
        }
    }

    /// Opens one session of Chat History, read-only (`None`: back to the list).
    pub fn view_in_history(&self, session: Option<Uuid>) {
        self.show(self.history.view, session);
    }
}
