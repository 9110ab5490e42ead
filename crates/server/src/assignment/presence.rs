//! Which agents have a console connected, and whether they take new chats. It lives in
//! memory: availability means an open connection to this server.

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, PoisonError},
};

use uuid::Uuid;

/// Agents' consoles and availability, by agent id.
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

    pub(crate) fn available(&self) -> HashSet<Uuid> {
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
