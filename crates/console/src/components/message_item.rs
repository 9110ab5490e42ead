//! One message of a conversation: who wrote it, when, and what, always as text: a message
//! that looks like markup is shown exactly as typed.

use leptos::prelude::*;
use palaver_protocol::{Message, Sender};

use crate::components::timestamp::Timestamp;

/// One message: who wrote it, when, and what, as text.
#[component]
pub fn MessageItem(
    /// The message.
    message: Message,
    /// The visitor's name, which may arrive after their messages.
    visitor: Memo<String>,
) -> impl IntoView {
    let (sender, author) = match message.sender {
        Sender::Visitor => ("visitor", Signal::from(visitor)),
        Sender::Agent { name, .. } => ("agent", Signal::stored(name)),
        Sender::System => ("system", Signal::stored("System".to_owned())),
    };
    view! {
        <li class=format!("message {sender}") data-testid="message" data-sender=sender data-seq=message.seq>
            <p class="meta">
                <span class="author">{author}</span>
                <Timestamp at=message.created_at />
            </p>
            <p class="body" data-testid="message-body">{message.body}</p>
        </li>
    }
}
