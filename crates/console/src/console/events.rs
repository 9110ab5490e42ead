//! What the event stream (and a reply's or an action's answer) brings: a session that
//! started or changed, and a message in any session, each put wherever it shows.

use leptos::prelude::*;
use palaver_protocol::{AgentSession, Message, Sender};

use super::Console;
use crate::inbox::InboxChange;
use crate::inbox::place;

impl Console {
    /// A session started or changed.
    pub(super) fn on_session(&self, row: AgentSession) {
        let id = row.session.id;
        for view in [self.main, self.history.view] {
            if view.is(id) {
                view.session.set(Some(row.clone()));
            }
        }
        if self.history.contact.get_untracked() == Some(row.to.id) {
            self.history.rows.update(|rows| {
                if let Some(rows) = rows {
                    place(rows, row.clone(), true);
                }
            });
        }
        self.backlog(InboxChange::Session(Box::new(row.clone())));
        self.place_row(row);
    }

    /// A message in any session.
    pub(super) fn on_message(&self, message: Message) {
        let id = message.session_id;
        let seq = message.seq;
        self.raise_seq(id, seq);
        self.backlog(InboxChange::Seq(id, seq));
        if self.main.is(id) {
            if message.sender == Sender::Visitor {
                self.main.visitor_typing.set(false);
            }
            self.mark_read(id, seq);
        } else {
            let mut changed = false;
            self.seen
                .update(|seen| changed = seen.arrived(&message, self.me_id()));
            if changed {
                self.seen.with_untracked(|seen| seen.save(self.me_id()));
            }
        }
        for view in [self.main, self.history.view] {
            if view.is(id) {
                view.transcript.update(|transcript| {
                    transcript.insert(message.clone());
                });
            }
        }
    }
}
