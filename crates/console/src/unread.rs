//! [`Seen`]: what an agent has read of each session, so the inbox can mark the ones with news.
//! A message that arrives in a session the agent does not have open marks it unread; opening
//! it clears the mark. The record is kept per agent in localStorage, so marks survive a
//! reload, and a session that moved on while the console was closed shows its news too.

use palaver_protocol::{Message, Sender};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::storage;

/// How many sessions are remembered; the least recently touched are forgotten first.
const REMEMBERED: usize = 500;

/// The last sequence number the agent has seen, per session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// Least recently touched first.
    entries: Vec<(Uuid, i64)>,
}

impl Seen {
    /// The agent's record, as kept in this browser.
    pub fn load(agent: Uuid) -> Self {
        storage::read(&Self::name(agent)).unwrap_or_default()
    }

    pub fn save(&self, agent: Uuid) {
        storage::write(&Self::name(agent), self);
    }

    fn name(agent: Uuid) -> String {
        format!("seen:{agent}")
    }

    fn seen(&self, session: Uuid) -> Option<i64> {
        self.entries
            .iter()
            .find(|(id, _)| *id == session)
            .map(|&(_, seq)| seq)
    }

    /// Whether the session, whose newest message is `last_seq`, has messages the agent has
    /// not seen. A session the agent has never been told about has none.
    pub fn is_unread(&self, session: Uuid, last_seq: i64) -> bool {
        self.seen(session).is_some_and(|seen| last_seq > seen)
    }

    /// The agent has seen the session up to `seq` (they have it open). Returns whether the
    /// record changed.
    pub fn read_up_to(&mut self, session: Uuid, seq: i64) -> bool {
        let seen = self.seen(session);
        if seen.is_some_and(|seen| seen >= seq) {
            return false;
        }
        self.set(session, seq);
        true
    }

    /// A message arrived in a session the agent does not have open. Their own messages (sent
    /// from another tab) are not news: they keep a read session read. Returns whether the
    /// record changed.
    pub fn arrived(&mut self, message: &Message, me: Uuid) -> bool {
        let mine = matches!(message.sender, Sender::Agent { id, .. } if id == me);
        match self.seen(message.session_id) {
            Some(seen) if mine && seen == message.seq - 1 => {
                self.set(message.session_id, message.seq);
                true
            }
            Some(_) => false,
            None if mine => false,
            None => {
                self.set(message.session_id, message.seq - 1);
                true
            }
        }
    }

    fn set(&mut self, session: Uuid, seq: i64) {
        self.entries.retain(|(id, _)| *id != session);
        self.entries.push((session, seq));
        let excess = self.entries.len().saturating_sub(REMEMBERED);
        self.entries.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::test_support::message;

    #[wasm_bindgen_test]
    fn a_visitors_message_in_a_closed_session_marks_it_until_it_is_opened() {
        let me = Uuid::new_v4();
        let session = Uuid::new_v4();
        let mut seen = Seen::default();
        assert!(!seen.is_unread(session, 4), "nothing was said of it yet");

        seen.arrived(&message(session, 5, Sender::Visitor, "anyone there?"), me);
        assert!(seen.is_unread(session, 5));
        seen.arrived(&message(session, 6, Sender::Visitor, "hello?"), me);
        assert!(seen.is_unread(session, 6), "still unread after more news");

        seen.read_up_to(session, 6);
        assert!(!seen.is_unread(session, 6), "opening it clears the mark");
        assert!(
            seen.is_unread(session, 7),
            "the next message marks it again"
        );
    }

    #[wasm_bindgen_test]
    fn the_agents_own_messages_are_not_news() {
        let me = Uuid::new_v4();
        let session = Uuid::new_v4();
        let mine = Sender::Agent {
            id: me,
            name: "Ada".into(),
        };
        let mut seen = Seen::default();
        seen.arrived(&message(session, 1, mine.clone(), "sent elsewhere"), me);
        assert!(!seen.is_unread(session, 1));

        seen.read_up_to(session, 1);
        seen.arrived(&message(session, 2, mine.clone(), "again"), me);
        assert!(!seen.is_unread(session, 2), "a read session stays read");

        seen.arrived(&message(session, 3, Sender::Visitor, "thanks"), me);
        seen.arrived(&message(session, 4, mine, "you're welcome"), me);
        assert!(
            seen.is_unread(session, 4),
            "replying elsewhere does not hide the visitor's unread message"
        );
    }

    #[wasm_bindgen_test]
    fn marks_survive_a_reload_for_the_same_agent_only() {
        let me = Uuid::new_v4();
        let session = Uuid::new_v4();
        let mut seen = Seen::default();
        seen.arrived(&message(session, 2, Sender::Visitor, "hi"), me);
        seen.save(me);

        assert!(Seen::load(me).is_unread(session, 2));
        // News that came while the console was closed.
        let mut reloaded = Seen::load(me);
        reloaded.read_up_to(session, 2);
        assert!(reloaded.is_unread(session, 3));
        assert!(!Seen::load(Uuid::new_v4()).is_unread(session, 2));
    }

    #[wasm_bindgen_test]
    fn the_record_keeps_the_most_recently_touched_sessions() {
        let first = Uuid::new_v4();
        let mut seen = Seen::default();
        seen.read_up_to(first, 1);
        for _ in 0..REMEMBERED {
            seen.read_up_to(Uuid::new_v4(), 1);
        }
        assert_eq!(seen.entries.len(), REMEMBERED);
        assert!(seen.seen(first).is_none(), "the oldest went first");
    }
}
