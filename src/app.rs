//! The root component: reads the settings, starts the chat connection, provides both as
//! context once, wires the host page's commands, and composes the launcher and the panel.
//! It also moves focus: into the panel when it opens, back to the launcher when it closes.

use leptos::{ev, html, prelude::*};
use wasm_bindgen::JsCast;

use crate::{
    bridge::{Bridge, Command},
    chat::{ChatOptions, use_chat_connection},
    components::{launcher::Launcher, panel::Panel},
    config::{Position, WidgetConfig},
    i18n::Texts,
    ui::Ui,
};

/// The whole widget: a launcher button in the corner of the page and the chat panel it opens.
#[component]
pub fn App(
    /// The settings from the embed tag.
    config: WidgetConfig,
    /// The host element's event bridge to `window.Palaver`; none when mounted without the
    /// loader (tests).
    #[prop(optional)]
    bridge: Bridge,
) -> impl IntoView {
    let texts = Texts::for_language(config.language);
    let open = RwSignal::new(false);
    let chat = use_chat_connection(&config, bridge.clone(), ChatOptions { open });
    provide_context(texts);
    provide_context(chat);
    provide_context(Ui { open });
    bridge.listen(move |command| match command {
        Command::Open => open.set(true),
        Command::Close => open.set(false),
        Command::Toggle => open.update(|open| *open = !*open),
        Command::SetRegarding(regarding) => chat.set_regarding(regarding),
        Command::Reset => chat.reset(),
        Command::Identify(token) => chat.identify(token),
        Command::IdentifyFailed(reason) => chat.identify_failed(reason),
    });

    let launcher = NodeRef::<html::Button>::new();
    let panel = NodeRef::<html::Section>::new();
    Effect::new(move |was_open: Option<bool>| {
        let is_open = open.get();
        if was_open.is_some_and(|was_open| was_open != is_open) {
            bridge.emit(if is_open { "open" } else { "close" }, &());
            request_animation_frame(move || {
                let target = if is_open {
                    panel
                        .get_untracked()
                        .and_then(|panel| {
                            panel
                                .query_selector("[data-focus-first]:not([hidden] *)")
                                .ok()
                                .flatten()
                        })
                        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
                } else {
                    launcher.get_untracked().map(|launcher| launcher.into())
                };
                if let Some(target) = target {
                    let _ = target.focus();
                }
            });
        }
        is_open
    });
    let on_keydown = move |event: ev::KeyboardEvent| {
        if event.key() == "Escape" && open.get_untracked() {
            open.set(false);
        }
    };
    // A custom property only: the value was checked not to close the declaration.
    let style = config
        .color
        .map(|color| format!("--palaver-accent: {color}; --palaver-accent-dark: {color}"));
    view! {
        <div
            class="palaver"
            class:left=config.position == Position::Left
            style=style
            on:keydown=on_keydown
        >
            <Panel node_ref=panel />
            <Launcher node_ref=launcher />
            <div class="visually-hidden" aria-live="polite" data-testid="live-region">
                {move || chat.announcement.get()}
            </div>
        </div>
    }
}
