//! A conversation's Regarding (the record it is about): an input and Save while it is open,
//! plain text once it is read-only. An empty Regarding clears it.

use leptos::prelude::*;
use palaver_protocol::limits::REGARDING_MAX_CHARS;

use crate::console::{Console, SessionView};

/// The Regarding line of `view`'s session.
#[component]
pub fn Regarding(
    /// The conversation.
    view: SessionView,
    /// Whether the agent may change it.
    #[prop(into)]
    editable: Signal<bool>,
) -> impl IntoView {
    let console = expect_context::<Console>();
    let saved = Memo::new(move |_| {
        view.session.with(|row| {
            row.as_ref()
                .and_then(|row| row.session.regarding.clone())
                .unwrap_or_default()
        })
    });
    let text = RwSignal::new(saved.get_untracked());
    // The input follows the session as it changes (a save, another agent, the host page).
    Effect::new(move |_| text.set(saved.get()));
    let save = move || console.save_regarding(text.get_untracked());
    move || {
        if editable.get() {
            view! {
                <form
                    class="regarding"
                    on:submit=move |event| {
                        event.prevent_default();
                        save();
                    }
                >
                    <label>
                        <span class="label">"Regarding"</span>
                        <input
                            type="text"
                            placeholder="An order, a ticket…"
                            maxlength=REGARDING_MAX_CHARS
                            data-testid="regarding-input"
                            prop:value=move || text.get()
                            on:input=move |event| text.set(event_target_value(&event))
                        />
                    </label>
                    <button
                        type="submit"
                        data-testid="regarding-save"
                        disabled=move || view.busy.get()
                    >
                        "Save"
                    </button>
                </form>
            }
            .into_any()
        } else {
            view! {
                <p class="regarding">
                    <span class="label">"Regarding"</span>
                    <span data-testid="regarding">{move || saved.get()}</span>
                </p>
            }
            .into_any()
        }
    }
}
