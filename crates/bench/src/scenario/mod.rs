//! The scenarios, each against freshly started processes, and the run that strings them
//! together into one table.

use std::{path::Path, time::Instant};

use crate::{
    palaver::Api,
    report::table,
    seed::Seeder,
    target::{Process, ServerDir},
};
use anyhow::{Context, Result};

mod chat;
mod flood;
mod history;
mod idle;
mod sessions;

/// The scenarios, in the order a full run takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Name {
    /// Server memory per idle authenticated visitor socket, 1k and 5k sockets.
    Idle,
    /// Messages a second at p99 ≤ 50 ms and CPU per message, 50, 200 and 500 chats.
    Chat,
    /// Session starts and the inbox with 1k and 10k stored sessions.
    Sessions,
    /// History pages of a session with 1k and 10k messages.
    History,
    /// A typing flood and a Regarding flood beside a chat that must lose nothing.
    Flood,
}

const ALL: [Name; 5] = [
    Name::Idle,
    Name::Chat,
    Name::Sessions,
    Name::History,
    Name::Flood,
];

/// Runs the chosen scenarios (all when `only` is empty) and prints the table; what finished
/// is printed even when a later scenario fails.
pub async fn run_all(server: &Path, only: &[Name]) -> Result<()> {
    // Each server runs in its own directory, so a relative path would no longer lead to it.
    let server = &server
        .canonicalize()
        .with_context(|| format!("finding {}", server.display()))?;
    let files = rlimit::increase_nofile_limit(u64::MAX).context("raising the open-files limit")?;
    eprintln!("bench: open-files limit {files} (the server and the relay inherit it)");
    let chosen: Vec<Name> = ALL
        .into_iter()
        .filter(|name| only.is_empty() || only.contains(name))
        .collect();
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut failure = None;
    for name in chosen {
        eprintln!("bench: {name:?} ...");
        let began = Instant::now();
        let result = match name {
            Name::Idle => idle::run(server).await,
            Name::Chat => chat::run(server).await,
            Name::Sessions => sessions::run(server).await,
            Name::History => history::run(server).await,
            Name::Flood => flood::run(server).await,
        };
        eprintln!(
            "bench: {name:?} took {:.1} s",
            began.elapsed().as_secs_f64()
        );
        match result {
            Ok(more) => rows.extend(more),
            Err(error) => {
                failure = Some(error.context(format!("scenario {name:?}")));
                break;
            }
        }
    }
    println!(
        "\nPalaver against the bare relay (release builds, loopback; {:.0} s):\n",
        started.elapsed().as_secs_f64()
    );
    print!("{}", table(&rows));
    match failure {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// A freshly started server on its own database, prepared by `prepare` before it starts.
pub struct Server {
    pub process: Process,
    pub api: Api,
    _dir: ServerDir,
}

impl Server {
    pub async fn start<T>(
        binary: &Path,
        prepare: impl AsyncFnOnce(&Seeder) -> Result<T>,
    ) -> Result<(Self, T)> {
        let dir = ServerDir::new()?;
        let prepared = {
            let seeder = Seeder::open(&dir.database_url()).await?;
            prepare(&seeder).await?
        };
        let process = Process::server(binary, &dir)?;
        let api = Api::new(process.port)?;
        Ok((
            Self {
                process,
                api,
                _dir: dir,
            },
            prepared,
        ))
    }
}
