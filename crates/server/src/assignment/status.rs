//! Agents' capacity, load and availability, as the console shows them and routing reads them.

use palaver_protocol::AgentStatus;
use uuid::Uuid;

use crate::{hub::Event, state::AppState};

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
