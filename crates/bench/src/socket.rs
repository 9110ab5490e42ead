//! WebSocket clients: connect and send the first frame, then read JSON frames.

use std::time::Duration;

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use serde::{Serialize, de::DeserializeOwned};
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens `url` and sends `first` (the `auth` frame).
pub async fn open(url: &str, first: &impl Serialize) -> Result<Socket> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    send(&mut socket, first).await?;
    Ok(socket)
}

pub async fn send(socket: &mut Socket, frame: &impl Serialize) -> Result<()> {
    socket.send(text(frame)?).await.context("sending a frame")
}

/// A frame as a WebSocket text message.
pub fn text(frame: &impl Serialize) -> Result<Message> {
    Ok(Message::Text(
        serde_json::to_string(frame)
            .context("encoding a frame")?
            .into(),
    ))
}

/// The next JSON text frame; `None` once the socket is closed. Frames that are not JSON of
/// type `T` are an error: both targets speak the protocol's frames.
pub async fn next<T: DeserializeOwned>(socket: &mut Socket) -> Result<Option<T>> {
    while let Some(message) = socket.next().await {
        match message {
            Ok(Message::Text(text)) => {
                return serde_json::from_str(text.as_str())
                    .map(Some)
                    .with_context(|| format!("decoding the frame {text}"));
            }
            Ok(Message::Close(_)) | Err(_) => return Ok(None),
            Ok(_) => {}
        }
    }
    Ok(None)
}

/// How long a frame that must come may take, so that a stuck run fails instead of hanging.
const FRAME_DEADLINE: Duration = Duration::from_secs(60);

/// Reads frames until one matches `wanted`; fails when the socket closes first or nothing
/// matches within [`FRAME_DEADLINE`].
pub async fn until<T: DeserializeOwned>(
    socket: &mut Socket,
    wanted: impl Fn(&T) -> bool,
) -> Result<T> {
    let waiting = async {
        loop {
            let frame = next::<T>(socket)
                .await?
                .context("the socket closed before the expected frame")?;
            if wanted(&frame) {
                return Ok(frame);
            }
        }
    };
    tokio::time::timeout(FRAME_DEADLINE, waiting)
        .await
        .context("no expected frame within the deadline")?
}
