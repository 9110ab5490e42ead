//! The console's header: who is signed in, whether they take new chats, how many they hold
//! against their capacity, the event stream's state, and signing out.

use leptos::prelude::*;
use palaver_client::Link;

use crate::console::Console;

/// The bar across the top.
#[component]
pub fn Header() -> impl IntoView {
    let console = expect_context::<Console>();
    let available = console.available;
    let load = move || {
        console
            .me
            .with(|me| format!("{} / {}", me.load, me.capacity))
    };
    view! {
        <header class="top-bar">
            <span class="brand">"Palaver"</span>
            <span
                class="link-state"
                class:offline=move || console.link.get() != Link::Online
                role="status"
                data-testid="link-state"
            >
                {move || words(console.link.get())}
            </span>
            <div class="me">
                <span class="agent-name" data-testid="agent-name">
                    {move || console.me.with(|me| me.name.clone())}
                </span>
                <button
                    type="button"
                    class="availability"
                    class:away=move || !available.get()
                    aria-pressed=move || available.get().to_string()
                    title="Whether new chats are offered to you"
                    data-testid="availability"
                    on:click=move |_| console.set_available(!available.get_untracked())
                >
                    <span class="dot" aria-hidden="true"></span>
                    {move || if available.get() { "Available" } else { "Away" }}
                </button>
                <span class="load" title="Chats you hold / your capacity">
                    <span class="muted">"Load "</span>
                    <span data-testid="agent-load">{load}</span>
                </span>
                <button
                    type="button"
                    class="quiet"
                    data-testid="sign-out"
                    on:click=move |_| {
                        console.route.go(None);
                        console.auth.sign_out();
                    }
                >
                    "Sign out"
                </button>
            </div>
        </header>
    }
}

/// The event stream's state in the agent's words.
fn words(link: Link) -> &'static str {
    match link {
        Link::Connecting => "Connecting…",
        Link::Online => "Live",
        Link::Offline => "Reconnecting…",
    }
}
