//! `palaver-server`: runs the server, or manages agents (`palaver-server agent add NAME`).

use std::io::Read;

use anyhow::Context;
use clap::{Parser, Subcommand};
use palaver_server::{Application, Config, clock::SystemClock, startup};
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
                palaver_server::auth::new_token("pw")
            };
            let agent = startup::add_agent(store.as_ref(), &SystemClock, &name, &password).await?;
            println!("Created agent {} ({}).", agent.name, agent.id);
            if !password_stdin {
                println!("Password: {password}");
            }
            Ok(())
        }
    }
}
