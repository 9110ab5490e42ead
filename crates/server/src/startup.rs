//! Wiring, at the very top: [`Application::build`] opens the store, loads the channels and
//! binds the listener; [`Application::run_until_stopped`] serves until the process is asked
//! to stop, with the sweep that closes sessions whose time is up running beside it.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{
    assignment::queue::tell_places,
    chat::{
        agents::{DEFAULT_CAPACITY, add_agent},
        lifecycle::close_due,
    },
    clock::{Clock, SystemClock},
    config::{Channels, Config},
    http::router,
    state::AppState,
    store::{Store, sqlite::SqliteStore},
};

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
        let state = AppState::new(&config, store, clock, channels);
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
        let places = tokio::spawn(tell_places(self.state.clone()));
        let state = self.state.clone();
        let served = axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(async move {
                stop.await;
                state.begin_stopping();
            })
            .await
            .context("serving HTTP");
        sweeper.abort();
        places.abort();
        served
    }
}

/// Closes sessions whose time is up, every `interval`, and tells whoever is watching.
async fn sweep(state: AppState, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match close_due(&state).await {
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
