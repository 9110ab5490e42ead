//! How long to wait before trying again: [`Backoff`], 0.5 s doubling up to 30 s, each wait
//! jittered down to half, so that many browsers coming back after an outage do not all
//! arrive at the same moment.

use std::time::Duration;

/// The first wait's ceiling, in milliseconds.
const FIRST_MS: u64 = 500;

/// The longest wait: long enough to spare a server that is coming back, short enough that a
/// person waiting sees the chat return within half a minute.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The ceiling of wait number `attempt` (from 0), before jitter: 0.5 s, 1 s, 2 s… up to
/// [`MAX_BACKOFF`].
pub fn ceiling(attempt: u32) -> Duration {
    // Doubling stops at 2^6 (32 s), past the maximum anyway, so the shift never overflows
    // (and, unlike multiplying a `Duration`, brings no panic path into the apps).
    Duration::from_millis(FIRST_MS << attempt.min(6)).min(MAX_BACKOFF)
}

/// The wait before attempt `attempt` (from 0): between half of [`ceiling`] and all of it.
pub fn backoff(attempt: u32) -> Duration {
    ceiling(attempt).mul_f64(0.5 + js_sys::Math::random() / 2.0)
}

/// The waits of one series of attempts. Starts at the first; [`Backoff::reset`] after a
/// success starts over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    /// The next wait, counting one more attempt.
    pub fn next_wait(&mut self) -> Duration {
        let wait = backoff(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        wait
    }

    /// Attempts that failed since the last success.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// It worked: the next failure waits the shortest time again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn reconnection_waits_double_from_half_a_second_up_to_thirty_each_jittered_down_to_half() {
        for (attempt, ceiling) in [(0, 500), (1, 1_000), (3, 4_000), (6, 30_000), (60, 30_000)] {
            for _ in 0..10 {
                let wait = backoff(attempt).as_millis();
                assert!(
                    (ceiling / 2..=ceiling).contains(&wait),
                    "attempt {attempt} waits {wait} ms"
                );
            }
        }
    }

    #[wasm_bindgen_test]
    fn backoff_grows_to_its_ceiling_with_jitter() {
        for _ in 0..20 {
            let first = backoff(0);
            assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
            let late = backoff(20);
            assert!(late >= MAX_BACKOFF / 2 && late <= MAX_BACKOFF);
        }
    }

    #[wasm_bindgen_test]
    fn a_series_of_waits_grows_and_starts_over_after_a_success() {
        let mut waits = Backoff::default();
        for attempt in 0..8 {
            let wait = waits.next_wait();
            assert!(wait <= ceiling(attempt) && wait >= ceiling(attempt) / 2);
        }
        assert_eq!(waits.attempts(), 8);
        assert_eq!(ceiling(u32::MAX), MAX_BACKOFF);
        waits.reset();
        assert!(waits.next_wait() <= Duration::from_millis(FIRST_MS));
    }
}
