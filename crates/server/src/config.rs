//! The server's configuration: command-line flags (each also read from the environment) and
//! the channel definitions from a TOML file. The defaults run the product with no set-up:
//! an SQLite file in the working directory, localhost, and a built-in `demo` channel.

use std::{collections::HashMap, net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use palaver_protocol::{ChannelInfo, ChannelMode};
use serde::Deserialize;

use crate::identity::IdentityKey;

/// How the server runs.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "palaver-server", version, about = "The Palaver chat server")]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "PALAVER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Database URL: `sqlite://FILE` (created when missing).
    #[arg(
        long,
        env = "PALAVER_DATABASE_URL",
        default_value = "sqlite://palaver.db"
    )]
    pub database_url: String,

    /// TOML file with the channel definitions; without it, one `demo` live channel.
    #[arg(long, env = "PALAVER_CHANNELS")]
    pub channels: Option<PathBuf>,

    /// Directory of the built widget (`trunk build` output), served at `/widget/`.
    #[arg(long, env = "PALAVER_WIDGET_DIR", default_value = "dist")]
    pub widget_dir: PathBuf,

    /// Directory of the built agent console (`trunk build` in `crates/console`), served at
    /// `/console/`.
    #[arg(
        long,
        env = "PALAVER_CONSOLE_DIR",
        default_value = "crates/console/dist"
    )]
    pub console_dir: PathBuf,

    /// Serve a demo host page at `/` and create the agent `demo` (password `demo`).
    #[arg(long, env = "PALAVER_DEMO")]
    pub demo: bool,

    /// How long an agent's sign-in lasts.
    #[arg(long, env = "PALAVER_AGENT_TOKEN_TTL", default_value = "12h", value_parser = humantime_serde::re::humantime::parse_duration)]
    pub agent_token_ttl: Duration,

    /// How often sessions past their window or inactivity timeout are closed and announced.
    #[arg(long, env = "PALAVER_SWEEP_INTERVAL", default_value = "5s", value_parser = humantime_serde::re::humantime::parse_duration)]
    pub sweep_interval: Duration,
}

/// One widget configuration (shown to agents as *Configuration*).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// The id the embed snippet names in `data-channel`.
    pub id: String,
    /// A name for agents.
    pub name: String,
    #[serde(default = "live")]
    pub mode: ChannelMode,
    /// Origins whose pages may start sessions; `"*"` allows any.
    #[serde(default = "any_origin")]
    pub allowed_origins: Vec<String>,
    /// How long a live session lasts from its start.
    #[serde(default = "day", with = "humantime_serde")]
    pub session_window: Duration,
    /// Whether the details form must include an email.
    #[serde(default)]
    pub require_email: bool,
    /// Region (ISO 3166 code such as `GB`) for numbers typed without a country code;
    /// without it, numbers must start with `+` and the country code.
    #[serde(default)]
    pub default_region: Option<String>,
    /// Close a session when nobody has written for this long; persistent channels close
    /// after 28 days when this is absent.
    #[serde(default, with = "humantime_serde")]
    pub inactivity_timeout: Option<Duration>,
    /// Whether a returning visitor goes first to the agent who handled them before; on by
    /// default for persistent channels.
    #[serde(default)]
    pub agent_affinity: Option<bool>,
    /// The key that verifies visitors' identity tokens; persistent channels only.
    #[serde(default)]
    pub identity: Option<IdentityKey>,
    /// The wait per queued visitor assumed before the channel has any history of its own.
    #[serde(default = "two_minutes", with = "humantime_serde")]
    pub estimated_wait_per_visitor: Duration,
    /// When agents answer; always, when absent.
    #[serde(default)]
    pub operating_hours: Option<OperatingHours>,
}

fn live() -> ChannelMode {
    ChannelMode::Live
}

fn any_origin() -> Vec<String> {
    vec!["*".to_owned()]
}

fn day() -> Duration {
    Duration::from_secs(24 * 60 * 60)
}

fn two_minutes() -> Duration {
    Duration::from_secs(120)
}

/// Persistent mode rule 5: inactivity auto-close after 28 days unless configured.
const PERSISTENT_INACTIVITY: Duration = Duration::from_secs(28 * 24 * 60 * 60);

impl Channel {
    /// The built-in channel that `cargo xtask demo` runs with.
    pub fn demo() -> Self {
        Self {
            id: "demo".into(),
            name: "Demo".into(),
            mode: ChannelMode::Live,
            allowed_origins: any_origin(),
            session_window: day(),
            require_email: false,
            default_region: Some("US".into()),
            inactivity_timeout: None,
            agent_affinity: None,
            identity: None,
            estimated_wait_per_visitor: two_minutes(),
            operating_hours: None,
        }
    }

    /// The built-in persistent channel of the demo, with a secret made at start-up: only the
    /// demo's own token endpoint (`/demo/identity-token`) can sign in to it.
    pub fn demo_members() -> Self {
        Self {
            id: "demo-members".into(),
            name: "Demo (signed in)".into(),
            mode: ChannelMode::Persistent,
            identity: Some(IdentityKey::random_hs256()),
            ..Self::demo()
        }
    }

