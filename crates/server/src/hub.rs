//! The in-process fan-out of live events to WebSocket clients, by interest: each event goes
//! to the [`Topic`]s that concern it, and a socket subscribes only to its own, so it wakes
//! for nothing else. It is an optimisation over the database: a subscriber that falls behind
//! its topic (a full buffer) catches up from the store by sequence number instead.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use palaver_protocol::{AgentSession, AgentStatus, ChannelMode, Message, QueueStatus, Sender};
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

/// Something that happened in a session, or to an agent.
#[derive(Debug, Clone)]
pub enum Event {
    /// A message, with the change number its append gave the session.
    Message { message: Message, change: i64 },
    /// The session changed (started, joined, ended, Regarding set), with the change number
    /// of that write.
    Session { session: AgentSession, change: i64 },
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
    SignedOut { token_hash: String },
}

/// Who listens for what.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// What a live session's visitor hears: its messages, changes, agent typing and queue
    /// place; for a persistent conversation, its messages and agent typing.
    Session(Uuid),
    /// What a verified visitor hears of their conversations on one channel: each change, so
    /// that their stream follows an ended conversation to the next.
    Conversations { contact_id: Uuid, channel: String },
    /// What the agents' inbox shows: every session's changes and messages, agents' status.
    Inbox,
    /// What agents with a session open hear of it: its visitor typing.
    Open(Uuid),
}

impl Event {
    /// Where the event goes.
    fn topics(&self) -> Vec<Topic> {
        match self {
            Self::Message { message, .. } => {
                vec![Topic::Session(message.session_id), Topic::Inbox]
            }
            Self::Session { session, .. } => {
                let session = &session.session;
                let visitor = match session.mode {
                    ChannelMode::Live => Topic::Session(session.id),
                    ChannelMode::Persistent => Topic::Conversations {
                        contact_id: session.contact_id,
                        channel: session.channel.clone(),
                    },
                };
                vec![visitor, Topic::Inbox]
            }
            Self::Typing {
                session_id,
                sender: Sender::Visitor,
                ..
            } => vec![Topic::Open(*session_id)],
            Self::Typing { session_id, .. } | Self::Queue { session_id, .. } => {
                vec![Topic::Session(*session_id)]
            }
            Self::Agent(_) | Self::SignedOut { .. } => vec![Topic::Inbox],
        }
    }
}

/// The topics somebody listens to, each a broadcast channel that exists only while it has
/// subscribers.
#[derive(Debug, Clone)]
pub struct Hub {
    topics: Arc<Mutex<HashMap<Topic, broadcast::Sender<Arc<Event>>>>>,
    /// Events a subscriber of one session may fall behind by before it catches up from the
    /// store.
    session_capacity: usize,
    /// The same for a console and the inbox, which carries every session's news.
    inbox_capacity: usize,
}

impl Hub {
    pub fn new(session_capacity: usize, inbox_capacity: usize) -> Self {
        Self {
            topics: Arc::default(),
            session_capacity: session_capacity.max(1),
            inbox_capacity: inbox_capacity.max(1),
        }
    }

    /// Hands the event to whoever listens to its topics; nobody listening is not an error.
    pub fn publish(&self, event: Event) {
        let event = Arc::new(event);
        let topics = self.lock();
        for topic in event.topics() {
            if let Some(sender) = topics.get(&topic) {
                let _ = sender.send(event.clone());
            }
        }
    }

    /// Listens to `topic` from now on.
    pub fn subscribe(&self, topic: Topic) -> Subscription {
        let capacity = match topic {
            Topic::Inbox => self.inbox_capacity,
            _ => self.session_capacity,
        };
        let receiver = self
            .lock()
            .entry(topic.clone())
            .or_insert_with(|| broadcast::channel(capacity).0)
            .subscribe();
        Subscription {
            hub: self.clone(),
            topic,
            receiver,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Topic, broadcast::Sender<Arc<Event>>>> {
        // Each change to the map is one step, so a poisoned lock still holds a consistent map;
        // it is never held across an await.
        self.topics.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One subscriber's place in a topic; the topic goes away with its last subscriber.
#[derive(Debug)]
pub struct Subscription {
    hub: Hub,
    topic: Topic,
    receiver: broadcast::Receiver<Arc<Event>>,
}

/// What a subscriber reads next.
pub enum Next {
    Event(Arc<Event>),
    /// Events were dropped since the last read: the store has what they said.
    Behind,
}

impl Subscription {
    /// The next event of the topic, or [`Next::Behind`] after falling behind.
    pub async fn next(&mut self) -> Next {
        match self.receiver.recv().await {
            Ok(event) => Next::Event(event),
            Err(RecvError::Lagged(_)) => Next::Behind,
            // The hub keeps the sender while this subscription exists.
            Err(RecvError::Closed) => std::future::pending().await,
        }
    }

    pub fn topic(&self) -> &Topic {
        &self.topic
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut topics = self.hub.lock();
        // Under the lock nobody subscribes meanwhile: this receiver is the last one when the
        // count is one.
        if topics
            .get(&self.topic)
            .is_some_and(|sender| sender.receiver_count() <= 1)
        {
            topics.remove(&self.topic);
        }
    }
}
