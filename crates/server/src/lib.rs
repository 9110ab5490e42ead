//! The Palaver chat server: the public visitor API and WebSocket the widget talks to, the
//! agent API, storage, and the static files that put the widget on a page.
//!
//! # Layout
//! Layers run one way: a module uses only what is below it (`cargo xtask test` checks that
//! no two files import each other, directly or in a circle). From the top:
//! - [`startup`]: [`Application`] (build, port, run) and the background sweep; nobody
//!   imports it but the binary.
//! - [`http`]: the router, extractors, [`http::error::ApiError`], OpenAPI, the visitor,
//!   agent and site routes, and the two WebSocket streams.
//! - [`chat`]: the rules of PRODUCT.md, one file per area, with their own error type.
//! - [`assignment`]: who takes which chat: presence, the queue, the routing pass, status.
//! - [`store`]: the [`store::Store`] trait and its SQLite implementation.
//! - building blocks, importing nothing above them: [`hub`] (live fan-out to sockets),
//!   [`clock`] (the injectable clock every time rule reads), [`bearers`] (what tokens
//!   met before open, remembered), [`identity`] (identity tokens'
//!   keys and claims), [`tokens`] (bearer tokens and passwords), [`domain`] (parsed input:
//!   names, numbers, emails, message text), [`config`] (flags and the channels file).
//! - [`state`]: [`AppState`], which everything may hold.

pub mod assignment;
pub mod bearers;
pub mod chat;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod hub;
pub mod identity;
pub mod startup;
pub mod state;
pub mod store;
pub mod tokens;

pub use config::Config;
pub use startup::Application;
pub use state::AppState;
