//! What the Palaver visitor widget and the agent console share in the browser: how a call to
//! the server fails, how long to wait before trying again, the state of the live link, and
//! the event stream that reconnects by itself and catches up by sequence number, so that no
//! message is lost or shown twice.
//!
//! # Layout
//! - [`error`]: [`ApiFailure`], a refusal with its [`palaver_protocol::ErrorCode`] or an
//!   unreachable server; codes are compared as enum variants, never as strings.
//! - [`fetch`]: sending a REST request and reading its typed answer ([`fetch::call`]),
//!   bearer credentials, retrying while the server is unreachable, WebSocket addresses.
//! - [`backoff`]: [`Backoff`], 0.5 s doubling to 30 s, jittered.
//! - [`link`]: [`Link`], the stream's state (connecting, online, offline) with `Display`.
//! - [`socket`]: one open WebSocket, typed: a [`socket::FrameSender`] backed by a writer task
//!   and a stream of [`socket::Events`].
//! - [`reconnect`]: [`reconnect::keep_connected`], one connection after another with backoff,
//!   and [`reconnect::WakeUp`], which cuts a wait short when the browser comes back online
//!   or the page becomes visible.
//! - [`transcript`]: [`Transcript`], one session's messages, each once, in sequence order;
//!   its last `seq` is what a reconnect catches up from.
//! - `testing` (feature `testing`): a fake server inside the page, a fake `fetch` with a
//!   table of routes and recorded requests and a fake WebSocket with sent and pushed frames,
//!   for both apps' wasm-bindgen tests.
//!
//! The crate holds no Leptos components and no app state: each app keeps its own hook
//! (`use_console`, `use_chat_connection`) and calls these pieces from it. A hook's
//! connection is `keep_connected(link, wake_up.start(), || self.connect_once())`, where
//! `connect_once` opens [`socket::open`], sends its `auth` frame (naming
//! [`Transcript::last_seq`] when the server replays from there), handles events until the
//! stream drops, and answers [`reconnect::Ended`].
//!
//! Tests run in headless Chromium: `cargo test -p palaver-client --target
//! wasm32-unknown-unknown`.

pub mod backoff;
pub mod error;
pub mod fetch;
pub mod link;
pub mod reconnect;
pub mod socket;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod transcript;

pub use backoff::Backoff;
pub use error::ApiFailure;
pub use link::Link;
pub use transcript::Transcript;

// Every test of the crate runs in the browser: fetch, WebSocket and timers are the page's.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
