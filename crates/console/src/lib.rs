//! The Palaver agent console: where agents sign in, watch the inbox, answer visitors and look
//! back through a contact's Chat History. It is a Leptos app rendered on the client, compiled
//! to WebAssembly by Trunk, and served by the Palaver server at `/console/`.
//!
//! # Layout
//! - `src/main.rs`: the entry point, three lines, calling [`mount`].
//! - [`app`]: the root component; provides the contexts that outlive a sign-in (the API,
//!   [`auth::Auth`], the open conversation's [`route::Route`], the [`drafts::Drafts`]) and
//!   shows the sign-in form or the console.
//! - [`auth`]: signing in and out, the stored sign-in and its expiry.
//! - [`console`]: `use_console()`, the signed-in console as signals and actions, provided by
//!   the workspace component; one file per concern under `console/`: `team`, `inbox` (the
//!   live inbox), `view` (a conversation on screen, its pages and catch-up), `actions` (join,
//!   waiting, end, Regarding), `replies`, `typing`, `history` (Chat History), `stream` (the
//!   agent event stream, kept up by the client crate) and `events` (what its frames change).
//! - [`inbox`]: the filters, their query and the same filters applied to live changes.
//! - [`unread`]: what the agent has seen of each session.
//! - [`drafts`]: replies typed but not sent, kept across an expired sign-in and a reload.
//! - [`route`]: the open conversation in the address (`#/sessions/<id>`).
//! - [`time`]: date-times in the agent's time zone, with UTC for machines and on hover.
//! - [`api`]: the server's agent API, on the client crate's fetch helpers and
//!   [`api::ApiFailure`]; [`storage`]: the console's corner of localStorage; [`tasks`]:
//!   background work that ends with the component that started it.
//! - [`components`]: one component per file, the public one first: sign_in, workspace,
//!   header, team, inbox, inbox_row, filters, headings, conversation_pane, conversation,
//!   regarding, message_list, message_item, reply_box, chat_history, history_list, timestamp.
//! - `style/console.css`, `index.html` and `Trunk.toml`: the page and its build into `dist/`.
//!
//! What the widget shares with it (backoff, the link state, the reconnecting socket, the
//! transcript kept by sequence number, the fake server of the tests) is `palaver-client`.
//!
//! Everything a visitor typed is rendered as text, never as markup.
//!
//! Tests sit next to the code they test under `#[cfg(test)]` and run in headless Chromium:
//! `cargo test -p palaver-console --target wasm32-unknown-unknown`. `test_support` mounts
//! the console against the client crate's fake server (its REST answers and its event
//! stream, inside the page).

use leptos::prelude::*;

use crate::app::App;

pub mod api;
pub mod app;
pub mod auth;
pub mod components;
pub mod console;
pub mod drafts;
pub mod inbox;
pub mod route;
pub mod storage;
pub mod tasks;
#[cfg(test)]
mod test_support;
pub mod time;
pub mod unread;

/// Mounts the console into the page's body, for the page's lifetime.
pub fn mount() {
    leptos::mount::mount_to_body(|| view! { <App /> });
}
