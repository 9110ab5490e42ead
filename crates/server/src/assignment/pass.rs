//! The routing pass: each queued session, oldest first, goes to an available agent below
//! their capacity: the agent who last held the contact's session when the channel has
//! affinity and that agent has room, otherwise the least busy. The pass decides; the chat
//! rules carry the decision out (the agent joins, the visitor is told).

use palaver_protocol::AgentRef;
use uuid::Uuid;

use crate::{state::AppState, store::SessionRecord};

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

/// What a pass does with its choice: the chat rules have the agent join, so that a routed
/// chat reads to the visitor like a hand-picked one.
pub trait Take {
    /// Has `agent` take `record`; `false` when it was taken up or ended since the queue was
    /// read, which gives nothing away.
    fn take(
        &self,
        record: &SessionRecord,
        agent: &AgentRef,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
}

/// Gives queued sessions to agents with room, through `taker`.
pub async fn route(state: &AppState, taker: &impl Take) -> anyhow::Result<()> {
    // One pass at a time: two passes at once could both give away an agent's last place.
    let _pass = state.routing_pass.lock().await;
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
        if taker.take(&record, &desk.agent).await? {
            desk.load += 1;
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
