//! What the widget keeps in the host page's localStorage, under keys namespaced by channel
//! (`palaver:{channel}:…`), since the storage belongs to the site, not to the widget:
//! the session token and window (to resume), the visitor's details (to start again in one
//! click) and the outbox (messages typed but not yet confirmed, so a reload loses none).
//!
//! A persistent channel keeps less: its bearer token lives in memory only (a fresh identity
//! token from the site replaces it on every visit), so it stores just the outbox and the id of
//! the contact it belongs to, which tells a change of person on a shared computer.

use gloo_storage::{LocalStorage, Storage};
use palaver_protocol::{Session, StartSession};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The session this browser holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSession {
    pub token: String,
    pub session_id: Uuid,
    /// When the window closes, in milliseconds since the epoch; `None` without a window.
    pub ends_at_ms: Option<i64>,
}

impl StoredSession {
    pub fn new(token: String, session: &Session) -> Self {
        Self {
            token,
            session_id: session.id,
            ends_at_ms: session.ends_at.map(|at| at.timestamp_millis()),
        }
    }

    /// Whether the window is still open at `now_ms`. The server has the last word; this
    /// only spares a request for a session that is certainly over.
    pub fn is_current(&self, now_ms: f64) -> bool {
        self.ends_at_ms.is_none_or(|ends| (ends as f64) > now_ms)
    }
}

/// The details the visitor gave, kept for a one-click new chat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    pub name: String,
    pub phone: String,
    pub email: String,
}

impl Details {
    pub fn to_request(&self, regarding: Option<String>) -> StartSession {
        StartSession {
            name: self.name.clone(),
            phone: self.phone.clone(),
            email: Some(self.email.clone()).filter(|email| !email.trim().is_empty()),
            regarding,
        }
    }
}

/// A message typed but not yet confirmed by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub client_msg_id: String,
    pub body: String,
}

/// The widget's corner of localStorage for one channel.
#[derive(Debug, Clone)]
pub struct Stored {
    channel: String,
}

impl Stored {
    pub fn new(channel: &str) -> Self {
        Self {
            channel: channel.to_owned(),
        }
    }

    fn key(&self, what: &str) -> String {
        format!("palaver:{}:{what}", self.channel)
    }

    fn read<T: for<'de> Deserialize<'de>>(&self, what: &str) -> Option<T> {
        LocalStorage::get(self.key(what)).ok()
    }

    fn write<T: Serialize>(&self, what: &str, value: &T) {
        // Storage can be full or disabled (private modes): the chat still works for this
        // page view, it just will not resume.
        if let Err(error) = LocalStorage::set(self.key(what), value) {
            leptos::logging::warn!("palaver: could not save {what}: {error}");
        }
    }

    pub fn session(&self) -> Option<StoredSession> {
        self.read("session")
    }

    pub fn save_session(&self, session: &StoredSession) {
        self.write("session", session);
    }

    /// Forgets the session and its outbox, keeping the details for a new chat.
    pub fn clear_session(&self) {
        LocalStorage::delete(self.key("session"));
        LocalStorage::delete(self.key("outbox"));
    }

    pub fn details(&self) -> Option<Details> {
        self.read("details")
    }

    pub fn save_details(&self, details: &Details) {
        self.write("details", details);
    }

    pub fn outbox(&self) -> Vec<Pending> {
        self.read("outbox").unwrap_or_default()
    }

    pub fn save_outbox(&self, outbox: &[Pending]) {
        if outbox.is_empty() {
            LocalStorage::delete(self.key("outbox"));
        } else {
            self.write("outbox", &outbox);
        }
    }

    /// The persistent-mode contact whose outbox this browser holds.
    pub fn contact(&self) -> Option<Uuid> {
        self.read("contact")
    }

    pub fn save_contact(&self, contact: Uuid) {
        self.write("contact", &contact);
    }

    /// Removes every trace of the visitor (`Palaver.reset()`, a change of person on a shared
    /// computer): every key of the channel's namespace, whichever version of the widget wrote
    /// it.
    pub fn forget_everything(&self) {
        let prefix = self.key("");
        let storage = LocalStorage::raw();
        let keys: Vec<String> = (0..storage.length().unwrap_or(0))
            .filter_map(|index| storage.key(index).ok().flatten())
            .filter(|key| key.starts_with(&prefix))
            .collect();
        for key in keys {
            LocalStorage::delete(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn a_session_is_current_until_its_window_closes() {
        let session = StoredSession {
            token: "t".into(),
            session_id: Uuid::nil(),
            ends_at_ms: Some(1_000),
        };
        assert!(session.is_current(999.0));
        assert!(!session.is_current(1_000.0));
    }

    #[wasm_bindgen_test]
    fn everything_is_namespaced_by_channel_and_reset_forgets_it_all() {
        let one = Stored::new("test-one");
        let other = Stored::new("test-other");
        let details = Details {
            name: "Grace".into(),
            phone: "020 7946 0958".into(),
            email: String::new(),
        };
        one.save_details(&details);
        one.save_outbox(&[Pending {
            client_msg_id: "c1".into(),
            body: "hi".into(),
        }]);
        assert_eq!(one.details(), Some(details));
        assert_eq!(other.details(), None);
        assert!(
            LocalStorage::raw()
                .get_item("palaver:test-one:details")
                .ok()
                .flatten()
                .is_some(),
            "stored under the channel's namespace"
        );

        one.forget_everything();
        assert_eq!(one.details(), None);
        assert!(one.outbox().is_empty());
    }

    #[wasm_bindgen_test]
    fn forgetting_a_visitor_removes_every_key_of_the_channel_and_no_other() {
        let storage = LocalStorage::raw();
        let set = |key: &str| storage.set_item(key, "1").expect("storage works");
        let contact = Uuid::new_v4();
        let members = Stored::new("test-members");
        members.save_contact(contact);
        set("palaver:test-members:outbox");
        set("palaver:test-members:written-by-a-later-version");
        set("palaver:test-members-two:outbox");
        set("the-sites-own-key");
        assert_eq!(members.contact(), Some(contact));

        members.forget_everything();
        let left = |key: &str| storage.get_item(key).ok().flatten().is_some();
        assert_eq!(members.contact(), None);
        assert!(!left("palaver:test-members:outbox"));
        assert!(!left("palaver:test-members:written-by-a-later-version"));
        assert!(
            left("palaver:test-members-two:outbox"),
            "another channel's key"
        );
        assert!(left("the-sites-own-key"), "the host page's own key");
        storage
            .remove_item("palaver:test-members-two:outbox")
            .expect("storage works");
        storage
            .remove_item("the-sites-own-key")
            .expect("storage works");
    }
}
