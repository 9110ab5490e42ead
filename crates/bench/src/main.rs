//! `palaver-bench`: Palaver's load generator, and the bare relay it measures the server
//! against. `cargo xtask bench` builds both in release and runs `palaver-bench run`.
//!
//! - `relay`: a WebSocket relay with the server's frame shapes and no storage: a visitor and
//!   an agent of one room exchange messages through it ([`relay`]).
//! - `run`: starts the server (and the relay) as child processes on loopback and runs the
//!   scenarios ([`scenario`]), then prints one table ([`report`]).
//!
//! Below the scenarios: [`target`] (child processes and what `/proc` says of them),
//! [`palaver`] (the server's REST API and sockets), [`load`] (paced open-loop load and its
//! latencies), [`seed`] (stored sessions and messages), [`stats`] and [`socket`].

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

mod load;
mod palaver;
mod relay;
mod report;
mod scenario;
mod seed;
mod socket;
mod stats;
mod target;

#[derive(Parser)]
#[command(
    name = "palaver-bench",
    about = "Palaver's load generator and bare relay"
)]
struct Cli {
    #[command(subcommand)]
    role: Role,
}

#[derive(Subcommand)]
enum Role {
    /// Run the bare relay until killed; prints `listening on ADDRESS` once bound.
    Relay {
        /// Where to listen; port 0 picks one.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
    /// Run the scenarios against the server binary and the relay, and print the table.
    Run {
        /// The `palaver-server` binary to measure.
        #[arg(long)]
        server: PathBuf,
        /// Only these scenarios (all when none is named).
        #[arg(value_enum)]
        only: Vec<scenario::Name>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = match Cli::parse().role {
        Role::Relay { listen } => relay::serve(listen).await,
        Role::Run { server, only } => scenario::run_all(&server, &only).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("palaver-bench: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
