//! The inbox filters: state, Configuration, agent and a search by name or number. Each
//! change loads the inbox again; the search waits for typing to pause.

use std::time::Duration;

use leptos::prelude::*;

use crate::{
    console::Console,
    inbox::{AgentChoice, STATES, state_from_name, state_name},
};

/// How long the search waits for typing to pause before asking the server.
const SEARCH_PAUSE: Duration = Duration::from_millis(300);

/// The filters above the table; each change loads the inbox again, the search once typing
/// pauses. The filters change only here, so each `<select>` keeps its own choice.
#[component]
pub fn Filters() -> impl IntoView {
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
