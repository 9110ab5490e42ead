//! The launcher: the round button in the corner of the page that opens and closes the chat,
//! with the number of unread messages while the chat is closed.

use leptos::{html, prelude::*};

use crate::{chat::ChatConnection, i18n::Texts, ui::Ui};

/// The button that toggles the chat panel. Its accessible label includes the unread count,
/// and `aria-expanded` tells assistive technology whether the panel is open.
#[component]
pub fn Launcher(
    /// Lets the app return focus here when the panel closes.
    node_ref: NodeRef<html::Button>,
) -> impl IntoView {
    let Ui { open } = expect_context();
    let chat = expect_context::<ChatConnection>();
    let texts = expect_context::<&'static Texts>();
    let unread = move || if open.get() { 0 } else { chat.unread.get() };
    let label = move || match unread() {
        0 => texts.launcher_label.to_owned(),
        count => format!("{} ({count} {})", texts.launcher_label, texts.unread),
    };
    view! {
        <button
            node_ref=node_ref
            type="button"
            class="launcher"
            data-testid="launcher"
            aria-label=label
            aria-controls="palaver-panel"
            aria-expanded=move || open.get().to_string()
            on:click=move |_| open.update(|open| *open = !*open)
        >
            <Show
                when=move || open.get()
                fallback=|| {
                    view! {
                        <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                            <path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z" />
                        </svg>
                    }
                }
            >
                <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                    <path d="M6 6l12 12M18 6L6 18" />
                </svg>
            </Show>
            <Show when=move || { unread() > 0 }>
                <span class="unread" data-testid="unread" aria-hidden="true">
                    {unread}
                </span>
            </Show>
        </button>
    }
}
