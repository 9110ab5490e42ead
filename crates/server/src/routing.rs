//! Routing: who is available, the one queue that unheld sessions wait in, and the pass that
//! offers them to agents with room.
//!
//! An agent is available while a console of theirs is connected and they said they take new
//! chats. Every session nobody holds (a new live chat, a persistent conversation started or
//! brought back from waiting) waits in one queue, in the order it joined, whatever its
//! channel, since every agent serves every channel. A routing pass gives each queued session,
//! oldest first, to an available agent below their capacity: the agent who last held the
//! contact's session when the channel has affinity and that agent has room, otherwise the
//! least busy. A pass runs whenever a session joins the queue or an agent gains room.

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, PoisonError},
};

use palaver_protocol::{AgentRef, AgentStatus, ChannelMode, QueueStatus, SessionState};
use uuid::Uuid;

use crate::{chat, error::ApiError, hub::Event, startup::AppState, store::SessionRecord};

/// How many recent waits the queue's estimate averages.
const RECENT_WAITS: u32 = 20;

/// Which agents have a console connected, and whether they take new chats. It lives in
/// memory: availability means an open connection to this server.
#[derive(Debug, Default)]
pub struct Presence(Mutex<HashMap<Uuid, Seat>>);

#[derive(Debug, Default)]
struct Seat {
    consoles: usize,
    available: bool,
}

impl Presence {
    /// A console of the agent's connected; an agent whose first console this is starts
    /// unavailable until a console says otherwise.
    pub fn arrive(&self, agent: Uuid) {
        self.seats().entry(agent).or_default().consoles += 1;
    }

    /// A console of the agent's went away; `true` when that made them unavailable.
    pub fn leave(&self, agent: Uuid) -> bool {
        let mut seats = self.seats();
        let Some(seat) = seats.get_mut(&agent) else {
            return false;
        };
        seat.consoles = seat.consoles.saturating_sub(1);
        if seat.consoles > 0 {
            return false;
        }
        seats.remove(&agent).is_some_and(|seat| seat.available)
    }

    /// The agent takes new chats or stops; `true` when that changed anything.
    pub fn set_available(&self, agent: Uuid, available: bool) -> bool {
        match self.seats().get_mut(&agent) {
            Some(seat) if seat.available != available => {
                seat.available = available;
                true
            }
            _ => false,
        }
    }

    pub fn is_available(&self, agent: Uuid) -> bool {
        self.seats().get(&agent).is_some_and(|seat| seat.available)
    }

    fn available(&self) -> HashSet<Uuid> {
        self.seats()
            .iter()
            .filter(|(_, seat)| seat.available)
            .map(|(agent, _)| *agent)
            .collect()
    }

    fn seats(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Seat>> {
        // The map stays consistent under any panic (each change is one step), so a poisoned
        // lock is still safe to use. A std mutex suffices: it is never held across an await.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs a routing pass, logging rather than returning a failure: the change that asked for
/// it is already stored, and the next pass picks up whatever this one left.
pub async fn offer(state: &AppState) {
    if let Err(error) = route(state).await {
        tracing::error!(?error, "routing queued sessions");
    }
}

/// An available agent's place in a pass.
struct Desk {
    agent: AgentRef,
    capacity: u32,
    load: u32,
}

impl Desk {
    fn has_room(&self) -> bool {
        self.load < self.capacity
    }
}

async fn route(state: &AppState) -> anyhow::Result<()> {
    // One pass at a time: two passes at once could both give away an agent's last place.
    let _pass = state.routing.lock().await;
    let available = state.presence.available();
    if available.is_empty() {
        return Ok(());
    }
    let now = state.clock.now();
    let loads = state.store.agent_loads(now).await?;
    let mut desks: Vec<Desk> = state
        .store
        .agents()
        .await?
        .into_iter()
        .filter(|agent| available.contains(&agent.id))
        .map(|agent| Desk {
            load: loads.get(&agent.id).copied().unwrap_or(0),
            capacity: agent.capacity,
            agent: AgentRef {
                id: agent.id,
                name: agent.name,
            },
        })
        .collect();
    for record in state.store.queued_sessions(now).await? {
        if !desks.iter().any(Desk::has_room) {
            break;
        }
        let affine = match state.channels.get(&record.channel) {
            Some(channel) if channel.affinity() => {
                state
                    .store
                    .affinity_agent(record.contact_id, &record.channel)
                    .await?
            }
            _ => None,
        };
        let Some(desk) = choose(&mut desks, affine) else {
            break;
        };
        match chat::join(state, &record, &desk.agent).await {
            Ok(_) => desk.load += 1,
            // Taken up or ended since the queue was read: nothing to give.
            Err(ApiError::Conflict { .. } | ApiError::SessionEnded(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// The affine agent when they have room, otherwise the least busy with room (the first by
/// name among equals).
fn choose(desks: &mut [Desk], affine: Option<Uuid>) -> Option<&mut Desk> {
    let preferred = affine.and_then(|id| {
        desks
            .iter()
            .position(|desk| desk.agent.id == id && desk.has_room())
    });
    match preferred {
        Some(index) => desks.get_mut(index),
        None => desks
            .iter_mut()
            .filter(|desk| desk.has_room())
            .min_by_key(|desk| desk.load),
    }
}

/// Every agent with their capacity, load and availability, by name.
pub async fn statuses(state: &AppState) -> anyhow::Result<Vec<AgentStatus>> {
    let loads = state.store.agent_loads(state.clock.now()).await?;
    let agents = state.store.agents().await?;
    Ok(agents
        .into_iter()
        .map(|agent| AgentStatus {
            load: loads.get(&agent.id).copied().unwrap_or(0),
            available: state.presence.is_available(agent.id),
            id: agent.id,
            name: agent.name,
            capacity: agent.capacity,
        })
        .collect())
}

/// One agent's status.
pub async fn status(state: &AppState, agent_id: Uuid) -> anyhow::Result<AgentStatus> {
    statuses(state)
        .await?
        .into_iter()
        .find(|status| status.id == agent_id)
        .ok_or_else(|| anyhow::anyhow!("agent {agent_id} is missing"))
}

/// Tells the consoles that an agent's load or availability changed.
pub async fn publish_status(state: &AppState, agent_id: Uuid) -> anyhow::Result<()> {
    state
        .hub
        .publish(Event::Agent(status(state, agent_id).await?));
    Ok(())
}

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
        Some(QueueStatus {
            position,
            estimated_wait_seconds: per_visitor.saturating_mul(u64::from(position)),
        })
    }

    /// Tells every queued live visitor their place.
    pub fn publish(&self, state: &AppState) {
        for record in &self.order {
            if let Some(queue) = self.status(record) {
                state.hub.publish(Event::Queue {
                    session_id: record.id,
                    queue,
                });
            }
        }
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
