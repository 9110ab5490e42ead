//! Paced open-loop chat load against either target, and the latency of each message from
//! its send to the recipient's socket.
//!
//! A step sends at a fixed rate for a fixed time, whatever the target answers (open loop: a
//! slow answer never delays the next send), spreading messages over the chats and
//! alternating visitor and agent. Each body carries the step and its send instant, so the
//! receiving socket's task measures the latency and late messages of an earlier step are
//! ignored.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use palaver_protocol::{
    AgentRef, Sender,
    frames::{AgentEvent, AgentFrame, VisitorEvent, VisitorFrame},
};
use tokio::{
    sync::{Notify, Semaphore, mpsc},
    task::JoinSet,
};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use uuid::Uuid;

use crate::{
    palaver::{Api, Visitor},
    relay::{AGENT_PATH, RelayFrame, VISITOR_PATH},
    socket::{self, Socket},
    stats::Samples,
    target::Process,
};

/// How long a step of the search sends.
pub const STEP: Duration = Duration::from_secs(2);
/// How long after a step its last messages may take to arrive before they count as lost.
const DRAIN: Duration = Duration::from_secs(2);
/// Requests the generator keeps in flight at most; a send beyond that counts as lost, so an
/// overloaded target cannot exhaust the generator's sockets.
const MAX_IN_FLIGHT: usize = 2000;
/// How many chats one agent holds.
pub const CHATS_PER_AGENT: usize = 100;
/// How many chats are set up at once.
const SETUP_CONCURRENCY: usize = 16;

/// Receives every message's arrival and keeps the current step's latencies.
pub struct Recorder {
    base: Instant,
    step: AtomicU64,
    latencies: Mutex<Vec<Duration>>,
    /// How many arrivals complete the step; `u64::MAX` while it is still sending.
    expected: AtomicU64,
    complete: Notify,
}

