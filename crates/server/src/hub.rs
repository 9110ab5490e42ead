//! The in-process fan-out of live events to WebSocket clients. It is an optimisation over
//! the database: a client that misses events (a lagging receiver, a dropped socket) catches
//! up from the store by sequence number.

use std::sync::Arc;

use palaver_protocol::{AgentSession, AgentStatus, Message, QueueStatus, Sender};
use tokio::sync::broadcast;
use uuid::Uuid;

/// Something that happened in a session, or to an agent.
#[derive(Debug, Clone)]
pub enum Event {
    Message(Message),
    /// The session changed (started, joined, ended, Regarding set).
    Session(AgentSession),
    Typing {
        session_id: Uuid,
        sender: Sender,
        typing: bool,
    },
    Queue {
        session_id: Uuid,
        queue: QueueStatus,
    },
    /// An agent's load or availability changed; for consoles only.
    Agent(AgentStatus),
    /// An agent signed out: the console stream opened with this token closes.
    SignedOut {
        token_hash: String,
    },
}

impl Event {
    /// The session it happened in; `None` for an agent's change.
    pub fn session_id(&self) -> Option<Uuid> {
        match self {
            Self::Message(message) => Some(message.session_id),
            Self::Session(session) => Some(session.session.id),
            Self::Typing { session_id, .. } | Self::Queue { session_id, .. } => Some(*session_id),
            Self::Agent(_) | Self::SignedOut { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Hub(broadcast::Sender<Arc<Event>>);

impl Hub {
    /// Events a slow receiver may fall behind by before it resynchronises from the store.
    const CAPACITY: usize = 1024;

    pub fn new() -> Self {
        Self(broadcast::channel(Self::CAPACITY).0)
    }

    pub fn publish(&self, event: Event) {
        // No receiver is not an error: nobody is watching right now.
        let _ = self.0.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.0.subscribe()
    }
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}
