//! The console's components, one per file, and what several of them share.

use leptos::{ev::KeyboardEvent, prelude::*};

pub mod chat_history;
pub mod conversation;
pub mod conversation_pane;
pub mod header;
pub mod inbox;
pub mod message_list;
pub mod regarding;
pub mod reply_box;
pub mod sign_in;
pub mod team;
pub mod timestamp;
pub mod workspace;

/// A keydown handler that runs `action` on Enter: a table row that opens something on a
/// click opens it from the keyboard too.
pub fn on_enter(action: impl Fn() + 'static) -> impl Fn(KeyboardEvent) + 'static {
    move |event| {
        if event.key() == "Enter" {
            action();
        }
    }
}

/// A table's column headings.
#[component]
pub fn Headings(
    /// The headings, left to right.
    names: &'static [&'static str],
) -> impl IntoView {
    view! {
        <thead>
            <tr>
                {names
                    .iter()
                    .map(|name| view! { <th scope="col">{*name}</th> })
                    .collect_view()}
            </tr>
        </thead>
    }
}
