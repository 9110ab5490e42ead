//! [`Transcript`]: one session's messages, each once, in sequence order, whichever way they
//! arrived (a history page, a reply's answer, the live stream, a catch-up after a reconnect).
//! Its [`Transcript::last_seq`] is what a reconnect names to catch up on exactly what it
//! missed.

use std::collections::BTreeMap;

use palaver_protocol::Message;
use uuid::Uuid;

/// The messages held of one session, keyed by their sequence number.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    session: Option<Uuid>,
    messages: BTreeMap<i64, Message>,
}

impl Transcript {
    /// An empty transcript that takes only `session`'s messages.
    pub fn of(session: Uuid) -> Self {
        Self {
            session: Some(session),
            messages: BTreeMap::new(),
        }
    }

    /// Takes a message in; one of another session, or one already held, changes nothing.
    /// Returns whether it was new.
    pub fn insert(&mut self, message: Message) -> bool {
        if self.session != Some(message.session_id) || self.messages.contains_key(&message.seq) {
            return false;
        }
        self.messages.insert(message.seq, message);
        true
    }

    /// Takes in a page or any batch; returns whether any message was new.
    pub fn extend(&mut self, messages: impl IntoIterator<Item = Message>) -> bool {
        let mut any = false;
        for message in messages {
            any |= self.insert(message);
        }
        any
    }

    /// The oldest sequence number held, for loading earlier pages.
    pub fn first_seq(&self) -> Option<i64> {
        self.messages.keys().next().copied()
    }

    /// The newest sequence number held, 0 when none: a catch-up asks for what comes after.
    pub fn last_seq(&self) -> i64 {
        self.messages.keys().next_back().copied().unwrap_or(0)
    }

    /// The messages in sequence order.
    pub fn messages(&self) -> impl Iterator<Item = &Message> {
        self.messages.values()
    }

    /// The session whose messages it takes, if any.
    pub fn session(&self) -> Option<Uuid> {
        self.session
    }

    /// How many messages it holds.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether it holds no message.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use palaver_protocol::Sender;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::testing::message;

    fn bodies(transcript: &Transcript) -> Vec<&str> {
        transcript
            .messages()
            .map(|message| message.body.as_str())
            .collect()
    }

    #[wasm_bindgen_test]
    fn messages_read_in_sequence_order_whatever_order_they_arrive_in() {
        let session = Uuid::new_v4();
        let mut transcript = Transcript::of(session);
        // A live message overtakes the history page it belongs after.
        transcript.insert(message(session, 3, Sender::Visitor, "third"));
        transcript.extend([
            message(session, 1, Sender::System, "first"),
            message(session, 2, Sender::Visitor, "second"),
        ]);
        assert_eq!(bodies(&transcript), ["first", "second", "third"]);
        assert_eq!(
            (transcript.first_seq(), transcript.last_seq()),
            (Some(1), 3)
        );
    }

    #[wasm_bindgen_test]
    fn a_message_that_arrives_twice_shows_once() {
        let session = Uuid::new_v4();
        let mut transcript = Transcript::of(session);
        let reply = message(session, 1, Sender::Visitor, "hello");
        assert!(transcript.insert(reply.clone()));
        // The stream replays it after a reconnect, and a catch-up page holds it again.
        assert!(!transcript.insert(reply.clone()));
        assert!(!transcript.extend([reply]));
        assert_eq!(bodies(&transcript), ["hello"]);
    }

    #[wasm_bindgen_test]
    fn another_sessions_messages_stay_out() {
        let session = Uuid::new_v4();
        let mut transcript = Transcript::of(session);
        assert!(!transcript.insert(message(Uuid::new_v4(), 1, Sender::Visitor, "elsewhere")));
        assert!(transcript.is_empty());
        assert_eq!(transcript.last_seq(), 0);
        assert!(!Transcript::default().insert(message(session, 1, Sender::Visitor, "none")));
    }
}
