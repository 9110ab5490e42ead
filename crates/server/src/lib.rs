//! The Palaver chat server: the public visitor API and WebSocket the widget talks to, the
//! agent API, storage, and the static files that put the widget on a page.
//!
//! # Layout
//! - [`config`]: command-line flags and the channels file.
//! - [`startup`]: [`Application`] (build, port, run) and the shared [`AppState`].
//! - [`routes`]: the HTTP surface, one module per audience; WebSockets in `routes::events`.
//! - [`chat`]: the chat rules between handlers and storage.
//! - [`routing`]: agents' availability, the queue, and offering sessions to agents with room.
//! - [`domain`]: parsed input (names, numbers, emails, message text).
//! - [`store`]: the [`store::Store`] trait and its SQLite implementation.
//! - [`hub`]: live fan-out of events to sockets.
//! - [`auth`]: tokens, passwords and the extractors for callers.
//! - [`clock`]: the injectable clock every time rule reads.
//! - [`error`]: [`error::ApiError`], the one error type of the HTTP boundary.

pub mod auth;
pub mod chat;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod hub;
pub mod identity;
pub mod routes;
pub mod routing;
pub mod startup;
pub mod store;

pub use config::Config;
pub use startup::{AppState, Application};
