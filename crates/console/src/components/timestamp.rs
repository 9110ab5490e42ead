//! A date-time on screen: the agent's local time as text, the UTC value in `datetime`, and
//! the UTC date-time on hover.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::time::{Length, iso, local, utc_title};

/// `<time datetime="2026-11-23T10:00:00Z" title="2026-11-23 10:00 UTC">23 Nov, 11:00</time>`.
#[component]
pub fn Timestamp(
    /// The instant.
    at: DateTime<Utc>,
    /// How much of it to show; short by default.
    #[prop(optional)]
    long: bool,
) -> impl IntoView {
    let length = if long { Length::Long } else { Length::Short };
    view! {
        <time datetime=iso(at) title=utc_title(at)>
            {local(at, length)}
        </time>
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::test_support::mount_view;

    #[wasm_bindgen_test]
    fn a_time_carries_its_utc_value_and_says_it_on_hover() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
            .single()
            .expect("a valid date");
        let node = mount_view(move || view! { <Timestamp at long=true /> });
        let time = node
            .query_selector("time")
            .expect("a valid selector")
            .expect("a <time> element");
        assert_eq!(
            time.get_attribute("datetime").as_deref(),
            Some("2026-11-23T10:00:00Z")
        );
        assert_eq!(
            time.get_attribute("title").as_deref(),
            Some("2026-11-23 10:00 UTC")
        );
        assert_eq!(
            time.text_content().unwrap_or_default(),
            local(at, Length::Long)
        );
        node.remove();
    }
}
