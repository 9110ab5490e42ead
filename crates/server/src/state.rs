//! [`AppState`]: what every request handler, socket and background task holds. It is the
//! bottom of the server's layers: everything may hold it, it holds only building blocks.

use std::{path::PathBuf, sync::Arc, time::Duration};

use tokio::sync::{Mutex, Notify, Semaphore, watch};

use crate::{
    assignment::presence::Presence,
    bearers::Bearers,
    clock::Clock,
    config::{Channels, Config},
    hub::Hub,
    store::Store,
};

/// Everything a request handler needs, cloned cheaply into each.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// What bearer tokens met before open, so that requests need not ask the store.
    pub bearers: Arc<Bearers>,
    pub clock: Arc<dyn Clock>,
    pub channels: Arc<Channels>,
    pub hub: Hub,
    pub agent_token_ttl: Duration,
    pub widget_dir: PathBuf,
    pub console_dir: PathBuf,
    pub demo: bool,
    /// Agents' consoles and availability.
    pub presence: Arc<Presence>,
    /// Held by a routing pass, so that passes run one at a time. A tokio mutex: the pass
    /// holds it across the store's awaits.
    pub routing_pass: Arc<Mutex<()>>,
    /// Rung whenever the queue may have changed; queued visitors hear their new place from
    /// one task, at most once per [`AppState::queue_update_interval`].
    pub queue_changed: Arc<Notify>,
    pub queue_update_interval: Duration,
    /// Turns at checking a password: half the processors (at least one), so that sign-ins
    /// never take the whole machine.
    pub password_checks: Arc<Semaphore>,
    /// Turns `true` when the server begins to stop.
    stopping: Arc<watch::Sender<bool>>,
}

impl AppState {
    /// The state of a server with nobody connected yet.
    pub fn new(
        config: &Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        channels: Channels,
    ) -> Self {
        Self {
            store,
            bearers: Arc::default(),
            clock,
            channels: Arc::new(channels),
            hub: Hub::new(
                usize::from(config.event_buffer),
                usize::from(config.inbox_event_buffer),
            ),
            agent_token_ttl: config.agent_token_ttl,
            widget_dir: config.widget_dir.clone(),
            console_dir: config.console_dir.clone(),
            demo: config.demo,
            presence: Arc::default(),
            routing_pass: Arc::default(),
            queue_changed: Arc::default(),
            queue_update_interval: config.queue_update_interval,
            password_checks: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(1, |cores| (cores.get() / 2).max(1)),
            )),
            stopping: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Tells long-lived work (sockets) that the server is stopping.
    pub fn begin_stopping(&self) {
        self.stopping.send_replace(true);
    }

    /// Completes when the server begins to stop; long-lived work (sockets) ends then.
    pub async fn stopping(&self) {
        let mut stopping = self.stopping.subscribe();
        // An error means the sender is gone, which also means stopping.
        let _ = stopping.wait_for(|stopping| *stopping).await;
    }
}
