//! Date-times as agents read them. The server keeps every time in UTC; the console shows it in
//! the agent's own time zone (the browser's), keeps the UTC value in the `<time datetime>`
//! attribute for machines, and names it in UTC on hover, so that agents in different zones
//! can still agree on when something happened.

use chrono::{DateTime, SecondsFormat, Utc};
use js_sys::{
    Array, Date,
    Intl::{
        DateTimeFormat, DateTimeFormatOptions, DayFormat, HourCycle, MonthFormat, NumericFormat,
        YearFormat,
    },
};
use wasm_bindgen::JsValue;

/// How much of a date-time to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// For table cells: day, month and time, with the year only when it is not this year's.
    Short,
    /// For headings: the full date and the time.
    Long,
}

/// The `datetime` attribute's value: ISO 8601 in UTC, e.g. `2026-11-23T10:00:00Z`.
pub fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The hover text: the UTC date-time, e.g. `2026-11-23 10:00 UTC`.
pub fn utc_title(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `at` in the browser's time zone and language, e.g. `23 Nov, 15:30` or `Nov 23, 15:30`.
/// The clock is always 24-hour, like the UTC time on hover, so that the two read alike.
pub fn local(at: DateTime<Utc>, length: Length) -> String {
    let date = Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    let options = DateTimeFormatOptions::new();
    options.set_month(MonthFormat::Short);
    options.set_day(DayFormat::Numeric);
    options.set_hour(NumericFormat::TwoDigit);
    options.set_minute(NumericFormat::TwoDigit);
    options.set_hour_cycle(HourCycle::H23);
    match length {
        Length::Long => options.set_year(YearFormat::Numeric),
        Length::Short if date.get_full_year() != Date::new_0().get_full_year() => {
            options.set_year(YearFormat::Numeric);
        }
        Length::Short => {}
    }
    // No locales: the browser's own language.
    let format = DateTimeFormat::new(&Array::new(), &options);
    format
        .format()
        .call1(&format, &date)
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_else(|| utc_title(at))
}

/// The current time, from the browser's clock.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Date::now() as i64).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn machines_get_iso_utc_and_people_hovering_get_utc_in_words() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
            .single()
            .expect("a valid date");
        assert_eq!(iso(at), "2026-11-23T10:00:00Z");
        assert_eq!(utc_title(at), "2026-11-23 10:00 UTC");
    }

    #[wasm_bindgen_test]
    fn the_local_time_is_what_the_browser_shows_for_that_instant() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 23, 8, 5, 0)
            .single()
            .expect("a valid date");
        let date = Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
        // The browser's zone and language decide the order and the words; the local clock
        // time and day show in every one.
        let clock = format!("{:02}:{:02}", date.get_hours(), date.get_minutes());
        let day = date.get_date().to_string();
        for length in [Length::Long, Length::Short] {
            let shown = local(at, length);
            assert!(
                shown.contains(&clock),
                "{shown} shows the local time {clock}"
            );
            assert!(shown.contains(&day), "{shown} shows the local day");
            assert!(!shown.contains("UTC"), "{shown} is not the UTC fallback");
        }
        assert!(local(at, Length::Long).contains("2026"));
    }
}
