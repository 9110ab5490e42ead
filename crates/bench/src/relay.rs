//! The bare relay: what the chat server would be with no storage, no rules and no fan-out
//! beyond one room. A visitor connects to `/visitor`, an agent to `/agent`, each with the
//! server's `auth` frame naming their room (a UUID) as the token and answered by `ready`.
//! A [`RelayFrame::Send`] from either is stamped with the room's next `seq` and goes to both
//! as the server's `message` frame: to the other side as delivery, to the sender as its
//! acknowledgement (the server's streams echo a sender's own messages the same way).

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use palaver_protocol::{
    AgentRef, Message, Sender,
    frames::{AgentEvent, AgentFrame, VisitorEvent, VisitorFrame},
};
use serde::{Deserialize, Serialize};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        Message as WsMessage,
        handshake::server::{Request, Response},
    },
};
use uuid::Uuid;

use crate::socket;

pub const VISITOR_PATH: &str = "/visitor";
pub const AGENT_PATH: &str = "/agent";

/// What a client sends after `auth`; the server takes messages over REST instead.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RelayFrame {
    /// A message for the room, answered by the `message` frame on both sides.
    Send { client_msg_id: String, body: String },
}

/// Which end of a room a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Visitor,
    Agent,
}

/// The frames waiting to be written to one connection.
type Outbox = mpsc::UnboundedSender<WsMessage>;

#[derive(Default)]
struct Room {
    visitor: Option<Outbox>,
    agent: Option<Outbox>,
    seq: i64,
}

/// Every room; a std mutex, because it is held only to copy two senders and bump `seq`.
type Rooms = Arc<Mutex<HashMap<Uuid, Room>>>;

/// Serves until the process is killed.
pub async fn serve(listen: SocketAddr) -> Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    println!("listening on {}", listener.local_addr()?);
    let rooms = Rooms::default();
    loop {
        let (stream, _) = listener.accept().await.context("accepting")?;
        let rooms = rooms.clone();
        tokio::spawn(async move {
            if let Err(error) = connection(stream, rooms).await {
                eprintln!("relay: {error:#}");
            }
        });
    }
}

// The handshake callback's error type is tungstenite's, large or not.
#[allow(clippy::result_large_err)]
async fn connection(stream: TcpStream, rooms: Rooms) -> Result<()> {
    let mut path = String::new();
    let socket = tokio_tungstenite::accept_hdr_async(stream, |request: &Request, response| {
        path = request.uri().path().to_owned();
        Ok::<Response, _>(response)
    })
    .await
    .context("WebSocket handshake")?;
    let side = match path.as_str() {
        VISITOR_PATH => Side::Visitor,
        AGENT_PATH => Side::Agent,
        other => bail!("no such path {other}"),
    };
    let (mut sink, mut stream) = socket.split();
    let room = authenticate(side, &mut stream).await?;
    let ready = match side {
        Side::Visitor => socket::text(&VisitorEvent::Ready { session: None })?,
        Side::Agent => socket::text(&AgentEvent::Ready {
            agent: relay_agent(room),
        })?,
    };
    sink.send(ready).await.context("sending ready")?;

    let (outbox, mut outgoing) = mpsc::unbounded_channel();
    {
        let mut rooms = rooms
            .lock()
            .map_err(|_| anyhow::anyhow!("rooms poisoned"))?;
        let entry = rooms.entry(room).or_default();
        match side {
            Side::Visitor => entry.visitor = Some(outbox),
            Side::Agent => entry.agent = Some(outbox),
        }
    }
    let writing = tokio::spawn(async move {
        while let Some(frame) = outgoing.recv().await {
            if sink.send(frame).await.is_err() {
                return;
            }
        }
    });
    let relayed = relay(side, room, &rooms, stream).await;
    writing.abort();
    // A room ends when either side leaves: the bench opens and closes both together.
    if let Ok(mut rooms) = rooms.lock() {
        rooms.remove(&room);
    }
    relayed
}

/// Reads the `auth` frame of `side`; its token is the room.
async fn authenticate(
    side: Side,
    stream: &mut futures_util::stream::SplitStream<WebSocketStream<TcpStream>>,
) -> Result<Uuid> {
    let Some(Ok(WsMessage::Text(first))) = stream.next().await else {
        bail!("the connection closed before auth");
    };
    let token = match side {
        Side::Visitor => match serde_json::from_str(first.as_str())? {
            VisitorFrame::Auth { token, .. } => token,
            VisitorFrame::Typing { .. } => bail!("the first frame must be auth"),
        },
        Side::Agent => match serde_json::from_str(first.as_str())? {
            AgentFrame::Auth { token } => token,
            _ => bail!("the first frame must be auth"),
        },
    };
    Uuid::parse_str(&token).context("the token names no room")
}

/// Relays each `send` until the connection closes.
async fn relay(
    side: Side,
    room: Uuid,
    rooms: &Rooms,
    mut stream: futures_util::stream::SplitStream<WebSocketStream<TcpStream>>,
) -> Result<()> {
    while let Some(Ok(frame)) = stream.next().await {
        let WsMessage::Text(text) = frame else {
            continue;
        };
        let RelayFrame::Send {
            client_msg_id,
            body,
        } = serde_json::from_str(text.as_str()).context("decoding a frame")?;
        let (seq, visitor, agent) = {
            let mut rooms = rooms
                .lock()
                .map_err(|_| anyhow::anyhow!("rooms poisoned"))?;
            let Some(entry) = rooms.get_mut(&room) else {
                continue;
            };
            entry.seq += 1;
            (entry.seq, entry.visitor.clone(), entry.agent.clone())
        };
        let message = Message {
            id: Uuid::new_v4(),
            session_id: room,
            seq,
            client_msg_id: Some(client_msg_id),
            sender: match side {
                Side::Visitor => Sender::Visitor,
                Side::Agent => Sender::Agent {
                    id: room,
                    name: relay_agent(room).name,
                },
            },
            body,
            created_at: Utc::now(),
        };
        if let Some(visitor) = visitor {
            let _ = visitor.send(socket::text(&VisitorEvent::Message {
                message: message.clone(),
            })?);
        }
        if let Some(agent) = agent {
            let _ = agent.send(socket::text(&AgentEvent::Message { message })?);
        }
    }
    Ok(())
}

/// The agent every room's agent side speaks as.
fn relay_agent(room: Uuid) -> AgentRef {
    AgentRef {
        id: room,
        name: "Relay agent".to_owned(),
    }
}
