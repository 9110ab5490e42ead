//! The live inbox: loading it for the filters (only the latest load's answer counts), live
//! changes placed in it or taken out as the filters say, and what the agent has read.

use leptos::prelude::*;
use palaver_protocol::AgentSession;
use uuid::Uuid;

use super::Console;
use crate::{
    api::Words,
    inbox::{InboxChange, place},
};

impl Console {
    /// Loads the inbox for the current filters; an answer to an older load is dropped.
    pub fn load_inbox(&self) {
        let console = *self;
        let query = self
            .filters
            .with_untracked(|filters| filters.query(self.me_id()));
        let generation = self.inner.with_value(|inner| inner.inbox_generation + 1);
        self.inner.update_value(|inner| {
            inner.inbox_generation = generation;
            inner.inbox_backlog = Some(Vec::new());
        });
        self.inbox_loading.set(true);
        let api = self.api();
        self.spawn(async move {
            let result = api.sessions(&query).await;
            if console.inner.with_value(|inner| inner.inbox_generation) != generation {
                return;
            }
            let backlog = console
                .inner
                .try_update_value(|inner| inner.inbox_backlog.take())
                .flatten()
                .unwrap_or_default();
            console.inbox_loading.set(false);
            match result {
                Ok(rows) => {
                    console.rows.set(rows);
                    console.inbox_error.set(None);
                    for change in backlog {
                        match change {
                            InboxChange::Session(row) => console.place_row(*row),
                            InboxChange::Seq(session, seq) => console.raise_seq(session, seq),
                        }
                    }
                }
                Err(failure) => {
                    console.failed(&failure);
                    console.inbox_error.set(Some(failure.words("")));
                }
            }
        });
    }

    /// Puts a session that started or changed in the inbox, or out of it when the filters
    /// no longer show it.
    pub(super) fn place_row(&self, row: AgentSession) {
        let belongs = self
            .filters
            .with_untracked(|filters| filters.matches(&row, self.me_id()));
        self.rows.update(|rows| place(rows, row, belongs));
    }

    /// A row's newest message is now at least `seq`.
    pub(super) fn raise_seq(&self, session: Uuid, seq: i64) {
        self.rows.update(|rows| {
            if let Some(row) = rows.iter_mut().find(|row| row.session.id == session) {
                row.session.last_seq = row.session.last_seq.max(seq);
            }
        });
    }

    /// Remembers a live change for the inbox load under way, if one is.
    pub(super) fn backlog(&self, change: InboxChange) {
        self.inner.update_value(|inner| {
            if let Some(backlog) = &mut inner.inbox_backlog {
                backlog.push(change);
            }
        });
    }

    pub(super) fn mark_read(&self, session: Uuid, seq: i64) {
        let mut changed = false;
        self.seen
            .update(|seen| changed = seen.read_up_to(session, seq));
        if changed {
            self.seen.with_untracked(|seen| seen.save(self.me_id()));
        }
    }

    /// Whether a session has messages the agent has not seen.
    pub fn is_unread(&self, session: Uuid, last_seq: i64) -> bool {
        !self.main.is(session) && self.seen.with(|seen| seen.is_unread(session, last_seq))
    }
}
