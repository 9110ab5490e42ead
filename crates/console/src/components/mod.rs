//! The console's components, one per file, and the Enter handler several of them share.

use leptos::ev::KeyboardEvent;

pub mod chat_history;
pub mod conversation;
pub mod conversation_pane;
pub mod filters;
pub mod header;
pub mod headings;
pub mod history_list;
pub mod inbox;
pub mod inbox_row;
pub mod message_item;
pub mod message_list;
pub mod regarding;
pub mod reply_box;
pub mod sign_in;
pub mod team;
pub mod timestamp;
pub mod workspace;

pub use headings::Headings;

/// A keydown handler that runs `action` on Enter: a table row that opens something on a
/// click opens it from the keyboard too.
pub fn on_enter(action: impl Fn() + 'static) -> impl Fn(KeyboardEvent) + 'static {
    move |event| {
        if event.key() == "Enter" {
            action();
        }
    }
}
