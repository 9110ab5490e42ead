//! The event stream's state as the visitor sees it, the wait between reconnection attempts,
//! and the browser's signs that a retry should not wait: back online, or the page visible
//! again after a closed laptop or a background tab.

use std::fmt;

use leptos::prelude::{document, window_event_listener_untyped};

use crate::i18n::Texts;

/// The state of the event stream, as the visitor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Online,
    /// Disconnected; retrying in the background.
    Offline,
}

impl LinkState {
    pub fn describe(self, texts: &Texts) -> &'static str {
        match self {
            Self::Connecting => texts.connecting,
            Self::Online => texts.online,
            Self::Offline => texts.offline,
        }
    }
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connecting => "connecting",
            Self::Online => "online",
            Self::Offline => "offline",
        })
    }
}

/// Calls `wake` whenever the browser comes back online or the page becomes visible, for the
/// rest of the page's life.
pub(super) fn on_wake_up(wake: impl Fn() + Clone + 'static) {
    let online = wake.clone();
    window_event_listener_untyped("online", move |_| online());
    window_event_listener_untyped("visibilitychange", move |_| {
        if document().visibility_state() == web_sys::VisibilityState::Visible {
            wake();
        }
    });
}

/// 0.5 s doubling up to 30 s, each wait jittered down to half, so that many widgets
/// returning at once after an outage do not arrive together (the client crate's, shared
/// with the console).
pub(super) use palaver_client::backoff::backoff;
