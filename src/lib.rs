//! The Palaver visitor widget: the chat a site owner embeds with one `<script>` tag. It is a
//! Leptos app rendered on the client and compiled to WebAssembly by Trunk.
//!
//! # Layout
//! - `loader/widget.js`: the embed script. It creates the host element (`#palaver-widget`),
//!   attaches an open shadow root holding the stylesheet and the mount container
//!   (`#palaver-root`), copies the embed tag's settings onto the host element, and imports
//!   the module whose `main` calls [`mount`].
//! - `src/main.rs`: that `main`, three lines.
//! - this file: [`mount`], which finds the container inside the shadow root and mounts the
//!   app into it.
//! - [`config`]: [`WidgetConfig`], the settings read from the host element.
//! - [`app`]: the root component; starts the chat, provides contexts once, composes the rest.
//! - [`chat`]: `use_chat_connection()`, the chat as signals and callbacks, one concern a
//!   file: [`chat::state`] (what the panel shows: one enum, plain transitions, tested
//!   natively), [`chat::epoch`] (which answers are stale), and the event stream with
//!   reconnection and catch-up, history pages, the outbox, a live session's resume, start
//!   and end, a persistent visitor's sign-in and refresh, their one open conversation, and
//!   operating hours.
//! - [`session`]: what is kept in localStorage (session, details, outbox, and in persistent
//!   mode the contact the outbox belongs to).
//! - [`api`]: the server's REST API.
//! - [`bridge`]: the host page's `window.Palaver` commands and events.
//! - [`i18n`]: the widget's own words, per language.
//! - [`ui`]: [`ui::Ui`], whether the panel is open, the context the app provides and the
//!   launcher and the panel read.
//! - [`components`]: one component per file (launcher, panel, prechat_form, sign_in,
//!   message_list, notices, composer).
//! - `style/widget.css`: the widget's styles, loaded inside the shadow root, so the host
//!   page's CSS and the widget's never meet.
//! - `index.html` and `Trunk.toml`: the Trunk build, which writes everything to `dist/`.
//!
//! Tests: the browser tests in `tests/widget/` drive the mounted app through this public
//! API against a fake server inside the page (REST and the event stream), in headless
//! Chromium: `cargo test -p palaver-widget --target wasm32-unknown-unknown`. Small unit tests
//! stay beside their code; the pure ones (state, epoch, backoff, refresh timing) also run
//! natively with `cargo test -p palaver-widget --lib`.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

use crate::{app::App, bridge::Bridge};

pub mod api;
pub mod app;
pub mod bridge;
pub mod chat;
pub mod components;
pub mod config;
pub mod i18n;
pub mod session;
pub mod ui;

pub use config::WidgetConfig;

/// The id of the host element the loader appends to the page.
pub const HOST_ID: &str = "palaver-widget";
/// The id of the container, inside the host's shadow root, that the app mounts into.
pub const ROOT_ID: &str = "palaver-root";

/// Mounts the widget into the container the loader prepared. The widget stays mounted for the
/// page's lifetime. A page without the loader's host element gets an error in the console and
/// no widget, rather than a panic.
pub fn mount() {
    match find_mount_point() {
        Ok((config, host, container)) => {
            // The loader drew a placeholder launcher here; the app's own replaces it.
            container.set_inner_html("");
            let bridge = Bridge::new(Some(host));
            leptos::mount::mount_to(container, move || view! { <App config bridge/> }).forget();
        }
        Err(error) => leptos::logging::error!("palaver: the widget cannot start: {error}"),
    }
}

/// Reads the config from the host element and finds the container in its shadow root.
fn find_mount_point() -> Result<(WidgetConfig, web_sys::Element, HtmlElement), String> {
    let host = document().get_element_by_id(HOST_ID).ok_or_else(|| {
        format!("no #{HOST_ID} element on the page; embed the widget with its widget.js loader")
    })?;
    let config = WidgetConfig::from_host(&host)?;
    let shadow = host
        .shadow_root()
        .ok_or_else(|| format!("#{HOST_ID} has no open shadow root"))?;
    let container = shadow
        .get_element_by_id(ROOT_ID)
        .ok_or_else(|| format!("the shadow root of #{HOST_ID} has no #{ROOT_ID} container"))?
        .dyn_into::<HtmlElement>()
        .map_err(|_| format!("#{ROOT_ID} is not an HTML element"))?;
    Ok((config, host, container))
}

// The inline unit tests that need a browser (storage, the DOM, `js_sys`) run in headless
// Chromium, like the tests in `tests/`.
#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
