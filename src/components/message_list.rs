//! The conversation: confirmed messages in sequence order, then what the visitor typed that
//! is still on its way, the queue position while no agent has joined, and the agent's typing.
//! On a persistent channel, a welcome line before the first message and, once an agent has
//! closed the conversation, a note that the next message starts a new one.
//! Every text is rendered as text, never as markup.

use leptos::{html, prelude::*};
use palaver_protocol::Sender;

use crate::{chat::ChatConnection, i18n::Texts};

/// One row of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    key: String,
    seq: Option<i64>,
    sender: &'static str,
    author: String,
    body: String,
    /// `sent`, `pending` or `refused`.
    status: &'static str,
    note: Option<String>,
}

/// The scrolling list; scrolling to its top loads earlier messages.
#[component]
pub fn MessageList() -> impl IntoView {
    let chat = expect_context::<ChatConnection>();
    let texts = expect_context::<&'static Texts>();
    let scroller = NodeRef::<html::Div>::new();
    let lines = Memo::new(move |_| {
        let mut lines: Vec<Line> = chat.messages.with(|messages| {
            messages
                .values()
                .map(|message| {
                    let (sender, author) = match &message.sender {
                        Sender::Visitor => ("visitor", texts.you.to_owned()),
                        Sender::Agent { name, .. } => ("agent", name.clone()),
                        Sender::System => ("system", String::new()),
                    };
                    Line {
                        // Sequence numbers start again in a persistent visitor's fresh
                        // conversation: the session keeps the rows apart.
                        key: format!("m{}-{}", message.session_id, message.seq),
                        seq: Some(message.seq),
                        sender,
                        author,
                        body: message.body.clone(),
                        status: "sent",
                        note: None,
                    }
                })
                .collect()
        });
        chat.outbox.with(|outbox| {
            lines.extend(outbox.iter().map(|outgoing| {
                Line {
                    key: format!(
                        "p{}{}",
                        outgoing.pending.client_msg_id,
                        outgoing.refused.is_some()
                    ),
                    seq: None,
                    sender: "visitor",
                    author: texts.you.to_owned(),
                    body: outgoing.pending.body.clone(),
                    status: if outgoing.refused.is_some() {
                        "refused"
                    } else {
                        "pending"
                    },
                    note: Some(
                        outgoing
                            .refused
                            .clone()
                            .unwrap_or_else(|| texts.sending.to_owned()),
                    ),
                }
            }))
        });
        lines
    });
    let closed = Memo::new(move |_| chat.state.with(|state| state.chat_state().closed));
    let welcome = move || {
        chat.persistent()
            && !closed.get()
            && chat.messages.with(|messages| messages.is_empty())
            && chat.outbox.with(|outbox| outbox.is_empty())
    };
    // Follow the conversation down as it grows.
    Effect::new(move |_| {
        lines.track();
        chat.agent_typing.track();
        closed.track();
        if let Some(scroller) = scroller.get() {
            request_animation_frame(move || scroller.set_scroll_top(scroller.scroll_height()));
        }
    });
    let on_scroll = move |_| {
        if let Some(scroller) = scroller.get_untracked()
            && scroller.scroll_top() == 0
            && chat.has_older.get_untracked()
        {
            chat.load_older();
        }
    };
    view! {
        <div class="messages" node_ref=scroller on:scroll=on_scroll>
            <Show when=move || chat.has_older.get()>
                <button
                    type="button"
                    class="link load-older"
                    data-testid="load-older"
                    on:click=move |_| chat.load_older()
                >
                    {texts.load_older}
                </button>
            </Show>
            <Show when=welcome>
                <p class="greeting welcome" data-testid="welcome">
                    {texts.welcome}
                </p>
            </Show>
            <ol class="message-list" data-testid="message-list">
                <For each=move || lines.get() key=|line| line.key.clone() let:line>
                    <li
                        class=format!("message {} {}", line.sender, line.status)
                        data-testid="message"
                        data-seq=line.seq.map(|seq| seq.to_string())
                        data-sender=line.sender
                        data-status=line.status
                    >
                        <Show when={
                            let shown = !line.author.is_empty();
                            move || shown
                        }>
                            <span class="author">{line.author.clone()}</span>
                        </Show>
                        <p class="body" data-testid="message-body">
                            {line.body.clone()}
                        </p>
                        {line.note.clone().map(|note| view! { <span class="status">{note}</span> })}
                    </li>
                </For>
            </ol>
            <Show when=move || closed.get()>
                <p
                    class="message system conversation-closed"
                    data-testid="conversation-closed"
                    role="status"
                >
                    {texts.conversation_closed}
                </p>
            </Show>
            {move || {
                chat.queue
                    .get()
                    .map(|queue| {
                        view! {
                            <p class="message system queue" data-testid="queue-status" role="status">
                                {texts.queue(queue.position, queue.estimated_wait_seconds)}
                            </p>
                        }
                    })
            }}
            {move || {
                chat.agent_typing
                    .get()
                    .map(|name| {
                        view! {
                            <p class="typing" data-testid="typing">
                                {format!("{name} {}", texts.typing)}
                            </p>
                        }
                    })
            }}
        </div>
    }
}
