//! The right-hand pane: the open conversation, Chat History over it when asked for, or a
//! prompt to pick a conversation.

use leptos::prelude::*;

use crate::{
    components::{chat_history::ChatHistory, conversation::Conversation},
    console::Console,
};

/// Whichever the agent is looking at.
#[component]
pub fn ConversationPane() -> impl IntoView {
    let console = expect_context::<Console>();
    move || {
        if console.history.open.get() {
            view! { <ChatHistory /> }.into_any()
        } else if console.main.id.get().is_some() {
            view! { <Conversation view=console.main /> }.into_any()
        } else {
            view! {
                <div class="placeholder">
                    <p>"Pick a conversation in the inbox."</p>
                    <p class="muted">"New chats appear at the top as visitors start them."</p>
                </div>
            }
            .into_any()
        }
    }
}
