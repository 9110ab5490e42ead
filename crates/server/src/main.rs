//! `palaver-server`: runs the server, or manages agents (`palaver-server agent add NAME`,
//! `palaver-server agent capacity NAME N`).

use std::io::Read;

use anyhow::Context;
use clap::{Parser, Subcommand};
use palaver_server::{
    Application, Config,
    chat::agents::{DEFAULT_CAPACITY, add_agent},
    clock::SystemClock,
    startup,
    tokens::new_token,
};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "palaver-server", version, about = "The Palaver chat server")]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Manage the agents who answer chats.
    Agent {
        #[command(subcommand)]
        action: AgentAction,
    },
}

#[derive(Subcommand)]
enum AgentAction {
    /// Create an agent. Without --password-stdin, a random password is made and printed once.
    Add {
        name: String,
        /// Read the password from standard input instead.
        #[arg(long)]
        password_stdin: bool,
        /// How many sessions the agent holds at once; routing offers no more.
        #[arg(long, default_value_t = DEFAULT_CAPACITY, value_parser = clap::value_parser!(u32).range(1..))]
        capacity: u32,
    },
    /// Change how many sessions an agent holds at once.
    Capacity {
        name: String,
        #[arg(value_parser = clap::value_parser!(u32).range(1..))]
        capacity: u32,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        None => {
            let app = Application::build(cli.config).await?;
            tracing::info!("Palaver listening on http://127.0.0.1:{}", app.port());
            app.run_until_stopped().await
        }
        Some(Command::Agent {
            action:
                AgentAction::Add {
                    name,
                    password_stdin,
                    capacity,
                },
        }) => {
            let store = startup::connect_store(&cli.config.database_url).await?;
            let password = if password_stdin {
                let mut password = String::new();
                std::io::stdin()
                    .read_to_string(&mut password)
                    .context("reading the password from standard input")?;
                password.trim_end_matches(['\r', '\n']).to_owned()
            } else {
                new_token("pw")
            };
            let agent = add_agent(store.as_ref(), &SystemClock, &name, &password, capacity).await?;
            println!(
                "Created agent {} ({}), who holds up to {capacity} sessions at once.",
                agent.name, agent.id
            );
            if !password_stdin {
                println!("Password: {password}");
            }
            Ok(())
        }
        Some(Command::Agent {
            action: AgentAction::Capacity { name, capacity },
        }) => {
            let store = startup::connect_store(&cli.config.database_url).await?;
            let agent = store
                .set_agent_capacity(name.trim(), capacity)
                .await?
                .with_context(|| format!("there is no agent named {name}"))?;
            println!(
                "{} now holds up to {} sessions at once.",
                agent.name, agent.capacity
            );
            Ok(())
        }
    }
}
