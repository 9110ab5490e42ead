//! A conversation's messages in sequence order: the visitor's on one side, agents' on the
//! other, the system's centred and muted; "Load earlier" at the top while older ones exist,
//! and the visitor's typing at the bottom. Every text is rendered as text, never as markup.

use leptos::{html, prelude::*};

use crate::{
    components::message_item::MessageItem,
    console::{Console, SessionView},
};

/// How close to the bottom (px) still counts as reading the newest messages, which the list
/// then follows as they arrive.
const FOLLOW_WITHIN: i32 = 48;

/// The scrolling list of `view`'s messages.
#[component]
pub fn MessageList(
    /// The conversation.
    view: SessionView,
) -> impl IntoView {
    let console = expect_context::<Console>();
    let scroller = NodeRef::<html::Div>::new();
    let visitor = Memo::new(move |_| {
        view.session
            .with(|row| row.as_ref().map(|row| row.to.name.clone()))
            .unwrap_or_else(|| "Visitor".to_owned())
    });
    let messages = Memo::new(move |_| {
        view.transcript
            .with(|transcript| transcript.messages().cloned().collect::<Vec<_>>())
    });
    // Where the reader was, from the bottom, before the list changed.
    let from_bottom = StoredValue::new(0);
    let first_seq = StoredValue::new(None::<i64>);
    Effect::new(move |_| {
        let first = messages.with(|messages| messages.first().map(|message| message.seq));
        view.visitor_typing.track();
        let Some(scroller) = scroller.get() else {
            return;
        };
        let earlier_added =
            matches!((first, first_seq.get_value()), (Some(now), Some(before)) if now < before);
        first_seq.set_value(first);
        let keep = from_bottom.get_value();
        request_animation_frame(move || {
            let bottom = scroller.scroll_height() - scroller.client_height();
            if earlier_added {
                // Older messages went in above: the ones being read stay where they were.
                scroller.set_scroll_top(bottom - keep);
            } else if keep <= FOLLOW_WITHIN {
                scroller.set_scroll_top(bottom);
            }
        });
    });
    let on_scroll = move |_| {
        if let Some(scroller) = scroller.get_untracked() {
            from_bottom.set_value(
                scroller.scroll_height() - scroller.client_height() - scroller.scroll_top(),
            );
        }
    };
    view! {
        <div class="messages" node_ref=scroller on:scroll=on_scroll>
            <Show when=move || view.has_earlier.get()>
                <button
                    type="button"
                    class="quiet load-earlier"
                    data-testid="load-earlier"
                    disabled=move || view.loading.get()
                    on:click=move |_| console.load_earlier(view)
                >
                    "Load earlier messages"
                </button>
            </Show>
            <Show when=move || view.loading.get() && messages.with(Vec::is_empty)>
                <p class="muted centred">"Loading…"</p>
            </Show>
            <ol class="message-list" aria-live="polite">
                <For
                    each=move || messages.get()
                    key=|message| (message.session_id, message.seq)
                    let:message
                >
                    <MessageItem message visitor />
                </For>
            </ol>
            <Show when=move || view.visitor_typing.get()>
                <p class="typing" data-testid="visitor-typing" role="status">
                    {move || format!("{} is typing…", visitor.get())}
                </p>
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use palaver_protocol::Sender;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use crate::test_support::{Agent, Mounted, eventually, held, message, row};

    #[wasm_bindgen_test]
    async fn earlier_messages_load_page_by_page_above_the_newest() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let chat = held(row(0), &agent);
        let id = chat.session.id;
        let console =
            Mounted::open(&agent, &chat, &[message(id, 3, Sender::Visitor, "third")]).await;
        assert!(
            console.find("load-earlier").is_none(),
            "nothing earlier said"
        );
        drop(console);

        agent.answer(
            "GET",
            &format!("/sessions/{id}/messages?limit=200"),
            200,
            json!({"messages": [message(id, 3, Sender::Visitor, "third")], "has_more": true}),
        );
        agent.answer(
            "GET",
            &format!("/sessions/{id}/messages?before=3&limit=200"),
            200,
            json!({"messages": [message(id, 1, Sender::System, "first"),
                                message(id, 2, Sender::Visitor, "second")],
                   "has_more": false}),
        );
        let console = Mounted::console(Some(&agent), &crate::route::hash(id));
        console.wait_for("load-earlier").await.click();
        eventually("the earlier page is above", || {
            console.messages().len() == 3
        })
        .await;
        let bodies: Vec<String> = console
            .messages()
            .into_iter()
            .map(|(_, body)| body)
            .collect();
        assert_eq!(bodies, ["first", "second", "third"]);
        assert!(
            console.find("load-earlier").is_none(),
            "the start is reached"
        );
    }
}
