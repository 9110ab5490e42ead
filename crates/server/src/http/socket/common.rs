//! What both sockets share: JSON frames in and out, the `auth` handshake with its timeout,
//! and the pair of tasks (send, receive) that stop together.

use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket};
use futures_util::{
    SinkExt, StreamExt,
    stream::{SplitSink, SplitStream},
};
use palaver_protocol::ErrorBody;
use serde::{Serialize, de::DeserializeOwned};
use tokio::task::JoinHandle;

use crate::{chat::error::ChatError, http::error::ApiError, state::AppState};

/// How long a client has to send its `auth` frame.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

pub type Sink = SplitSink<WebSocket, WsMessage>;
pub type Stream = SplitStream<WebSocket>;

pub async fn send_json(sink: &mut Sink, frame: &impl Serialize) -> bool {
    match serde_json::to_string(frame) {
        Ok(text) => sink
            .send(WsMessage::Text(Utf8Bytes::from(text)))
            .await
            .is_ok(),
        Err(error) => {
            tracing::error!(?error, "serializing a frame");
            false
        }
    }
}

/// Reads the next text frame as `T`; `None` when the socket closed or timed out.
pub async fn next_frame<T: DeserializeOwned>(stream: &mut Stream) -> Option<Result<T, ApiError>> {
    loop {
        match stream.next().await? {
            Ok(WsMessage::Text(text)) => {
                return Some(serde_json::from_str(text.as_str()).map_err(|error| {
                    ApiError::BadRequest(format!("That frame is not understood: {error}"))
                }));
            }
            Ok(WsMessage::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Reads the first frame, which must authenticate: `auth` picks the credentials out of it.
/// Anything else is answered with an error frame (made by `error_frame`) and `None`, as is
/// silence past [`AUTH_TIMEOUT`].
pub async fn authenticate<F: DeserializeOwned, T, E: Serialize>(
    sink: &mut Sink,
    stream: &mut Stream,
    auth: impl FnOnce(F) -> Option<T>,
    error_frame: impl FnOnce(ErrorBody) -> E,
) -> Option<T> {
    let error = match tokio::time::timeout(AUTH_TIMEOUT, next_frame::<F>(stream)).await {
        Ok(Some(Ok(frame))) => match auth(frame) {
            Some(credentials) => return Some(credentials),
            None => ApiError::Unauthorized("The first frame must be `auth`."),
        },
        Ok(Some(Err(error))) => error,
        Ok(None) | Err(_) => return None,
    };
    send_json(sink, &error_frame(error.body())).await;
    None
}

/// Waits until the socket's sending or receiving task ends, or the server stops (so that
/// clients reconnect to whichever server runs next), then stops the other.
pub async fn run_until_either_ends(
    state: &AppState,
    mut sending: JoinHandle<()>,
    mut receiving: JoinHandle<()>,
) {
    let stopping = state.stopping();
    tokio::select! {
        _ = &mut sending => receiving.abort(),
        _ = &mut receiving => sending.abort(),
        () = stopping => {
            sending.abort();
            receiving.abort();
        }
    }
}

/// What the `auth` frame's credentials open, or `None` after telling the client why they
/// were refused (made into a frame by `error_frame`).
pub async fn admit<T, E: Serialize>(
    sink: &mut Sink,
    checked: Result<T, ChatError>,
    error_frame: impl FnOnce(ErrorBody) -> E,
) -> Option<T> {
    match checked {
        Ok(admitted) => Some(admitted),
        Err(error) => {
            send_json(sink, &error_frame(ApiError::from(error).body())).await;
            None
        }
    }
}
