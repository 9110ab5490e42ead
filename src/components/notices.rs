//! The notices above a persistent channel's composer: agents away (messages still go
//! through) and a sign-in that ran out. Neither blocks the composer; what the visitor types
//! waits in the outbox until it can be sent.

use leptos::prelude::*;

use crate::{chat::ChatConnection, i18n::Texts};

/// The notices that apply now; nothing in live mode.
#[component]
pub fn ChatNotices() -> impl IntoView {
    let chat = expect_context::<ChatConnection>();
    let texts = expect_context::<&'static Texts>();
    let away = move || {
        let info = chat.channel.get()?;
        (chat.persistent() && !info.open)
            .then(|| texts.away(info.next_open_at.map(|at| at.timestamp_millis() as f64)))
    };
    view! {
        {move || {
            away()
                .map(|text| {
                    view! {
                        <p class="notice closed" data-testid="away-notice" role="status">
                            {text}
                        </p>
                    }
                })
        }}
        <Show when=move || chat.state.with(|state| state.chat_state().sign_in_expired)>
            <p class="notice error" role="alert" data-testid="sign-in-expired">
                {texts.sign_in_expired}
            </p>
        </Show>
    }
}
