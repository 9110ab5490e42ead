//! Wiring: [`Application::build`] opens the store, loads the channels and binds the
//! listener; [`Application::run_until_stopped`] serves until the process is asked to stop.

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{
    net::TcpListener,
    sync::{Mutex, watch},
};

use crate::{
    auth, chat,
    clock::{Clock, SystemClock},
    config::{Channels, Config},
    hub::Hub,
    routes::router,
    routing::Presence,
    store::{Store, sqlite::SqliteStore},
};

/// Everything a request handler needs, cloned cheaply into each.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub channels: Arc<Channels>,
    pub hub: Hub,
    pub agent_token_ttl: Duration,
    pub widget_dir: PathBuf,
    pub console_dir: PathBuf,
    pub demo: bool,
    /// Agents' consoles and availability.
    pub presence: Arc<Presence>,
    /// Held by a routing pass, so that passes run one at a time.
    pub routing: Arc<Mutex<()>>,
    /// Turns `true` when the server begins to stop.
    stopping: Arc<watch::Sender<bool>>,
}

impl AppState {
    /// Completes when the server begins to stop; long-lived work (sockets) ends then.
    pub async fn stopping(&self) {
        let mut stopping = self.stopping.subscribe();
        // An error means the sender is gone, which also means stopping.
        let _ = stopping.wait_for(|stopping| *stopping).await;
    }
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    sweep_interval: Duration,
}

/// Opens the store the database URL names.
pub async fn connect_store(database_url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if database_url.starts_with("sqlite:") {
        return Ok(Arc::new(SqliteStore::connect(database_url).await?));
    }
    anyhow::bail!("unsupported database URL {database_url}: use sqlite://FILE")
}

/// How many sessions an agent holds at once unless told otherwise.
pub const DEFAULT_CAPACITY: u32 = 3;

/// Creates an agent who signs in with `password` and holds at most `capacity` sessions at
/// once; fails when the name is taken.
pub async fn add_agent(
    store: &dyn Store,
    clock: &dyn Clock,
    name: &str,
    password: &str,
    capacity: u32,
) -> anyhow::Result<palaver_protocol::AgentRef> {
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "an agent needs a name");
    anyhow::ensure!(capacity >= 1, "an agent's capacity is at least 1");
    anyhow::ensure!(
        password.chars().count() >= 4,
        "a password needs at least 4 characters"
    );
    let hash = auth::hash_password(password)?;
    let agent = store
        .create_agent(name, &hash, capacity, clock.now())
        .await?
        .with_context(|| format!("an agent named {name} exists already"))?;
    Ok(palaver_protocol::AgentRef {
        id: agent.id,
        name: agent.name,
    })
}

impl Application {
    /// Builds the server on the real clock.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Builds the server on the given clock, so tests can move time.
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let channels = Channels::load(config.channels.as_deref())?;
        let store = connect_store(&config.database_url).await?;
        if config.demo && store.agent_by_name("demo").await?.is_none() {
            add_agent(
                store.as_ref(),
                clock.as_ref(),
                "demo",
                "demo",
                DEFAULT_CAPACITY,
            )
            .await?;
            tracing::info!("created the demo agent: name `demo`, password `demo`");
        }
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let state = AppState {
            store,
            clock,
            channels: Arc::new(channels),
            hub: Hub::new(),
            agent_token_ttl: config.agent_token_ttl,
            widget_dir: config.widget_dir,
            console_dir: config.console_dir,
            demo: config.demo,
            presence: Arc::default(),
            routing: Arc::default(),
            stopping: Arc::new(watch::Sender::new(false)),
        };
        Ok(Self {
            listener,
            state,
            sweep_interval: config.sweep_interval,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |addr| addr.port())
    }

    /// The store the server runs on, for tools and tests that set up data.
    pub fn store(&self) -> Arc<dyn Store> {
        self.state.store.clone()
    }

    /// Serves until Ctrl-C or SIGTERM, then lets open requests finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes (tests stop and restart a server this way).
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let sweeper = tokio::spawn(sweep(self.state.clone(), self.sweep_interval));
        let stopping = self.state.stopping.clone();
        let served = axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(async move {
                stop.await;
                stopping.send_replace(true);
            })
            .await
            .context("serving HTTP");
        sweeper.abort();
        served
    }
}

/// Closes sessions whose time is up, every `interval`, and tells whoever is watching.
async fn sweep(state: AppState, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match chat::close_due(&state).await {
            Ok(0) => {}
            Ok(closed) => tracing::info!(closed, "closed sessions whose time was up"),
            Err(error) => tracing::error!(?error, "closing sessions whose time was up"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(?error, "listening for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(?error, "listening for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
