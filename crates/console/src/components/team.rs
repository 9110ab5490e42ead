//! The team: every agent, whether they take new chats, and how many they hold against their
//! capacity, kept live from the agent events.

use leptos::prelude::*;

use crate::console::Console;

/// A compact list under the inbox.
#[component]
pub fn Team() -> impl IntoView {
    let console = expect_context::<Console>();
    let available = move || {
        console
            .agents
            .with(|agents| agents.iter().filter(|agent| agent.available).count())
    };
    view! {
        <details class="team" data-testid="team">
            <summary>
                "Team "
                <span class="muted">
                    {move || {
                        format!(
                            "{} of {} available",
                            available(),
                            console.agents.with(Vec::len),
                        )
                    }}
                </span>
            </summary>
            <ul>
                <For
                    each=move || console.agents.get()
                    key=|agent| (agent.id, agent.name.clone(), agent.available, agent.load, agent.capacity)
                    let:agent
                >
                    <li class="team-member" class:away=!agent.available data-testid="team-member">
                        <span class="dot" aria-hidden="true"></span>
                        <span class="name">{agent.name}</span>
                        <span class="muted">
                            {if agent.available { "available" } else { "away" }}
                        </span>
                        <span class="load">{format!("{} / {}", agent.load, agent.capacity)}</span>
                    </li>
                </For>
            </ul>
        </details>
    }
}
