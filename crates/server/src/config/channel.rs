//! A channel (*Configuration* to agents): one widget configuration with its mode, allowed
//! origins, windows and key, and the TOML file that defines the server's channels.

use std::{collections::HashMap, time::Duration};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use palaver_protocol::{ChannelInfo, ChannelMode};
use serde::Deserialize;

use crate::{config::hours::OperatingHours, identity::IdentityKey};

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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::Utc;

    use super::*;

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