impl Recorder {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            base: Instant::now(),
            step: AtomicU64::new(0),
            latencies: Mutex::new(Vec::new()),
            expected: AtomicU64::new(u64::MAX),
            complete: Notify::new(),
        })
    }

    /// A message body: the step and the send instant, in nanoseconds since `base`.
    fn stamp(&self, step: u64) -> String {
        format!("{step} {}", self.base.elapsed().as_nanos())
    }

    /// A message with `body` reached its recipient now.
    pub fn arrived(&self, body: &str) {
        let now = self.base.elapsed();
        let Some((step, sent)) = body.split_once(' ') else {
            return;
        };
        let (Ok(step), Ok(sent)) = (step.parse::<u64>(), sent.parse::<u64>()) else {
            return;
        };
        if step != self.step.load(Ordering::SeqCst) {
            return;
        }
        let count = match self.latencies.lock() {
            Ok(mut latencies) => {
                latencies.push(now.saturating_sub(Duration::from_nanos(sent)));
                latencies.len() as u64
            }
            Err(_) => return,
        };
        if count >= self.expected.load(Ordering::SeqCst) {
            self.complete.notify_one();
        }
    }

    fn begin(&self) -> u64 {
        self.expected.store(u64::MAX, Ordering::SeqCst);
        if let Ok(mut latencies) = self.latencies.lock() {
            latencies.clear();
        }
        self.step.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn arrivals(&self) -> u64 {
        self.latencies.lock().map_or(0, |l| l.len() as u64)
    }

    /// Waits until `sent` messages have arrived, or `DRAIN` has passed.
    async fn drain(&self, sent: u64) {
        self.expected.store(sent, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + DRAIN;
        while self.arrivals() < sent {
            if tokio::time::timeout_at(deadline, self.complete.notified())
                .await
                .is_err()
            {
                return;
            }
        }
    }

    fn take(&self) -> Samples {
        self.latencies
            .lock()
            .map(|mut l| l.drain(..).collect())
            .unwrap_or_default()
    }
}

/// One chat of the server: its visitor and the agent who joined it.
pub struct PalaverChat {
    visitor: Visitor,
    agent: Arc<str>,
}

/// One room of the relay: the frames to write to its visitor's and its agent's socket.
pub struct RelayChat {
    visitor: mpsc::UnboundedSender<WsMessage>,
    agent: mpsc::UnboundedSender<WsMessage>,
}

/// Chats set up on a target, their receiving sockets read by background tasks.
pub enum Chats {
    Palaver {
        api: Api,
        chats: Vec<PalaverChat>,
        in_flight: Arc<Semaphore>,
        _readers: JoinSet<()>,
    },
    Relay {
        chats: Vec<RelayChat>,
        _tasks: JoinSet<()>,
    },
}

impl Chats {
    /// `count` chats on the server with `agents` (signed in here), each agent holding
    /// [`CHATS_PER_AGENT`] of them: every agent's stream carries every session's events, so
    /// more agents would multiply what each message costs.
    pub async fn palaver(
        api: &Api,
        agents: &[AgentRef],
        count: usize,
        recorder: &Arc<Recorder>,
    ) -> Result<Self> {
        let mut readers = JoinSet::new();
        let mut tokens: Vec<Arc<str>> = Vec::new();
        let mut holdings: Vec<Vec<Uuid>> = vec![Vec::new(); agents.len()];
        for agent in agents {
            tokens.push(api.login(&agent.name).await?.into());
        }
        let mut chats = Vec::with_capacity(count);
        let mut visitor_sockets = Vec::with_capacity(count);
        for batch in (0..count).collect::<Vec<_>>().chunks(SETUP_CONCURRENCY) {
            let mut starting = JoinSet::new();
            for &n in batch {
                let api = api.clone();
                let agent = tokens[n / CHATS_PER_AGENT].clone();
                starting.spawn(async move {
                    let visitor = api.start(n).await?;
                    api.join(&agent, visitor.session_id).await?;
                    let socket = api.visitor_socket(&visitor).await?;
                    anyhow::Ok((n, visitor, socket))
                });
            }
            while let Some(started) = starting.join_next().await {
                let (n, visitor, socket) = started.context("starting a chat")??;
                holdings[n / CHATS_PER_AGENT].push(visitor.session_id);
                chats.push((
                    n,
                    PalaverChat {
                        visitor,
                        agent: tokens[n / CHATS_PER_AGENT].clone(),
                    },
                ));
                visitor_sockets.push(socket);
            }
        }
        chats.sort_by_key(|(n, _)| *n);
        for socket in visitor_sockets {
            readers.spawn(read_visitor(socket, recorder.clone()));
        }
        for (token, held) in tokens.iter().zip(holdings) {
            let socket = api.agent_socket(token).await?;
            readers.spawn(read_agent(socket, held, recorder.clone()));
        }
        Ok(Self::Palaver {
            api: api.clone(),
            chats: chats.into_iter().map(|(_, chat)| chat).collect(),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            _readers: readers,
        })
    }

    /// `count` rooms on the relay at `port`.
    pub async fn relay(port: u16, count: usize, recorder: &Arc<Recorder>) -> Result<Self> {
        let mut tasks = JoinSet::new();
        let mut chats = Vec::with_capacity(count);
        for _ in 0..count {
            let room = Uuid::new_v4();
            let visitor = socket::open(
                &format!("ws://127.0.0.1:{port}{VISITOR_PATH}"),
                &VisitorFrame::Auth {
                    token: room.to_string(),
                    after_seq: 0,
                    session_id: None,
                },
            )
            .await?;
            let agent = socket::open(
                &format!("ws://127.0.0.1:{port}{AGENT_PATH}"),
                &AgentFrame::Auth {
                    token: room.to_string(),
                },
            )
            .await?;
            let (visitor, visitor_ready) = relay_socket(&mut tasks, visitor, recorder, true);
            let (agent, agent_ready) = relay_socket(&mut tasks, agent, recorder, false);
            for ready in [visitor_ready, agent_ready] {
                ready.await.context("a relay socket closed before ready")?;
            }
            chats.push(RelayChat { visitor, agent });
        }
        Ok(Self::Relay {
            chats,
            _tasks: tasks,
        })
    }

    /// Sends message number `n` with `body`: chat `n % chats`, from the visitor on even
    /// rounds and from the agent on odd ones.
    fn send(&self, n: u64, body: String) -> Result<()> {
        let count = match self {
            Self::Palaver { chats, .. } => chats.len(),
            Self::Relay { chats, .. } => chats.len(),
        } as u64;
        let chat = (n % count) as usize;
        let from_visitor = (n / count).is_multiple_of(2);
        match self {
            Self::Palaver {
                api,
                chats,
                in_flight,
                ..
            } => {
                // No permit: the generator already waits on too many answers; the message is
                // never sent and the step cannot pass.
                let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                    return Ok(());
                };
                let api = api.clone();
                let visitor = chats[chat].visitor.clone();
                let agent = chats[chat].agent.clone();
                tokio::spawn(async move {
                    // A refused send never arrives, which fails the step.
                    let _ = if from_visitor {
                        api.send(&visitor, body).await
                    } else {
                        api.reply(&agent, visitor.session_id, body).await
                    };
                    drop(permit);
                });
            }
            Self::Relay { chats, .. } => {
                let frame = socket::text(&RelayFrame::Send {
                    client_msg_id: n.to_string(),
                    body,
                })?;
                let outbox = if from_visitor {
                    &chats[chat].visitor
                } else {
                    &chats[chat].agent
                };
                let _ = outbox.send(frame);
            }
        }
        Ok(())
    }

    /// Waits until the sends of earlier steps have all been answered, so that a step starts
    /// on a target with nothing left over (bounded: a stuck request times out in the client).
    async fn settle(&self) {
        if let Self::Palaver { in_flight, .. } = self {
            let all = MAX_IN_FLIGHT as u32;
            if let Ok(permits) = in_flight.acquire_many(all).await {
                drop(permits);
            }
        }
    }
}