    /// How long a session may go without messages before it closes.
    pub fn inactivity(&self) -> Option<Duration> {
        self.inactivity_timeout.or(match self.mode {
            ChannelMode::Live => None,
            ChannelMode::Persistent => Some(PERSISTENT_INACTIVITY),
        })
    }

    /// Whether a returning visitor goes first to the agent who handled them before.
    pub fn affinity(&self) -> bool {
        self.agent_affinity
            .unwrap_or(self.mode == ChannelMode::Persistent)
    }

    /// Whether a page of `origin` may use this channel.
    /// What the widget and the console show of the channel as of `at`.
    pub fn info(&self, at: DateTime<Utc>) -> ChannelInfo {
        let hours = self.operating_hours.as_ref();
        let open = hours.is_none_or(|hours| hours.is_open(at));
        ChannelInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            mode: self.mode,
            require_email: self.require_email,
            open,
            next_open_at: hours
                .filter(|_| !open)
                .and_then(|hours| hours.next_open(at)),
        }
    }

    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
    }

    /// When a session started at `at` is over: live sessions last the window, persistent
    /// ones until an agent ends them.
    pub fn window_end(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.mode {
            ChannelMode::Live => {
                at.checked_add_signed(chrono::Duration::from_std(self.session_window).ok()?)
            }
            ChannelMode::Persistent => None,
        }
    }

    /// The deadline set by activity at `at`, when the channel has an inactivity timeout.
    pub fn inactive_at(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let timeout = chrono::Duration::from_std(self.inactivity()?).ok()?;
        at.checked_add_signed(timeout)
    }
}

/// All channels, by id.
#[derive(Debug, Clone)]
pub struct Channels(HashMap<String, Channel>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelsFile {
    #[serde(rename = "channel")]
    channels: Vec<Channel>,
}

impl Channels {
    /// Reads the channel file, or gives the demo channels when there is none.
    pub fn load(path: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Self::new(vec![Channel::demo(), Channel::demo_members()]);
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading channels from {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in channels file {}", path.display()))
    }

    /// Parses a channels file (`[[channel]]` tables).
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let file: ChannelsFile = toml::from_str(text)?;
        Self::new(file.channels)
    }

    fn new(channels: Vec<Channel>) -> anyhow::Result<Self> {
        let mut by_id = HashMap::new();
        for channel in channels {
            if let Some(region) = &channel.default_region {
                region.parse::<phonenumber::country::Id>().map_err(|_| {
                    anyhow::anyhow!("channel {}: unknown region {region}", channel.id)
                })?;
            }
            match (channel.mode, &channel.identity) {
                (ChannelMode::Persistent, None) => bail!(
                    "channel {}: a persistent channel needs an [channel.identity] key",
                    channel.id
                ),
                (ChannelMode::Live, Some(_)) => bail!(
                    "channel {}: identity keys are for persistent channels (mode = \"persistent\")",
                    channel.id
                ),
                _ => {}
            }
            let id = channel.id.clone();
            if by_id.insert(id.clone(), channel).is_some() {
                bail!("channel {id} is defined twice");
            }
        }
        if by_id.is_empty() {
            bail!("no channel is defined");
        }
        Ok(Self(by_id))
    }

    pub fn get(&self, id: &str) -> Option<&Channel> {
        self.0.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Channel> {
        self.0.values()
    }
}

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

    #[test]
    fn a_persistent_channel_needs_an_identity_key_and_a_live_one_takes_none() {
        let key = "[channel.identity]\nalgorithm = \"HS256\"\nsecret = \"0123456789abcdef0123456789abcdef\"";
        let persistent = "[[channel]]\nid = \"m\"\nname = \"M\"\nmode = \"persistent\"\n";
        let live = "[[channel]]\nid = \"l\"\nname = \"L\"\n";
        assert!(Channels::parse(persistent).is_err());
        assert!(Channels::parse(&format!("{live}{key}")).is_err());
        let channels = Channels::parse(&format!("{persistent}{key}")).expect("valid");
        let members = channels.get("m").expect("defined");
        assert_eq!(
            members.inactivity(),
            Some(Duration::from_secs(28 * 24 * 60 * 60))
        );
        assert!(members.affinity());
        assert_eq!(members.window_end(Utc::now()), None, "no window");
    }

    #[test]
    fn a_channels_file_with_typos_or_duplicates_is_refused() {
        assert!(Channels::parse("[[channel]]\nid = \"a\"\nname = \"A\"\nwindow = \"1h\"").is_err());
        let twice = "[[channel]]\nid = \"a\"\nname = \"A\"\n[[channel]]\nid = \"a\"\nname = \"B\"";
        assert!(Channels::parse(twice).is_err());
        let ok = Channels::parse("[[channel]]\nid = \"a\"\nname = \"A\"\nsession_window = \"1h\"")
            .expect("valid");
        assert_eq!(
            ok.get("a").map(|c| c.session_window),
            Some(Duration::from_secs(3600))
        );
    }
}
