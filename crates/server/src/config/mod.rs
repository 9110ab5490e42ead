//! The server's configuration: command-line flags (each also read from the environment) and
//! the channel definitions from a TOML file. The defaults run the product with no set-up:
//! an SQLite file in the working directory, localhost, and a built-in `demo` channel.
//!
//! - this file: [`Config`], the flags;
//! - [`channel`]: [`Channel`] and the channels file ([`Channels`]);
//! - [`hours`]: [`OperatingHours`], when a channel's agents answer.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

pub mod channel;
pub mod hours;

pub use channel::{Channel, Channels};
pub use hours::OperatingHours;

/// How the server runs.
#[derive(Debug, Clone, clap::Parser)]
// A flag given twice takes its last value, so that a wrapper's defaults can be overridden.
#[command(
    name = "palaver-server",
    version,
    about = "The Palaver chat server",
    args_override_self = true
)]
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

    /// How often, at most, queued visitors are told their new place and wait.
    #[arg(long, env = "PALAVER_QUEUE_UPDATE_INTERVAL", default_value = "1s", value_parser = humantime_serde::re::humantime::parse_duration)]
    pub queue_update_interval: Duration,

    /// How many events a socket may fall behind its conversation by before it catches up
    /// from the database instead.
    #[arg(long, env = "PALAVER_EVENT_BUFFER", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..))]
    pub event_buffer: u16,

    /// How many events a console may fall behind the inbox by before it catches up from the
    /// database instead.
    #[arg(long, env = "PALAVER_INBOX_EVENT_BUFFER", default_value_t = 1024, value_parser = clap::value_parser!(u16).range(1..))]
    pub inbox_event_buffer: u16,
}