/// What one step measured.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub sent: u64,
    pub delivered: u64,
    pub p99: Duration,
    /// The target's CPU time over the step and its drain, in seconds.
    pub cpu_seconds: f64,
}

/// The latency every message must beat at the 99th percentile.
pub const P99_BOUND: Duration = Duration::from_millis(50);

impl Step {
    pub fn passed(&self) -> bool {
        self.delivered == self.sent && self.p99 <= P99_BOUND
    }
}

/// Sends at `rate` messages a second for `length`, then waits for the stragglers.
pub async fn step(
    chats: &Chats,
    recorder: &Recorder,
    target: &Process,
    rate: u32,
    length: Duration,
) -> Result<Step> {
    chats.settle().await;
    let step = recorder.begin();
    let cpu_before = target.cpu_seconds()?;
    let started = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_millis(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sent = 0u64;
    loop {
        ticks.tick().await;
        let elapsed = started.elapsed().min(length);
        let due = (elapsed.as_secs_f64() * f64::from(rate)) as u64;
        while sent < due {
            chats.send(sent, recorder.stamp(step))?;
            sent += 1;
        }
        if elapsed >= length {
            break;
        }
    }
    recorder.drain(sent).await;
    let cpu_seconds = target.cpu_seconds()? - cpu_before;
    let mut latencies = recorder.take();
    Ok(Step {
        sent,
        delivered: latencies.len() as u64,
        p99: latencies.p99(),
        cpu_seconds,
    })
}

/// Reads a server visitor's stream: agents' messages arrive.
async fn read_visitor(mut socket: Socket, recorder: Arc<Recorder>) {
    while let Ok(Some(event)) = socket::next::<VisitorEvent>(&mut socket).await {
        if let VisitorEvent::Message { message } = event
            && matches!(message.sender, Sender::Agent { .. })
        {
            recorder.arrived(&message.body);
        }
    }
}

/// Reads a server agent's stream: the messages of the visitors whose sessions they hold
/// arrive (the stream carries every session's; the others are someone else's).
async fn read_agent(mut socket: Socket, held: Vec<Uuid>, recorder: Arc<Recorder>) {
    let held: std::collections::HashSet<Uuid> = held.into_iter().collect();
    while let Ok(Some(event)) = socket::next::<AgentEvent>(&mut socket).await {
        if let AgentEvent::Message { message } = event
            && message.sender == Sender::Visitor
            && held.contains(&message.session_id)
        {
            recorder.arrived(&message.body);
        }
    }
}

/// Splits a relay socket into a writer fed by the returned sender and a reader that records
/// the other side's messages; the receiver resolves at the `ready` frame.
fn relay_socket(
    tasks: &mut JoinSet<()>,
    socket: Socket,
    recorder: &Arc<Recorder>,
    visitor: bool,
) -> (
    mpsc::UnboundedSender<WsMessage>,
    tokio::sync::oneshot::Receiver<()>,
) {
    let (mut sink, mut stream) = socket.split();
    let (outbox, mut outgoing) = mpsc::unbounded_channel::<WsMessage>();
    tasks.spawn(async move {
        while let Some(frame) = outgoing.recv().await {
            if sink.send(frame).await.is_err() {
                return;
            }
        }
    });
    let (ready, readied) = tokio::sync::oneshot::channel();
    let recorder = recorder.clone();
    tasks.spawn(async move {
        let mut ready = Some(ready);
        while let Some(Ok(frame)) = stream.next().await {
            let WsMessage::Text(text) = frame else {
                continue;
            };
            let (is_ready, body) = if visitor {
                match serde_json::from_str(text.as_str()) {
                    Ok(VisitorEvent::Ready { .. }) => (true, None),
                    Ok(VisitorEvent::Message { message })
                        if matches!(message.sender, Sender::Agent { .. }) =>
                    {
                        (false, Some(message.body))
                    }
                    _ => (false, None),
                }
            } else {
                match serde_json::from_str(text.as_str()) {
                    Ok(AgentEvent::Ready { .. }) => (true, None),
                    Ok(AgentEvent::Message { message }) if message.sender == Sender::Visitor => {
                        (false, Some(message.body))
                    }
                    _ => (false, None),
                }
            };
            if let Some(body) = body {
                recorder.arrived(&body);
            }
            if is_ready && let Some(ready) = ready.take() {
                let _ = ready.send(());
            }
        }
    });
    (outbox, readied)
}
