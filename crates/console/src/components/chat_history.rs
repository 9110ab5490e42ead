//! Chat History: every session of the open conversation's contact, newest first, each opening
//! read-only, with a way back to the list and one back to the conversation.

use leptos::prelude::*;

use crate::{
    components::{conversation::Conversation, history_list::HistoryList},
    console::Console,
};

/// The list, or one of its sessions.
#[component]
pub fn ChatHistory() -> impl IntoView {
    let console = expect_context::<Console>();
    let history = console.history;
    let name = move || {
        console
            .main
            .session
            .with(|row| row.as_ref().map(|row| row.to.name.clone()))
            .unwrap_or_default()
    };
    view! {
        <section class="chat-history" data-testid="chat-history" aria-label="Chat History">
            <header class="history-head">
                <h2>"Chat History " <span class="muted">{name}</span></h2>
                <button
                    type="button"
                    class="quiet"
                    data-testid="history-close"
                    on:click=move |_| console.close_history()
                >
                    "Close"
                </button>
            </header>
            {move || {
                if history.view.id.get().is_some() {
                    view! { <Conversation view=history.view from_history=true /> }.into_any()
                } else {
                    view! { <HistoryList /> }.into_any()
                }
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use palaver_protocol::{Sender, SessionState};
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use crate::{
        route::hash,
        test_support::{Agent, Mounted, held, message, row},
    };

    #[wasm_bindgen_test]
    async fn chat_history_lists_the_contacts_sessions_and_opens_one_read_only() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let current = held(row(60), &agent);
        let mut earlier = row(0);
        earlier.to = current.to.clone();
        earlier.session.contact_id = current.to.id;
        earlier.session.state = SessionState::Ended;
        earlier.session.ended_at = Some(earlier.session.started_at + chrono::Duration::minutes(5));
        earlier.session.regarding = Some("Order #1".into());
        let (now_id, then_id) = (current.session.id, earlier.session.id);
        agent.conversation(&current, &[]);
        agent.conversation(
            &earlier,
            &[message(then_id, 1, Sender::Visitor, "Last week's question")],
        );
        agent.answer(
            "GET",
            &format!("/contacts/{}/sessions", current.to.id),
            200,
            json!([current, earlier]),
        );
        let console = Mounted::console(Some(&agent), &hash(now_id));
        console.wait_for("chat-history-button").await.click();
        console.wait_for("history-row").await;
        let rows = console.all("history-row");
        assert_eq!(
            rows.iter()
                .map(|row| row.get_attribute("data-session-id").unwrap_or_default())
                .collect::<Vec<_>>(),
            [now_id.to_string(), then_id.to_string()],
            "newest first"
        );
        let states: Vec<String> = console
            .all("history-state")
            .iter()
            .map(|cell| cell.text_content().unwrap_or_default())
            .collect();
        assert_eq!(states, ["active", "ended"]);
        let start = console
            .find("history-start")
            .and_then(|cell| cell.query_selector("time").ok().flatten())
            .expect("a <time> in Start");
        assert!(
            start
                .get_attribute("title")
                .is_some_and(|title| title.ends_with("UTC"))
        );

        rows[1].click();
        console.wait_for("read-only-notice").await;
        console.wait_for("message").await;
        let conversation = console.find("conversation").expect("the session");
        assert_eq!(
            conversation.get_attribute("data-session-id"),
            Some(then_id.to_string())
        );
        assert_eq!(console.messages()[0].1, "Last week's question");
        for action in [
            "reply-input",
            "join",
            "end-session",
            "set-waiting",
            "chat-history-button",
        ] {
            assert!(console.find(action).is_none(), "no {action}");
        }

        console.find("history-back").expect("a way back").click();
        console.wait_for("history-row").await;
        console
            .find("history-close")
            .expect("a close button")
            .click();
        console.wait_for("reply-input").await;
        assert!(console.find("chat-history").is_none());
        assert_eq!(
            console
                .find("conversation")
                .and_then(|conversation| conversation.get_attribute("data-session-id")),
            Some(now_id.to_string())
        );
    }
}
