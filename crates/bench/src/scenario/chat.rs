//! Chat throughput and latency: the highest paced rate whose every message arrives with
//! p99 ≤ 50 ms, for the server and for the relay, and each one's CPU time per message.

use std::{fmt, path::Path, time::Duration};

use anyhow::{Context, Result};

use crate::{
    load::{CHATS_PER_AGENT, Chats, P99_BOUND, Recorder, STEP, Step, step},
    report::{Row, ratio},
    scenario::Server,
    stats::ms,
    target::Process,
};

const CHATS: [usize; 3] = [50, 200, 500];
/// The first step's rate, the same for both targets: CPU per message is read there.
const COMMON_RATE: u32 = 200;
/// The first step is longer than the others: `/proc` counts CPU time in 10 ms ticks, and
/// 1000 messages make one tick 10 µs a message.
const COMMON_STEP: Duration = Duration::from_secs(5);
/// The search stops doubling here, and stops halving below `MIN_RATE`.
const MAX_RATE: u32 = 51_200;
const MIN_RATE: u32 = 25;
/// Steps between the last passing and the first failing rate.
const BISECTIONS: usize = 3;

pub async fn run(binary: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for count in CHATS {
        let palaver = palaver(binary, count).await?;
        let relay = relay(count).await?;
        rows.push(Row::both(
            format!("chat, {count} chats: messages/s at p99 ≤ 50 ms"),
            palaver.best.to_string(),
            relay.best.to_string(),
            ratio(palaver.best.value(), relay.best.value()),
        ));
        rows.push(Row::both(
            format!("chat, {count} chats: CPU per message at {COMMON_RATE}/s"),
            format!("{:.0} µs", palaver.cpu_per_message * 1e6),
            format!("{:.0} µs", relay.cpu_per_message * 1e6),
            ratio(palaver.cpu_per_message, relay.cpu_per_message),
        ));
    }
    Ok(rows)
}

async fn palaver(binary: &Path, count: usize) -> Result<Found> {
    let agents = count.div_ceil(CHATS_PER_AGENT);
    let capacity = u32::try_from(CHATS_PER_AGENT).context("capacity")?;
    let (server, agents) =
        Server::start(binary, async |seeder| seeder.agents(agents, capacity).await).await?;
    let recorder = Recorder::new();
    let chats = Chats::palaver(&server.api, &agents, count, &recorder).await?;
    search(
        &format!("server, {count} chats"),
        &chats,
        &recorder,
        &server.process,
    )
    .await
}

async fn relay(count: usize) -> Result<Found> {
    let dir = tempfile::tempdir().context("creating a directory for the relay")?;
    let relay = Process::relay(dir.path())?;
    let recorder = Recorder::new();
    let chats = Chats::relay(relay.port, count, &recorder).await?;
    search(&format!("relay, {count} chats"), &chats, &recorder, &relay).await
}

/// The best rate found and the CPU time per message at [`COMMON_RATE`].
struct Found {
    best: Rate,
    cpu_per_message: f64,
}

/// A rate found by the search, or the bound it ran into.
#[derive(Debug, Clone, Copy)]
enum Rate {
    Exactly(u32),
    AtLeast(u32),
    Below(u32),
}

impl Rate {
    fn value(self) -> f64 {
        match self {
            Self::Exactly(rate) | Self::AtLeast(rate) => f64::from(rate),
            Self::Below(_) => 0.0,
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exactly(rate) => write!(f, "{rate}"),
            Self::AtLeast(rate) => write!(f, "≥ {rate}"),
            Self::Below(rate) => write!(f, "< {rate}"),
        }
    }
}

/// Doubles the rate from [`COMMON_RATE`] until a step fails (halves it when the first one
/// does), then bisects between the last pass and the first failure.
async fn search(
    label: &str,
    chats: &Chats,
    recorder: &Recorder,
    target: &Process,
) -> Result<Found> {
    let run = async |rate: u32, length: Duration| -> Result<Step> {
        let outcome = step(chats, recorder, target, rate, length).await?;
        eprintln!(
            "  {label}: {rate} msg/s: {}/{} arrived, p99 {} ({})",
            outcome.delivered,
            outcome.sent,
            ms(outcome.p99),
            if outcome.passed() { "pass" } else { "fail" }
        );
        Ok(outcome)
    };
    let first = run(COMMON_RATE, COMMON_STEP).await?;
    let cpu_per_message = first.cpu_seconds / first.sent.max(1) as f64;
    let (mut pass, mut fail) = if first.passed() {
        (Some(COMMON_RATE), None)
    } else {
        (None, Some(COMMON_RATE))
    };
    if first.passed() {
        let mut rate = COMMON_RATE;
        while rate < MAX_RATE {
            rate *= 2;
            if run(rate, STEP).await?.passed() {
                pass = Some(rate);
            } else {
                fail = Some(rate);
                break;
            }
        }
    } else {
        let mut rate = COMMON_RATE;
        while rate / 2 >= MIN_RATE {
            rate /= 2;
            if run(rate, STEP).await?.passed() {
                pass = Some(rate);
                break;
            }
            fail = Some(rate);
        }
    }
    let best = match (pass, fail) {
        (Some(mut low), Some(mut high)) => {
            for _ in 0..BISECTIONS {
                let middle = low + (high - low) / 2;
                if middle == low {
                    break;
                }
                if run(middle, STEP).await?.passed() {
                    low = middle;
                } else {
                    high = middle;
                }
            }
            Rate::Exactly(low)
        }
        (Some(rate), None) => Rate::AtLeast(rate),
        (None, _) => Rate::Below(MIN_RATE),
    };
    eprintln!("  {label}: {best} msg/s with p99 ≤ {}", ms(P99_BOUND));
    Ok(Found {
        best,
        cpu_per_message,
    })
}
