//! Where the agent answers: Enter sends, Shift+Enter starts a new line. The text is the
//! conversation's draft, so it survives a reload or an expired sign-in. The visitor is told
//! while the agent types, a reply on its way shows as pending, and one the network lost is
//! sent again with the same id until the server confirms it.

use leptos::{ev, prelude::*};

use crate::console::{Console, Delivery};

/// The reply box of the open conversation.
#[component]
pub fn ReplyBox() -> impl IntoView {
    let console = expect_context::<Console>();
    let Some(session) = console.main.id.get_untracked() else {
        return ().into_any();
    };
    let me = console.me_id();
    let drafts = console.drafts;
    let delivery = move || console.deliveries.with(|held| held.get(&session).copied());
    let on_input = move |event: ev::Event| {
        drafts.set_text(me, session, event_target_value(&event));
        console.typing();
    };
    let on_keydown = move |event: ev::KeyboardEvent| {
        if event.key() == "Enter" && !event.shift_key() && !event.is_composing() {
            event.prevent_default();
            console.reply();
        }
    };
    view! {
        <form
            class="reply"
            on:submit=move |event| {
                event.prevent_default();
                console.reply();
            }
        >
            <textarea
                rows="3"
                aria-label="Reply"
                placeholder="Write a reply… (Enter sends, Shift+Enter starts a new line)"
                data-testid="reply-input"
                prop:value=move || drafts.get(me, session).text
                readonly=move || delivery().is_some()
                on:input=on_input
                on:keydown=on_keydown
                on:blur=move |_| console.stop_typing()
            ></textarea>
            <div class="reply-bar">
                <span class="muted" role="status" data-testid="reply-status">
                    {move || match delivery() {
                        Some(Delivery::Sending) => "Sending…",
                        Some(Delivery::Retrying) => {
                            "Not sent yet: the server cannot be reached. Trying again…"
                        }
                        None => "",
                    }}
                </span>
                <button
                    type="submit"
                    class="primary"
                    data-testid="reply-send"
                    disabled=move || {
                        delivery().is_some() || drafts.get(me, session).text.trim().is_empty()
                    }
                >
                    "Send"
                </button>
            </div>
        </form>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use palaver_protocol::Sender;
    use serde_json::{Value, json};
    use wasm_bindgen_test::wasm_bindgen_test;

    use crate::test_support::{
        Agent, Mounted, eventually, held, message, push, requests, row, sent_frames,
    };

    #[wasm_bindgen_test]
    async fn enter_sends_the_reply_and_a_refusal_keeps_the_text_with_the_reason() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let chat = held(row(0), &agent);
        let id = chat.session.id;
        let console = Mounted::open(&agent, &chat, &[]).await;
        agent.stream_ready().await;

        let sends = format!("POST /api/v1/agent/sessions/{id}/messages");
        agent.answer(
            "POST",
            &format!("/sessions/{id}/messages"),
            422,
            json!({"error": "validation", "message": "Some fields need fixing.",
                   "fields": {"body": "Messages are plain text: markup like <b> is not allowed."}}),
        );
        console.type_into("reply-input", "Hello <b>there</b>").await;
        eventually("the visitor is told the agent types", || {
            sent_frames().contains(&json!({"type": "typing", "session_id": id, "typing": true}))
        })
        .await;
        console.press("reply-input", "Enter");
        console.wait_for("conversation-error").await;
        assert_eq!(
            console.text("conversation-error"),
            "Messages are plain text: markup like <b> is not allowed."
        );
        assert_eq!(
            console.value("reply-input"),
            "Hello <b>there</b>",
            "nothing typed is lost"
        );
        assert!(
            sent_frames().contains(&json!({"type": "typing", "session_id": id, "typing": false})),
            "sending ends the typing"
        );

        let sent = message(
            id,
            2,
            Sender::Agent {
                id: agent.status.id,
                name: "Ada".into(),
            },
            "Hello there",
        );
        agent.answer(
            "POST",
            &format!("/sessions/{id}/messages"),
            201,
            json!(sent),
        );
        console.type_into("reply-input", "Hello there").await;
        console.press("reply-input", "Enter");
        eventually("the reply shows and the box empties", || {
            console.messages() == [("agent".to_owned(), "Hello there".to_owned())]
                && console.value("reply-input").is_empty()
        })
        .await;
        let bodies = requests(&sends);
        assert_eq!(bodies.len(), 2);
        assert_eq!(bodies[1]["body"], "Hello there");
        assert_ne!(bodies[0]["client_msg_id"], bodies[1]["client_msg_id"]);

        // The same message, echoed by the stream, shows once.
        push(json!({"type": "message", "message": sent}));
        console.press("reply-input", "Enter");
        assert_eq!(console.messages().len(), 1);
        assert_eq!(requests(&sends).len(), 2, "an empty box sends nothing");
    }

    #[wasm_bindgen_test]
    async fn a_reply_the_network_lost_is_sent_again_with_the_same_id() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let chat = held(row(0), &agent);
        let id = chat.session.id;
        let console = Mounted::open(&agent, &chat, &[]).await;

        // No answer to the send yet: the fake fails it as an unreachable server would.
        let sends = format!("POST /api/v1/agent/sessions/{id}/messages");
        console
            .type_into("reply-input", "Are you still there?")
            .await;
        console.find("reply-send").expect("a Send button").click();
        eventually("the console says it keeps trying", || {
            console.text("reply-status").contains("Trying again")
        })
        .await;
        assert_eq!(console.value("reply-input"), "Are you still there?");

        let sent = message(
            id,
            2,
            Sender::Agent {
                id: agent.status.id,
                name: "Ada".into(),
            },
            "Are you still there?",
        );
        agent.answer(
            "POST",
            &format!("/sessions/{id}/messages"),
            201,
            json!(sent),
        );
        eventually("the retry goes through", || console.messages().len() == 1).await;
        let ids: Vec<Value> = requests(&sends)
            .iter()
            .map(|body| body["client_msg_id"].clone())
            .collect();
        assert!(ids.len() >= 2, "sent more than once: {ids:?}");
        assert!(
            ids.iter().all(|sent| *sent == ids[0]),
            "always as one message: {ids:?}"
        );
        assert!(console.value("reply-input").is_empty());
        assert_eq!(console.text("reply-status"), "");
    }
}
