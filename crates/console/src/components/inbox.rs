//! The inbox: the filters (state, Configuration, agent, search) and the table of sessions
//! they select, newest first, kept live. A session with messages the agent has not seen is
//! marked and bold until opened; a click opens it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use uuid::Uuid;

use crate::{
    components::{Headings, on_enter, timestamp::Timestamp},
    console::Console,
    inbox::{AgentChoice, STATES, mode_name, state_from_name, state_name},
};

/// How long the search waits for typing to pause before asking the server.
const SEARCH_PAUSE: Duration = Duration::from_millis(300);

/// One row as shown: everything it displays, so a row is drawn again only when it changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Row {
    id: Uuid,
    name: String,
    /// Phone, email and user id, those the contact has.
    details: Vec<String>,
    regarding: String,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    channel: String,
    mode: &'static str,
    state: &'static str,
    agent: String,
    unread: bool,
    selected: bool,
}

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

/// One session in the table; a click (or Enter) opens it.
#[component]
fn InboxRow(row: Row) -> impl IntoView {
    let console = expect_context::<Console>();
    let id = row.id;
    let open = move || console.route.go(Some(id));
    view! {
        <tr
            class="session-row"
            class:unread=row.unread
            class:selected=row.selected
            data-testid="inbox-row"
            data-session-id=id.to_string()
            tabindex="0"
            aria-selected=row.selected.to_string()
            on:click=move |_| open()
            on:keydown=on_enter(open)
        >
            <td data-testid="row-to">
                <span class="to-name">
                    {row
                        .unread
                        .then(|| {
                            view! {
                                <span
                                    class="unread-mark"
                                    data-testid="unread-mark"
                                    title="Unread messages"
                                    aria-label="Unread messages"
                                ></span>
                            }
                        })}
                    {row.name}
                </span>
                {row
                    .details
                    .into_iter()
                    .map(|detail| view! { <span class="to-detail">{detail}</span> })
                    .collect_view()}
            </td>
            <td data-testid="row-regarding">{row.regarding}</td>
            <td data-testid="row-start">
                <Timestamp at=row.started_at />
            </td>
            <td data-testid="row-end">
                {match row.ended_at {
                    Some(at) => view! { <Timestamp at /> }.into_any(),
                    None => view! { <span class="muted">"open"</span> }.into_any(),
                }}
            </td>
            <td data-testid="row-channel">{row.channel}</td>
            <td data-testid="row-mode">{row.mode}</td>
            <td data-testid="row-state">
                <span class=format!("state state-{}", row.state)>{row.state}</span>
            </td>
            <td data-testid="row-agent">{row.agent}</td>
        </tr>
    }
}

/// The filters above the table; each change loads the inbox again, the search once typing
/// pauses. The filters change only here, so each `<select>` keeps its own choice.
#[component]
fn Filters() -> impl IntoView {
    let console = expect_context::<Console>();
    let filters = console.filters;
    let search = RwSignal::new(filters.with_untracked(|filters| filters.search.clone()));
    let typed = StoredValue::new(0_u32);
    let on_search = move |event| {
        search.set(event_target_value(&event));
        typed.update_value(|count| *count += 1);
        let count = typed.get_value();
        leptos::task::spawn_local(async move {
            gloo_timers::future::sleep(SEARCH_PAUSE).await;
            // Only the last keystroke's pause counts; a gone filter bar has nothing to do.
            if typed.try_get_value() == Some(count) {
                let text = search.get_untracked();
                filters.update(|filters| filters.search = text);
            }
        });
    };
    view! {
        <form class="filters" role="search" on:submit=|event| event.prevent_default()>
            <label>
                <span class="label">"State"</span>
                <select
                    data-testid="filter-state"
                    on:change=move |event| {
                        let state = state_from_name(&event_target_value(&event));
                        filters.update(|filters| filters.state = state);
                    }
                >
                    <option value="">"All states"</option>
                    {STATES
                        .map(|state| {
                            let name = state_name(state);
                            view! { <option value=name>{name}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                <span class="label">"Configuration"</span>
                <select
                    data-testid="filter-channel"
                    on:change=move |event| {
                        let channel = Some(event_target_value(&event)).filter(|id| !id.is_empty());
                        filters.update(|filters| filters.channel = channel);
                    }
                >
                    <option value="">"All configurations"</option>
                    <For
                        each=move || console.channels.get()
                        key=|channel| (channel.id.clone(), channel.name.clone())
                        let:channel
                    >
                        <option value=channel.id>{channel.name}</option>
                    </For>
                </select>
            </label>
            <label>
                <span class="label">"Agent"</span>
                <select
                    data-testid="filter-agent"
                    on:change=move |event| {
                        let agent = AgentChoice::from_value(&event_target_value(&event));
                        filters.update(|filters| filters.agent = agent);
                    }
                >
                    <option value="">"Anyone"</option>
                    <option value="me">"Me"</option>
                    <option value="none">"Unassigned"</option>
                    <For
                        each=move || console.agents.get()
                        key=|agent| (agent.id, agent.name.clone())
                        let:agent
                    >
                        <option value=agent.id.to_string()>{agent.name}</option>
                    </For>
                </select>
            </label>
            <label class="search">
                <span class="label">"Search"</span>
                <input
                    type="search"
                    placeholder="Name or number"
                    data-testid="inbox-search"
                    prop:value=move || search.get()
                    on:input=on_search
                />
            </label>
        </form>
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
