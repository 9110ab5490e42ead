//! [`Route`]: which conversation is open, kept in the address's hash (`#/sessions/<id>`), so a
//! reload, a bookmark or a sign-in after an expiry opens the same one, and the browser's Back
//! button returns to the one before.

use leptos::prelude::*;
use uuid::Uuid;

const PREFIX: &str = "#/sessions/";

/// The open conversation, if any. Provided once by the app.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub open: RwSignal<Option<Uuid>>,
}

impl Route {
    /// Reads the address and follows its changes for as long as the calling component lives.
    pub fn follow_location() -> Self {
        let open = RwSignal::new(current());
        let listener = window_event_listener_untyped("hashchange", move |_| {
            let now = current();
            if open.get_untracked() != now {
                open.set(now);
            }
        });
        on_cleanup(move || listener.remove());
        Self { open }
    }

    /// Opens a conversation (`None`: none) and records it in the address.
    pub fn go(&self, session: Option<Uuid>) {
        if self.open.get_untracked() != session {
            self.open.set(session);
        }
        let hash = session.map(hash).unwrap_or_default();
        if current() != session {
            // A new history entry, so Back returns to the conversation before.
            let _ = window().location().set_hash(&hash);
        }
    }
}

/// The address hash for a session.
pub fn hash(session: Uuid) -> String {
    format!("{PREFIX}{session}")
}

/// The session the address names.
fn current() -> Option<Uuid> {
    let hash = window().location().hash().ok()?;
    parse(&hash)
}

fn parse(hash: &str) -> Option<Uuid> {
    Uuid::parse_str(hash.strip_prefix(PREFIX)?).ok()
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn the_hash_names_a_session_or_nothing() {
        let id = Uuid::new_v4();
        assert_eq!(parse(&hash(id)), Some(id));
        assert_eq!(parse(""), None);
        assert_eq!(parse("#/sessions/not-an-id"), None);
        assert_eq!(parse(&format!("#/other/{id}")), None);
    }
}
