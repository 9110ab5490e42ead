//! One open WebSocket, typed: [`open`] gives a [`FrameSender`] for the frames a client
//! sends and an [`Events`] stream of the events the server sends, both JSON text frames.
//! A writer task owns the socket's sending half, so that any part of an app can send without
//! holding the socket; it ends (and the socket closes) once every [`FrameSender`] is dropped.
//!
//! Keeping it open across drops is [`crate::reconnect`]'s part.

use std::marker::PhantomData;

use futures::{
    SinkExt, StreamExt,
    channel::mpsc::{UnboundedSender, unbounded},
    stream::SplitStream,
};
use gloo_net::websocket::{Message as WsMessage, futures::WebSocket};
use serde::{Serialize, de::DeserializeOwned};

/// Writes frames of type `F` to one open socket. Cheap to clone; every clone writes to the
/// same socket, in the order the frames were given.
pub struct FrameSender<F> {
    text: UnboundedSender<String>,
    frame: PhantomData<fn(&F)>,
}

impl<F> Clone for FrameSender<F> {
    fn clone(&self) -> Self {
        Self {
            text: self.text.clone(),
            frame: PhantomData,
        }
    }
}

impl<F: Serialize> FrameSender<F> {
    /// Queues `frame`; `false` when the socket has closed (the frame is then dropped).
    pub fn send(&self, frame: &F) -> bool {
        serde_json::to_string(frame).is_ok_and(|text| self.text.unbounded_send(text).is_ok())
    }
}

/// The events of type `E` the server sends on one socket.
pub struct Events<E> {
    read: SplitStream<WebSocket>,
    event: PhantomData<fn() -> E>,
}

impl<E: DeserializeOwned> Events<E> {
    /// The next event; `None` once the socket has closed or failed. A frame that does not
    /// read as an `E` (a newer server's) is skipped.
    pub async fn next(&mut self) -> Option<E> {
        loop {
            let text = next_text(&mut self.read).await?;
            if let Ok(event) = serde_json::from_str(&text) {
                return Some(event);
            }
        }
    }
}

/// The next text frame, skipping any other kind; not generic, so it exists once.
async fn next_text(read: &mut SplitStream<WebSocket>) -> Option<String> {
    while let Some(Ok(message)) = read.next().await {
        if let WsMessage::Text(text) = message {
            return Some(text);
        }
    }
    None
}

/// Opens a socket to `url` (`ws:` or `wss:`, see [`crate::fetch::socket_url`]); `None` when
/// the browser refuses the address. Frames given before the socket opens are sent once it
/// does, so a first `auth` frame can be queued at once.
pub fn open<F: Serialize, E: DeserializeOwned>(url: &str) -> Option<(FrameSender<F>, Events<E>)> {
    let (text, read) = open_text(url)?;
    Some((
        FrameSender {
            text,
            frame: PhantomData,
        },
        Events {
            read,
            event: PhantomData,
        },
    ))
}

/// [`open`] without the types: one copy for every kind of socket.
fn open_text(url: &str) -> Option<(UnboundedSender<String>, SplitStream<WebSocket>)> {
    let socket = WebSocket::open(url).ok()?;
    let (mut write, read) = socket.split();
    let (text, mut outgoing) = unbounded::<String>();
    // Leptos's executor, which every app starts when it mounts (and [`crate::testing`] for
    // tests that mount nothing): a second executor would cost the apps bytes for nothing.
    leptos::task::spawn_local(async move {
        while let Some(text) = outgoing.next().await {
            if write.send(WsMessage::Text(text)).await.is_err() {
                break;
            }
        }
    });
    Some((text, read))
}
