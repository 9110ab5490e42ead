//! Floods: one visitor sends as much as they can while a chat runs beside them, whose agent
//! must stay connected and receive every message ("No visitor can slow down or disconnect
//! anyone else, however much they send").

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::{Context, Result};
use futures_util::SinkExt;
use palaver_protocol::{
    Sender,
    frames::{AgentEvent, VisitorFrame},
};
use tokio::{sync::Notify, task::JoinHandle, time::Instant};
use uuid::Uuid;

use crate::{
    palaver::{Api, Visitor},
    report::Row,
    scenario::Server,
    socket::{self, Socket},
};

const TYPING_FRAMES: usize = 20_000;
const QUEUED_SESSIONS: usize = 2000;
/// How long the chat beside a flood runs, and the Regarding loop with it.
const WINDOW: Duration = Duration::from_secs(3);
/// How often the chat's visitor writes.
const CHAT_INTERVAL: Duration = Duration::from_millis(20);
/// How long the chat's last messages may take to reach the agent.
const DRAIN: Duration = Duration::from_secs(5);

pub async fn run(binary: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let typing = typing_flood(binary).await?;
    rows.extend(typing.rows(&format!("typing flood ({TYPING_FRAMES} frames)")));
    let regarding = regarding_flood(binary).await?;
    rows.extend(regarding.rows(&format!(
        "Regarding flood ({} changes, {QUEUED_SESSIONS} queued)",
        regarding.flood_count
    )));
    Ok(rows)
}

/// What the agent beside a flood saw.
struct Outcome {
    open: bool,
    received: u64,
    sent: u64,
    flood_count: u64,
}

impl Outcome {
    fn rows(&self, label: &str) -> [Row; 2] {
        eprintln!(
            "  {label}: agent socket open {}, {}/{} messages",
            self.open, self.received, self.sent
        );
        [
            Row::palaver(
                format!("{label}: agent socket stayed open"),
                if self.open { "yes" } else { "no" },
            ),
            Row::palaver(
                format!("{label}: chat messages received / sent"),
                format!("{} / {}", self.received, self.sent),
            ),
        ]
    }
}

/// A server with one agent online (unavailable, so the queue stays) who joined one chat,
/// and `queued` sessions stored beforehand that wait in the queue.
struct Scene {
    server: Server,
    chat: Visitor,
    watch: Watch,
    queued: Vec<Visitor>,
}

impl Scene {
    async fn set_up(binary: &Path, queued: usize) -> Result<Self> {
        let (server, (agents, queued)) = Server::start(binary, async |seeder| {
            let agents = seeder.agents(1, 3).await?;
            Ok((agents, seeder.open_sessions(queued, None).await?))
        })
        .await?;
        let agent = server
            .api
            .login(&agents.first().context("no agent")?.name)
            .await?;
        let chat = server.api.start(queued.len()).await?;
        server.api.join(&agent, chat.session_id).await?;
        let socket = server.api.agent_socket(&agent).await?;
        let watch = Watch::start(socket, chat.session_id);
        Ok(Self {
            server,
            chat,
            watch,
            queued,
        })
    }

    /// Runs the chat for [`WINDOW`] beside `flood`, then waits for its messages to arrive.
    async fn outcome<F: Future<Output = Result<u64>>>(self, flood: F) -> Result<Outcome> {
        let (sent, flood_count) = tokio::join!(chat(&self.server.api, &self.chat), flood);
        let (sent, flood_count) = (sent?, flood_count?);
        let (open, received) = self.watch.settle(sent).await;
        Ok(Outcome {
            open,
            received,
            sent,
            flood_count,
        })
    }
}

async fn typing_flood(binary: &Path) -> Result<Outcome> {
    let scene = Scene::set_up(binary, 1).await?;
    let flooder = scene.queued.first().context("no flooding visitor")?.clone();
    let mut socket = scene.server.api.visitor_socket(&flooder).await?;
    let flood = async move {
        for n in 0..TYPING_FRAMES {
            let frame = socket::text(&VisitorFrame::Typing { typing: n % 2 == 0 })?;
            socket.feed(frame).await.context("sending typing")?;
        }
        socket.flush().await.context("sending typing")?;
        Ok(TYPING_FRAMES as u64)
    };
    scene.outcome(flood).await
}

async fn regarding_flood(binary: &Path) -> Result<Outcome> {
    let scene = Scene::set_up(binary, QUEUED_SESSIONS).await?;
    let flooder = scene.queued.first().context("no queued session")?.clone();
    let api = scene.server.api.clone();
    let flood = async move {
        let until = Instant::now() + WINDOW;
        let mut changes = 0u64;
        while Instant::now() < until {
            api.set_regarding(&flooder, format!("Order #{changes}"))
                .await?;
            changes += 1;
        }
        Ok(changes)
    };
    scene.outcome(flood).await
}

/// The chat's visitor writes every [`CHAT_INTERVAL`] for [`WINDOW`]; returns how many
/// messages the server accepted.
async fn chat(api: &Api, visitor: &Visitor) -> Result<u64> {
    let until = Instant::now() + WINDOW;
    let mut ticks = tokio::time::interval(CHAT_INTERVAL);
    let mut sent = 0u64;
    while Instant::now() < until {
        ticks.tick().await;
        api.send(visitor, format!("Chat message {sent}")).await?;
        sent += 1;
    }
    Ok(sent)
}

/// The agent's stream, counting the chat's visitor messages until it closes.
struct Watch {
    received: Arc<AtomicU64>,
    closed: Arc<AtomicBool>,
    changed: Arc<Notify>,
    _reader: JoinHandle<()>,
}

impl Watch {
    fn start(mut socket: Socket, session_id: Uuid) -> Self {
        let received = Arc::new(AtomicU64::new(0));
        let closed = Arc::new(AtomicBool::new(false));
        let changed = Arc::new(Notify::new());
        let reader = {
            let (received, closed, changed) = (received.clone(), closed.clone(), changed.clone());
            tokio::spawn(async move {
                loop {
                    match socket::next::<AgentEvent>(&mut socket).await {
                        Ok(Some(AgentEvent::Message { message }))
                            if message.session_id == session_id
                                && message.sender == Sender::Visitor =>
                        {
                            received.fetch_add(1, Ordering::SeqCst);
                            changed.notify_one();
                        }
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(error) => {
                            eprintln!("  the agent's stream broke: {error:#}");
                            break;
                        }
                    }
                }
                closed.store(true, Ordering::SeqCst);
                changed.notify_one();
            })
        };
        Self {
            received,
            closed,
            changed,
            _reader: reader,
        }
    }

    /// Waits until `sent` messages arrived, the socket closed, or [`DRAIN`] passed; then
    /// whether the socket is open and how many arrived.
    async fn settle(&self, sent: u64) -> (bool, u64) {
        let deadline = Instant::now() + DRAIN;
        while self.received.load(Ordering::SeqCst) < sent && !self.closed.load(Ordering::SeqCst) {
            if tokio::time::timeout_at(deadline, self.changed.notified())
                .await
                .is_err()
            {
                break;
            }
        }
        (
            !self.closed.load(Ordering::SeqCst),
            self.received.load(Ordering::SeqCst),
        )
    }
}
