//! The one queue that unheld sessions wait in, in the order they joined, whatever their
//! channel: a live visitor's place and estimated wait (live mode rule 6) are read from it,
//! and [`tell_places`] tells each queued visitor theirs when it changes.

use std::collections::HashMap;

use palaver_protocol::{ChannelMode, QueueStatus, SessionState};
use uuid::Uuid;

use crate::{hub::Event, state::AppState, store::SessionRecord};

/// How many recent waits the queue's estimate averages.
const RECENT_WAITS: u32 = 20;

/// The queue as of now, in routing order, with each channel's wait per place: a live
/// visitor's place and estimated wait (live mode rule 6) are read from it.
pub struct Queue {
    order: Vec<SessionRecord>,
    per_visitor: HashMap<String, u64>,
}

impl Queue {
    pub async fn load(state: &AppState) -> anyhow::Result<Self> {
        let order = state.store.queued_sessions(state.clock.now()).await?;
        let mut per_visitor = HashMap::new();
        for record in &order {
            if !per_visitor.contains_key(&record.channel) {
                let wait = wait_per_visitor(state, &record.channel).await?;
                per_visitor.insert(record.channel.clone(), wait);
            }
        }
        Ok(Self { order, per_visitor })
    }

    /// Where a queued live session stands, and how long its visitor may wait; persistent
    /// visitors are never told (persistent mode rule 3), though they hold places.
    pub fn status(&self, record: &SessionRecord) -> Option<QueueStatus> {
        if record.mode != ChannelMode::Live {
            return None;
        }
        let index = self
            .order
            .iter()
            .position(|queued| queued.id == record.id)?;
        let position = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let per_visitor = self.per_visitor.get(&record.channel).copied().unwrap_or(0);
        Some(at_place(position, per_visitor))
    }

    /// Tells each queued live visitor their place and wait when it differs from what they
    /// were last `told`, which then holds what every queued visitor knows.
    fn tell(&self, state: &AppState, told: &mut HashMap<Uuid, QueueStatus>) {
        let mut now_told = HashMap::with_capacity(self.order.len());
        for record in &self.order {
            let Some(queue) = self.status(record) else {
                continue;
            };
            if told.get(&record.id) != Some(&queue) {
                state.hub.publish(Event::Queue {
                    session_id: record.id,
                    queue,
                });
            }
            now_told.insert(record.id, queue);
        }
        *told = now_told;
    }
}

/// Tells queued visitors their new place and wait whenever the queue changed, at most once
/// per [`AppState::queue_update_interval`] however often it changes, and only to those
/// whose place or wait moved. Runs as long as the server.
pub async fn tell_places(state: AppState) {
    let mut told = HashMap::new();
    loop {
        state.queue_changed.notified().await;
        match Queue::load(&state).await {
            Ok(queue) => queue.tell(&state, &mut told),
            Err(error) => tracing::error!(?error, "reading the queue to tell visitors their place"),
        }
        // Changes meanwhile leave one wake-up behind, answered after the pause.
        tokio::time::sleep(state.queue_update_interval).await;
    }
}

/// Where one queued live session stands and how long its visitor may wait, read without
/// loading the queue; `None` for a session not queued, or a persistent one.
pub async fn place(
    state: &AppState,
    record: &SessionRecord,
) -> anyhow::Result<Option<QueueStatus>> {
    if record.mode != ChannelMode::Live || !is_queued(state, record) {
        return Ok(None);
    }
    let Some(position) = state
        .store
        .queue_place(record.id, state.clock.now())
        .await?
    else {
        return Ok(None);
    };
    let per_visitor = wait_per_visitor(state, &record.channel).await?;
    Ok(Some(at_place(position, per_visitor)))
}

/// A visitor's place and wait: each visitor ahead, and their own turn, takes the channel's
/// wait per visitor.
fn at_place(position: u32, per_visitor: u64) -> QueueStatus {
    QueueStatus {
        position,
        estimated_wait_seconds: per_visitor.saturating_mul(u64::from(position)),
    }
}

/// Whether a session has a place in the queue as of now.
pub fn is_queued(state: &AppState, record: &SessionRecord) -> bool {
    record.state_at(state.clock.now()) == SessionState::Queued
}

/// The mean wait of the channel's recently joined sessions, or the channel's assumption
/// before it has any.
async fn wait_per_visitor(state: &AppState, channel_id: &str) -> anyhow::Result<u64> {
    let waits = state.store.recent_waits(channel_id, RECENT_WAITS).await?;
    if waits.is_empty() {
        let assumed = state
            .channels
            .get(channel_id)
            .map_or(120, |channel| channel.estimated_wait_per_visitor.as_secs());
        return Ok(assumed);
    }
    let total: i64 = waits.iter().map(chrono::Duration::num_seconds).sum();
    Ok(u64::try_from(total / waits.len() as i64).unwrap_or(0))
}
