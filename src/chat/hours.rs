//! Operating hours: while a persistent channel's agents are away, the widget asks for the
//! channel's settings again when they are due back, so the away notice leaves on time.

use std::time::Duration;

use super::ChatConnection;

/// Browsers run a timer at once when asked for more than 2^31 - 1 ms (about 24.8 days), so
/// long waits sleep in slices.
const LONGEST_TIMER_MS: f64 = 86_400_000.0;

/// Sleeps `ms` milliseconds, however long.
pub(super) async fn sleep_ms(mut ms: f64) {
    while ms > 0.0 {
        let slice = ms.min(LONGEST_TIMER_MS);
        gloo_timers::future::sleep(Duration::from_millis(slice as u64)).await;
        ms -= slice;
    }
}

impl ChatConnection {
    /// While agents are away, asks for the channel's settings again when they are due back.
    pub(super) async fn watch_hours(self) {
        loop {
            let back = self.channel.with_untracked(|channel| {
                channel
                    .as_ref()
                    .filter(|channel| !channel.open)
                    .and_then(|channel| channel.next_open_at)
            });
            let Some(back) = back else {
                return;
            };
            // At least a minute apart, whatever the clocks say.
            let wait =
                (back.timestamp_millis() as f64 - js_sys::Date::now() + 1_000.0).max(60_000.0);
            sleep_ms(wait).await;
            self.refresh_channel().await;
        }
    }
}
