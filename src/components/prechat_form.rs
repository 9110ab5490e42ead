//! The details form a visitor fills in before a live chat: name, contact number and email,
//! each with the server's own message beside it when it needs fixing. A visitor whose
//! earlier chat is over is told why and can start again in one click.

use leptos::prelude::*;
use palaver_protocol::EndReason;

use crate::{chat::ChatConnection, i18n::Texts, session::Details};

/// The form, or the one-click restart with remembered details.
#[component]
pub fn PrechatForm(
    /// Why an earlier chat is over, when the form follows one.
    reason: Option<EndReason>,
) -> impl IntoView {
    let chat = expect_context::<ChatConnection>();
    let texts = expect_context::<&'static Texts>();
    let remembered = chat.remembered_details();
    let editing = RwSignal::new(remembered.is_none());
    let details = remembered.clone().unwrap_or_default();
    let name = RwSignal::new(details.name);
    let phone = RwSignal::new(details.phone);
    let email = RwSignal::new(details.email);
    let entered = move || Details {
        name: name.get_untracked(),
        phone: phone.get_untracked(),
        email: email.get_untracked(),
    };
    let closed = move || chat.channel.get().is_some_and(|channel| !channel.open);
    let email_label = move || {
        let required = chat
            .channel
            .get()
            .is_some_and(|channel| channel.require_email);
        if required {
            texts.email
        } else {
            texts.email_optional
        }
    };
    let form_error = move || {
        chat.state
            .with(|state| state.form_state().and_then(|form| form.error.clone()))
    };
    let starting = move || {
        chat.state
            .with(|state| state.form_state().is_some_and(|form| form.starting))
    };
    view! {
        <div class="prechat">
            {reason
                .map(|reason| {
                    view! {
                        <p class="notice" data-testid="restart-notice">
                            {texts.ended(reason)}
                        </p>
                    }
                })}
            <p class="greeting">{texts.greeting}</p>
            <Show when=closed>
                <p class="notice closed" data-testid="closed-notice" role="status">
                    {texts.closed_now}
                </p>
            </Show>
            <Show when=move || !editing.get() && remembered.is_some()>
                <div class="quick-start">
                    <button
                        type="button"
                        class="primary"
                        data-testid="start-again"
                        data-focus-first
                        disabled=starting
                        on:click=move |_| chat.start(entered())
                    >
                        {format!("{} {}", texts.start_again_as, name.get_untracked())}
                    </button>
                    <button
                        type="button"
                        class="link"
                        data-testid="other-details"
                        on:click=move |_| editing.set(true)
                    >
                        {texts.use_other_details}
                    </button>
                </div>
            </Show>
            <form
                class="prechat-form"
                data-testid="prechat-form"
                novalidate
                hidden=move || !editing.get()
                on:submit=move |event| {
                    event.prevent_default();
                    chat.start(entered());
                }
            >
                <Field id="name" label=Signal::derive(move || texts.name) value=name autocomplete="name" kind="text" first=true />
                <Field id="phone" label=Signal::derive(move || texts.phone) value=phone autocomplete="tel" kind="tel" first=false />
                <Field id="email" label=Signal::derive(email_label) value=email autocomplete="email" kind="email" first=false />
                <Show when=move || form_error().is_some()>
                    <p class="form-error" role="alert" data-testid="form-error">
                        {form_error}
                    </p>
                </Show>
                <button
                    type="submit"
                    class="primary"
                    data-testid="start-chat"
                    disabled=starting
                >
                    {move || if starting() { texts.starting } else { texts.start }}
                </button>
            </form>
        </div>
    }
}

/// One labelled input with the server's message for it, tied together for screen readers.
#[component]
fn Field(
    /// The field's name, as the server names it in its errors.
    id: &'static str,
    label: Signal<&'static str>,
    value: RwSignal<String>,
    /// The browser's autofill hint.
    autocomplete: &'static str,
    /// The input type.
    kind: &'static str,
    /// Whether focus lands here when the panel opens.
    first: bool,
) -> impl IntoView {
    let chat = expect_context::<ChatConnection>();
    let error = move || {
        chat.state.with(|state| {
            state
                .form_state()
                .and_then(|form| form.fields.get(id).cloned())
        })
    };
    let input_id = format!("palaver-{id}");
    let error_id = format!("palaver-{id}-error");
    view! {
        <div class="field">
            <label for=input_id.clone()>{label}</label>
            <input
                id=input_id
                name=id
                type=kind
                autocomplete=autocomplete
                data-testid=format!("input-{id}")
                data-focus-first=first.then_some("")
                aria-invalid=move || error().is_some().to_string()
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:input=move |event| value.set(event_target_value(&event))
            />
            <p class="field-error" id=error_id data-testid=format!("error-{id}") aria-live="polite">
                {error}
            </p>
        </div>
    }
}
