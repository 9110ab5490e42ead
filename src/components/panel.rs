//! The chat panel: the card the launcher opens above itself. For now it greets the visitor;
//! the conversation itself lands here.

use leptos::prelude::*;

/// The panel, kept in the document while closed (with `hidden`) so that the launcher's
/// `aria-controls` always points at an element.
#[component]
pub fn Panel(
    /// Whether the panel is shown; its close button sets it to `false`.
    open: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <section
            id="palaver-panel"
            class="panel"
            data-testid="panel"
            role="dialog"
            aria-labelledby="palaver-panel-title"
            hidden=move || !open.get()
        >
            <header class="panel-header">
                <h2 id="palaver-panel-title" class="panel-title">
                    "Chat with us"
                </h2>
                <button
                    type="button"
                    class="panel-close"
                    data-testid="panel-close"
                    aria-label="Close chat"
                    on:click=move |_| open.set(false)
                >
                    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                        <path d="M6 6l12 12M18 6L6 18" />
                    </svg>
                </button>
            </header>
            <div class="panel-body">
                <p class="greeting">"Hi there! Ask us anything, and an agent will answer here."</p>
            </div>
        </section>
    }
}
