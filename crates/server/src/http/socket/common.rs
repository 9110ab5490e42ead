//! What both sockets share: JSON frames in and out, the `auth` handshake with its timeout,
//! and the pair of tasks (send, receive) that stop together.

use std::time::Duration;

use axum::extract::{
    WebSocketUpgrade,
    ws::{Message as WsMessage, Utf8Bytes, WebSocket},
};
use futures_util::{
    SinkExt, StreamExt,
    stream::{SplitSink, SplitStream},
};
use palaver_protocol::ErrorBody;
use serde::{Serialize, de::DeserializeOwned};
use tokio::{task::JoinHandle, time::Instant};

use crate::{chat::error::ChatError, http::error::ApiError, state::AppState};

/// How long a client has to send its `auth` frame.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest frame a client sends: `auth`, `typing`, `presence` and `open` are a few
/// hundred bytes at most. Anything larger closes the socket before it is read whole.
const FRAME_MAX_BYTES: usize = 1024;

/// How often, at most, a socket passes a change of typing on.
const TYPING_INTERVAL: Duration = Duration::from_millis(250);

/// A socket as small as its frames allow: an idle one holds a read buffer of twice the
/// largest frame, and writes go out as they are made instead of gathering in a buffer.
pub fn small(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .read_buffer_size(2 * FRAME_MAX_BYTES)
        .write_buffer_size(0)
        .max_message_size(FRAME_MAX_BYTES)
        .max_frame_size(FRAME_MAX_BYTES)
}

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

/// Typing as a socket passes it on: only changes, and at most one per [`TYPING_INTERVAL`];
/// a change that comes sooner is held back until the interval has passed, and only the
/// latest held-back change goes then. Nothing of it is stored.
#[derive(Debug, Default)]
pub struct TypingThrottle<T> {
    sent: Option<T>,
    sent_at: Option<Instant>,
    held: Option<T>,
}

impl<T: Copy + PartialEq> TypingThrottle<T> {
    /// Completes when a held-back change may go; never while none is held back.
    pub async fn due(&self) {
        match (self.held, self.sent_at) {
            (Some(_), Some(sent_at)) => tokio::time::sleep_until(sent_at + TYPING_INTERVAL).await,
            _ => std::future::pending().await,
        }
    }

    /// What to pass on now, given a frame's value (`Some`) or the interval passing (`None`).
    pub fn pass(&mut self, frame: Option<T>) -> Option<T> {
        if let Some(value) = frame {
            self.held = Some(value);
        }
        let wanted = self.held?;
        if self.sent == Some(wanted) {
            self.held = None;
            return None;
        }
        let now = Instant::now();
        if self
            .sent_at
            .is_some_and(|sent_at| now < sent_at + TYPING_INTERVAL)
        {
            return None;
        }
        self.held = None;
        self.sent = Some(wanted);
        self.sent_at = Some(now);
        Some(wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn typing_passes_only_changes() {
        let mut typing = TypingThrottle::default();
        assert_eq!(typing.pass(Some(true)), Some(true));
        tokio::time::advance(TYPING_INTERVAL).await;
        assert_eq!(typing.pass(Some(true)), None);
        assert_eq!(typing.pass(Some(true)), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_of_changes_passes_a_few_a_second_and_ends_on_the_latest() {
        let mut typing = TypingThrottle::default();
        let mut passed = Vec::new();
        let started = Instant::now();
        // 20,000 changes over two seconds, one every 100 µs.
        for index in 0..20_000 {
            if let Some(value) = typing.pass(Some(index % 2 == 0)) {
                passed.push(value);
            }
            tokio::time::advance(Duration::from_micros(100)).await;
        }
        // The last frame, number 19,999, said "not typing".
        let last_frame = false;
        // A latest change held back goes once its interval is due.
        let _ = tokio::time::timeout(TYPING_INTERVAL, typing.due()).await;
        if let Some(value) = typing.pass(None) {
            passed.push(value);
        }
        let seconds = started.elapsed().as_secs_f64();
        assert!(
            passed.len() as f64 <= seconds / TYPING_INTERVAL.as_secs_f64() + 2.0,
            "{} changes passed in {seconds} s",
            passed.len()
        );
        assert_eq!(passed.last(), Some(&last_frame));
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_is_due_while_nothing_is_held_back() {
        let mut typing = TypingThrottle::default();
        assert_eq!(typing.pass(Some(false)), Some(false));
        let due = tokio::time::timeout(Duration::from_secs(60), typing.due()).await;
        assert!(due.is_err(), "nothing held back, nothing due");
    }
}
