//! The Palaver agent console: where agents sign in, watch the inbox, answer visitors and look
//! back through a contact's Chat History. It is a Leptos app rendered on the client, compiled
//! to WebAssembly by Trunk, and served by the Palaver server at `/console/`.
//!
//! # Layout
//! - `src/main.rs`: the entry point, three lines, calling [`mount`].
//! - [`app`]: the root component; provides the contexts that outlive a sign-in and shows the
//!   sign-in form or the console.
//! - [`auth`]: signing in and out, the stored sign-in and its expiry.
//! - [`console`]: `use_console()`, the signed-in console as signals and actions: inbox,
//!   conversations, replies, Chat History; its `stream` module keeps them live from the agent
//!   event stream, reconnecting and catching up.
//! - [`inbox`]: the filters, their query and the same filters applied to live changes.
//! - [`transcript`]: one conversation's messages, each once, in sequence order.
//! - [`unread`]: what the agent has seen of each session.
//! - [`drafts`]: replies typed but not sent, kept across an expired sign-in and a reload.
//! - [`route`]: the open conversation in the address (`#/sessions/<id>`).
//! - [`time`]: date-times in the agent's time zone, with UTC for machines and on hover.
//! - [`api`]: the server's agent API; [`storage`]: the console's corner of localStorage;
//!   [`tasks`]: background work that ends with the component that started it.
//! - [`components`]: one component per file (sign_in, workspace, header, inbox, team,
//!   conversation_pane, conversation, regarding, message_list, reply_box, chat_history,
//!   timestamp), and the table headings and Enter handler several of them share.
//! - `style/console.css`, `index.html` and `Trunk.toml`: the page and its build into `dist/`.
//!
//! Everything a visitor typed is rendered as text, never as markup.
//!
//! Tests sit next to the code they test under `#[cfg(test)]` and run in headless Chromium:
//! `cargo test -p palaver-console --target wasm32-unknown-unknown`. `test_support` mounts
//! the console and fakes the server (its REST answers and its event stream) inside the page.

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
