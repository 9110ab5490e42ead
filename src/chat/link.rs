//! The event stream's state as the visitor sees it (the client crate's [`Link`], shared with
//! the console; the widget words it in [`crate::i18n`]), the wait between reconnection
//! attempts, and the browser's signs that a retry should not wait: back online, or the page
//! visible again after a closed laptop or a background tab.

use leptos::prelude::{document, window_event_listener_untyped};
pub use palaver_client::Link;

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
