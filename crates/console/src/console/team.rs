//! The team: the agent's own status (capacity, load, whether they take new chats, kept in
//! this browser), the other agents' and the channels' names.

use leptos::prelude::*;
use palaver_protocol::{AgentStatus, frames::AgentFrame};

use super::Console;
use crate::storage;

impl Console {
    /// The agent's status, the team and the channels, as they stand now.
    pub(super) fn load_team(&self) {
        let console = *self;
        let api = self.api();
        self.spawn(async move {
            let (me, agents, channels) = futures::join!(api.me(), api.agents(), api.channels());
            match me {
                Ok(me) => console.me.set(me),
                Err(failure) => console.failed(&failure),
            }
            match agents {
                Ok(agents) => console.agents.set(agents),
                Err(failure) => console.failed(&failure),
            }
            match channels {
                Ok(channels) => console.channels.set(channels),
                Err(failure) => console.failed(&failure),
            }
        });
    }

    /// A channel's name (its *Configuration*), tracked; its id until the channels are known.
    pub fn channel_name(&self, id: &str) -> String {
        self.channels.with(|channels| {
            channels
                .iter()
                .find(|channel| channel.id == id)
                .map_or_else(|| id.to_owned(), |channel| channel.name.clone())
        })
    }

    /// The agent takes new chats or not; remembered in this browser and told to the server.
    pub fn set_available(&self, available: bool) {
        self.available.set(available);
        storage::write(&storage::availability_name(self.me_id()), &available);
        self.send_frame(AgentFrame::Presence { available });
    }

    /// An agent's availability or load changed.
    pub(super) fn on_agent(&self, status: AgentStatus) {
        if status.id == self.me_id() {
            self.me.set(status.clone());
        }
        self.agents.update(
            |agents| match agents.iter_mut().find(|agent| agent.id == status.id) {
                Some(agent) => *agent = status,
                None => agents.push(status),
            },
        );
    }
}
