//! One session in the inbox table: To (name and details, marked while unread), Regarding,
//! Start, End, Configuration, mode, state and agent; a click (or Enter) opens it.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use uuid::Uuid;

use crate::{
    components::{on_enter, timestamp::Timestamp},
    console::Console,
};

/// One session in the table; a click (or Enter) opens it.
#[component]
pub fn InboxRow(
    /// What the row shows.
    row: Row,
) -> impl IntoView {
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

/// One row as shown: everything it displays, so a row is drawn again only when it changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Row {
    pub id: Uuid,
    pub name: String,
    /// Phone, email and user id, those the contact has.
    pub details: Vec<String>,
    pub regarding: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub channel: String,
    pub mode: &'static str,
    pub state: &'static str,
    pub agent: String,
    pub unread: bool,
    pub selected: bool,
}
