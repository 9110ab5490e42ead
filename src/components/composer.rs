//! Where the visitor writes: Enter sends, Shift+Enter starts a new line, and the agent is
//! told while the visitor types.

use leptos::{ev, prelude::*};
use palaver_protocol::limits::MESSAGE_MAX_CHARS;

use crate::{chat::ChatConnection, i18n::Texts};

/// How often, at most, "still typing" is sent while the visitor keeps typing.
const TYPING_EVERY_MS: f64 = 3_000.0;

/// The message box and its send button.
#[component]
pub fn Composer() -> impl IntoView {
    let chat = expect_context::<ChatConnection>();
    let texts = expect_context::<&'static Texts>();
    let text = RwSignal::new(String::new());
    let last_typing = StoredValue::new(0.0_f64);
    let submit = move || {
        let body = text.get_untracked().trim().to_owned();
        if !body.is_empty() {
            chat.send(body);
            text.set(String::new());
            last_typing.set_value(0.0);
        }
    };
    let on_input = move |event: ev::Event| {
        text.set(event_target_value(&event));
        let now = js_sys::Date::now();
        if now - last_typing.get_value() > TYPING_EVERY_MS {
            last_typing.set_value(now);
            chat.set_typing(true);
        }
    };
    let on_keydown = move |event: ev::KeyboardEvent| {
        if event.key() == "Enter" && !event.shift_key() && !event.is_composing() {
            event.prevent_default();
            submit();
        }
    };
    let on_blur = move |_| {
        if last_typing.get_value() > 0.0 {
            last_typing.set_value(0.0);
            chat.set_typing(false);
        }
    };
    view! {
        <form
            class="composer"
            on:submit=move |event| {
                event.prevent_default();
                submit();
            }
        >
            <textarea
                data-testid="composer-input"
                data-focus-first
                rows="1"
                maxlength=MESSAGE_MAX_CHARS
                aria-label=texts.message_placeholder
                placeholder=texts.message_placeholder
                prop:value=move || text.get()
                on:input=on_input
                on:keydown=on_keydown
                on:blur=on_blur
            ></textarea>
            <button type="submit" class="send" data-testid="send" aria-label=texts.send>
                <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                    <path d="M4 12l16-8-6 16-2-6-8-2z" />
                </svg>
            </button>
        </form>
    }
}
