//! [`Link`]: the state of a live connection to the server, as a person is shown it.

use std::fmt;

/// The state of the event stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Link {
    /// Opening the stream (the first time, or again after a drop).
    #[default]
    Connecting,
    /// The server accepted the stream: what arrives is live.
    Online,
    /// Disconnected; retrying in the background.
    Offline,
}

impl Link {
    /// Whether events arrive live.
    pub fn is_online(self) -> bool {
        self == Self::Online
    }
}

/// A stable lowercase name (`connecting`, `online`, `offline`), for a `data-state` attribute
/// or a log line; each app words it for people in its own language.
impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connecting => "connecting",
            Self::Online => "online",
            Self::Offline => "offline",
        })
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn a_link_starts_connecting_and_names_itself_in_lowercase() {
        assert_eq!(Link::default(), Link::Connecting);
        let names: Vec<String> = [Link::Connecting, Link::Online, Link::Offline]
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["connecting", "online", "offline"]);
        assert!(Link::Online.is_online());
        assert!(!Link::Offline.is_online());
    }
}
