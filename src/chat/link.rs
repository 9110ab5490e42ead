//! The event stream's state as the visitor sees it, the wait between reconnection attempts,
//! and the browser's signs that a retry should not wait: back online, or the page visible
//! again after a closed laptop or a background tab.

use std::{fmt, time::Duration};

use leptos::prelude::{document, window_event_listener_untyped};

use crate::i18n::Texts;

/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

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
/// returning at once after an outage do not arrive together.
pub(super) fn backoff(attempt: u32) -> Duration {
    jittered(attempt, js_sys::Math::random())
}

/// The wait for `attempt`, with `random` in `[0, 1)` taking up to half of it away.
fn jittered(attempt: u32, random: f64) -> Duration {
    let base = Duration::from_millis(500)
        .saturating_mul(2u32.saturating_pow(attempt.min(6)))
        .min(MAX_BACKOFF);
    base.mul_f64(0.5 + random / 2.0)
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn backoff_grows_to_its_ceiling_with_jitter() {
        for _ in 0..20 {
            let first = backoff(0);
            assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
            let late = backoff(20);
            assert!(late >= MAX_BACKOFF / 2 && late <= MAX_BACKOFF);
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn backoff_doubles_from_half_a_second_and_jitter_takes_at_most_half() {
        assert_eq!(jittered(0, 0.999_999).as_millis(), 499);
        assert_eq!(jittered(0, 0.0), Duration::from_millis(250));
        assert_eq!(jittered(3, 0.0), Duration::from_secs(2));
        assert_eq!(jittered(20, 0.0), MAX_BACKOFF / 2);
    }
}
