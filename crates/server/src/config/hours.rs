//! When a channel's agents answer: one span a weekday, in the channel's time zone.

use chrono::{DateTime, Datelike, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

/// Weekly opening times in a time zone, one span a day at most.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawHours")]
pub struct OperatingHours {
    timezone: Tz,
    /// Monday first.
    days: [Option<(NaiveTime, NaiveTime)>; 7],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHours {
    timezone: String,
    mon: Option<String>,
    tue: Option<String>,
    wed: Option<String>,
    thu: Option<String>,
    fri: Option<String>,
    sat: Option<String>,
    sun: Option<String>,
}

impl TryFrom<RawHours> for OperatingHours {
    type Error = String;

    fn try_from(raw: RawHours) -> Result<Self, String> {
        let timezone = raw
            .timezone
            .parse::<Tz>()
            .map_err(|_| format!("unknown time zone {}", raw.timezone))?;
        let spans = [
            raw.mon, raw.tue, raw.wed, raw.thu, raw.fri, raw.sat, raw.sun,
        ];
        let mut days = [None; 7];
        for (day, span) in days.iter_mut().zip(spans) {
            *day = span.as_deref().map(parse_span).transpose()?;
        }
        Ok(Self { timezone, days })
    }
}

/// `"09:00-17:30"`; `24:00` stands for the end of the day.
fn parse_span(span: &str) -> Result<(NaiveTime, NaiveTime), String> {
    let bad = || format!("opening hours {span:?} are not like \"09:00-17:30\"");
    let (open, close) = span.split_once('-').ok_or_else(bad)?;
    let time = |text: &str| -> Result<NaiveTime, String> {
        match text.trim() {
            "24:00" => Ok(NaiveTime::MIN),
            text => NaiveTime::parse_from_str(text, "%H:%M").map_err(|_| bad()),
        }
    };
    let (open, close) = (time(open)?, time(close)?);
    if close != NaiveTime::MIN && close <= open {
        return Err(format!("opening hours {span:?} close before they open"));
    }
    Ok((open, close))
}

impl OperatingHours {
    /// Whether agents are working at `at`.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.timezone);
        let weekday = local.weekday().num_days_from_monday() as usize;
        self.days[weekday].is_some_and(|(open, close)| {
            let time = local.time();
            time >= open && (close == NaiveTime::MIN || time < close)
        })
    }

    /// The next opening after `at`, within a week.
    pub fn next_open(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local_date = at.with_timezone(&self.timezone).date_naive();
        (0..=7)
            .filter_map(|offset| {
                let date = local_date.checked_add_days(chrono::Days::new(offset))?;
                let (open, _) = self.days[date.weekday().num_days_from_monday() as usize]?;
                let opening = self
                    .timezone
                    .from_local_datetime(&date.and_time(open))
                    .earliest()?;
                Some(opening.with_timezone(&Utc))
            })
            .find(|opening| *opening > at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(toml_text: &str) -> OperatingHours {
        #[derive(Deserialize)]
        struct Wrap {
            hours: OperatingHours,
        }
        toml::from_str::<Wrap>(toml_text)
            .expect("valid hours")
            .hours
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("valid timestamp")
    }

    #[test]
    fn opening_hours_follow_the_channels_time_zone() {
        // 2026-11-23 is a Monday; Paris is UTC+1 in November.
        let hours = hours(
            "[hours]\ntimezone = \"Europe/Paris\"\nmon = \"09:00-17:00\"\ntue = \"09:00-17:00\"",
        );
        assert!(!hours.is_open(utc("2026-11-23T07:59:00Z")));
        assert!(hours.is_open(utc("2026-11-23T08:00:00Z")));
        assert!(!hours.is_open(utc("2026-11-23T16:00:00Z")));
        assert_eq!(
            hours.next_open(utc("2026-11-23T16:00:00Z")),
            Some(utc("2026-11-24T08:00:00Z"))
        );
        assert_eq!(
            hours.next_open(utc("2026-11-24T20:00:00Z")),
            Some(utc("2026-11-30T08:00:00Z"))
        );
    }

    #[test]
    fn a_span_to_midnight_is_open_until_the_end_of_the_day() {
        let hours = hours("[hours]\ntimezone = \"UTC\"\nsat = \"18:00-24:00\"");
        assert!(hours.is_open(utc("2026-11-28T23:59:00Z")));
        assert!(!hours.is_open(utc("2026-11-29T00:00:00Z")));
    }

    #[test]
    fn malformed_hours_are_refused() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Wrap {
            hours: OperatingHours,
        }
        for bad in [
            "timezone = \"Mars/Olympus\"",
            "timezone = \"UTC\"\nmon = \"9 to 5\"",
            "timezone = \"UTC\"\nmon = \"17:00-09:00\"",
        ] {
            assert!(
                toml::from_str::<Wrap>(&format!("[hours]\n{bad}")).is_err(),
                "{bad}"
            );
        }
    }
}
