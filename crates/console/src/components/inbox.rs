//! The inbox: the filters (state, Configuration, agent, search) and the table of sessions
//! they select, newest first, kept live. A session with messages the agent has not seen is
//! marked and bold until opened; a click opens it.

use leptos::prelude::*;

use crate::{
    components::{
        Headings,
        filters::Filters,
        inbox_row::{InboxRow, Row},
    },
    console::Console,
    inbox::{mode_name, state_name},
};

/// The filters and the table.
#[component]
pub fn Inbox() -> impl IntoView {
    let console = expect_context::<Console>();
    let rows = Memo::new(move |_| {
        let open = console.route.open.get();
        console.rows.with(|rows| {
            rows.iter()
                .map(|row| {
                    let session = &row.session;
                    Row {
                        id: session.id,
                        name: row.to.name.clone(),
                        details: [&row.to.phone, &row.to.email, &row.to.user_id]
                            .into_iter()
                            .flatten()
                            .cloned()
                            .collect(),
                        regarding: session.regarding.clone().unwrap_or_default(),
                        started_at: session.started_at,
                        ended_at: session.ended_at,
                        channel: console.channel_name(&session.channel),
                        mode: mode_name(session.mode),
                        state: state_name(session.state),
                        agent: session
                            .agent
                            .as_ref()
                            .map(|agent| agent.name.clone())
                            .unwrap_or_default(),
                        unread: console.is_unread(session.id, session.last_seq),
                        selected: open == Some(session.id),
                    }
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        <section class="inbox" data-testid="inbox" aria-label="Inbox">
            <Filters />
            {move || {
                console
                    .inbox_error
                    .get()
                    .map(|error| view! { <p class="error" role="alert">{error}</p> })
            }}
            <div class="table-scroll" aria-busy=move || console.inbox_loading.get().to_string()>
                <table class="sessions">
                    <Headings names=&[
                        "To",
                        "Regarding",
                        "Start",
                        "End",
                        "Configuration",
                        "Mode",
                        "State",
                        "Agent",
                    ] />
                    <tbody>
                        <For each=move || rows.get() key=|row| row.clone() let:row>
                            <InboxRow row />
                        </For>
                    </tbody>
                </table>
                <Show when=move || rows.with(Vec::is_empty) && !console.inbox_loading.get()>
                    <p class="empty" data-testid="inbox-empty">
                        "No conversations match these filters."
                    </p>
                </Show>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use palaver_protocol::{Sender, SessionState};
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use crate::test_support::{Agent, Mounted, eventually, held, message, push, requests, row};

    #[wasm_bindgen_test]
    async fn each_row_shows_the_session_with_its_contact_and_times_in_utc_on_hover() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let mut chat = held(row(0), &agent);
        chat.session.regarding = Some("Order #1042".into());
        agent.inbox("", &[chat.clone()]);
        let console = Mounted::console(Some(&agent), "");
        console.wait_for("inbox-row").await;
        let cell = |testid: &str| console.text(testid);
        assert!(cell("row-to").contains("Ada Lovelace"));
        assert!(cell("row-to").contains("+442079460958"));
        assert!(cell("row-to").contains("ada@example.com"));
        assert_eq!(cell("row-regarding"), "Order #1042");
        assert_eq!(cell("row-end"), "open");
        assert_eq!(cell("row-channel"), "Demo shop", "the channel's name");
        assert_eq!(cell("row-mode"), "live");
        assert_eq!(cell("row-state"), "active");
        assert_eq!(cell("row-agent"), "Ada");
        let start = console
            .find("row-start")
            .and_then(|cell| cell.query_selector("time").ok().flatten())
            .expect("a <time> in the Start cell");
        assert_eq!(
            start.get_attribute("datetime"),
            Some(crate::time::iso(chat.session.started_at))
        );
        assert!(
            start
                .get_attribute("title")
                .is_some_and(|title| title.ends_with("UTC"))
        );
        assert!(console.find("inbox-empty").is_none());
    }

    #[wasm_bindgen_test]
    async fn live_sessions_join_the_top_and_leave_when_they_stop_matching_the_filters() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let older = row(0);
        agent.inbox("", std::slice::from_ref(&older));
        let console = Mounted::console(Some(&agent), "");
        console.wait_for("inbox-row").await;
        agent.stream_ready().await;

        let newer = row(5);
        push(json!({"type": "session", "session": newer}));
        let (older_id, newer_id) = (older.session.id.to_string(), newer.session.id.to_string());
        eventually("the new session is on top", || {
            console.inbox_ids() == [newer_id.clone(), older_id.clone()]
        })
        .await;

        agent.inbox("state=queued&", &[newer.clone(), older.clone()]);
        console.choose("filter-state", "queued");
        eventually("the filter goes to the server", || {
            requests("GET /api/v1/agent/sessions?state=queued&limit=200").len() == 1
        })
        .await;

        let mut taken = newer.clone();
        taken.session.state = SessionState::Active;
        push(json!({"type": "session", "session": taken}));
        eventually("the session no longer queued leaves", || {
            console.inbox_ids() == [older_id.clone()]
        })
        .await;

        let mut ended = older.clone();
        ended.session.state = SessionState::Ended;
        push(json!({"type": "session", "session": ended}));
        console.wait_for("inbox-empty").await;
    }

    #[wasm_bindgen_test]
    async fn the_search_waits_for_typing_to_pause_then_asks_the_server() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let console = Mounted::console(Some(&agent), "");
        console.wait_for("inbox-empty").await;
        agent.inbox("q=Lovel&", &[row(0)]);
        console.type_into("inbox-search", "Lov").await;
        console.type_into("inbox-search", "Lovel").await;
        console.wait_for("inbox-row").await;
        assert_eq!(
            requests("GET /api/v1/agent/sessions?q=Lov&limit=200").len(),
            0
        );
        assert_eq!(
            requests("GET /api/v1/agent/sessions?q=Lovel&limit=200").len(),
            1
        );
    }

    #[wasm_bindgen_test]
    async fn news_in_a_closed_conversation_marks_it_until_opened_even_after_a_reload() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let (first, second) = (row(0), row(1));
        let id = first.session.id;
        agent.inbox("", &[second.clone(), first.clone()]);
        let console = Mounted::console(Some(&agent), "");
        console.wait_for("inbox-row").await;
        agent.stream_ready().await;
        assert_eq!(console.count("unread-mark"), 0);

        push(json!({"type": "message",
                    "message": message(id, 2, Sender::Visitor, "Anyone there?")}));
        eventually("the row is marked unread", || {
            console.row(id).is_some_and(|row| {
                row.query_selector("[data-testid=unread-mark]")
                    .ok()
                    .flatten()
                    .is_some()
            })
        })
        .await;
        assert!(
            console
                .row(id)
                .is_some_and(|row| row.class_list().contains("unread"))
        );
        assert_eq!(console.count("unread-mark"), 1, "only that one");

        let mut seen = first.clone();
        seen.session.last_seq = 2;
        agent.conversation(&seen, &[]);
        console.row(id).expect("the row").click();
        eventually("opening it clears the mark", || {
            console.count("unread-mark") == 0
        })
        .await;
        console.wait_for("conversation").await;
        drop(console);

        // A reload, after the visitor wrote again while the console was closed.
        let mut moved_on = first.clone();
        moved_on.session.last_seq = 3;
        agent.inbox("", &[second, moved_on]);
        let console = Mounted::console(Some(&agent), "");
        console.wait_for("inbox-row").await;
        eventually("the news is marked", || console.count("unread-mark") == 1).await;
    }
}
