//! Chat History's list: the contact's sessions as a table, newest first; a click (or Enter)
//! opens one read-only.

use leptos::prelude::*;

use crate::{
    components::{Headings, on_enter, timestamp::Timestamp},
    console::Console,
    inbox::state_name,
};

/// The contact's sessions as a table.
#[component]
pub fn HistoryList() -> impl IntoView {
    let console = expect_context::<Console>();
    let history = console.history;
    view! {
        {move || history.error.get().map(|error| view! { <p class="error" role="alert">{error}</p> })}
        {move || match history.rows.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(rows) => view! {
                <table class="sessions history">
                    <Headings names=&[
                        "Start",
                        "End",
                        "Configuration",
                        "State",
                        "Agent",
                        "Regarding",
                    ] />
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|row| {
                                let id = row.session.id;
                                let state = state_name(row.session.state);
                                let open = move || console.view_in_history(Some(id));
                                view! {
                                    <tr
                                        class="session-row"
                                        data-testid="history-row"
                                        data-session-id=id.to_string()
                                        tabindex="0"
                                        on:click=move |_| open()
                                        on:keydown=on_enter(open)
                                    >
                                        <td data-testid="history-start">
                                            <Timestamp at=row.session.started_at />
                                        </td>
                                        <td>
                                            {match row.session.ended_at {
                                                Some(at) => view! { <Timestamp at /> }.into_any(),
                                                None => view! { <span class="muted">"open"</span> }.into_any(),
                                            }}
                                        </td>
                                        <td>{console.channel_name(&row.session.channel)}</td>
                                        <td data-testid="history-state">
                                            <span class=format!("state state-{state}")>{state}</span>
                                        </td>
                                        <td>
                                            {row.session.agent.map(|agent| agent.name).unwrap_or_default()}
                                        </td>
                                        <td>{row.session.regarding.unwrap_or_default()}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            }
            .into_any(),
        }}
    }
}
