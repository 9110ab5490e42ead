//! What a persistent channel shows before its visitor is signed in: that they must sign in
//! on the site, or why the identity the site gave was not accepted. There is no form: only
//! the site can say who the visitor is.

use leptos::prelude::*;

use crate::{chat::ChatConnection, i18n::Texts};

/// The sign-in notice, or the refusal with the server's (or the site's) reason.
#[component]
pub fn SignIn() -> impl IntoView {
    let chat = expect_context::<ChatConnection>();
    let texts = expect_context::<&'static Texts>();
    view! {
        <div class="prechat sign-in">
            {move || match chat.state.with(|state| state.identity_error().map(str::to_owned)) {
                Some(reason) => {
                    view! {
                        <p class="notice error" role="alert" data-testid="identity-error">
                            {texts.identity_error(&reason)}
                        </p>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <div class="greeting">
                            <p class="sign-in-needed" data-testid="sign-in-needed">
                                {texts.sign_in_needed}
                            </p>
                            <p class="hint">{texts.sign_in_hint}</p>
                        </div>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}
