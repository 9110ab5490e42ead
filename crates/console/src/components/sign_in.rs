//! The sign-in form: name and password, the server's reason when it refuses, and the notice
//! that the last sign-in expired.

use leptos::prelude::*;

use crate::auth::Auth;

/// The form, full page.
#[component]
pub fn SignIn() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let name = RwSignal::new(auth.last_name.get_untracked());
    let password = RwSignal::new(String::new());
    // After an expiry the name is known: the password is what is missing.
    let name_known = !name.get_untracked().is_empty();
    view! {
        <main class="sign-in-page">
            <form
                class="sign-in card"
                data-testid="sign-in-form"
                on:submit=move |event| {
                    event.prevent_default();
                    auth.sign_in(name.get_untracked().trim().to_owned(), password.get_untracked());
                }
            >
                <h1>
                    <span class="brand">"Palaver"</span>
                    " console"
                </h1>
                <Show when=move || auth.expired.get()>
                    <p class="notice" role="status" data-testid="sign-in-expired">
                        "Your session has expired. Sign in again."
                    </p>
                </Show>
                <label>
                    "Name"
                    <input
                        type="text"
                        name="name"
                        autocomplete="username"
                        required
                        data-testid="sign-in-name"
                        autofocus=!name_known
                        prop:value=move || name.get()
                        on:input=move |event| name.set(event_target_value(&event))
                    />
                </label>
                <label>
                    "Password"
                    <input
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                        data-testid="sign-in-password"
                        autofocus=name_known
                        prop:value=move || password.get()
                        on:input=move |event| password.set(event_target_value(&event))
                    />
                </label>
                {move || {
                    auth.error
                        .get()
                        .map(|error| {
                            view! {
                                <p class="error" role="alert" data-testid="sign-in-error">
                                    {error}
                                </p>
                            }
                        })
                }}
                <button
                    type="submit"
                    class="primary"
                    data-testid="sign-in-submit"
                    disabled=move || auth.busy.get()
                >
                    {move || if auth.busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use palaver_protocol::AgentToken;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use crate::{
        storage,
        test_support::{Agent, Mounted, error, requests, route},
    };

    #[wasm_bindgen_test]
    async fn wrong_credentials_show_the_servers_reason_and_right_ones_open_the_console() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let console = Mounted::console(None, "");
        console.wait_for("sign-in-form").await;
        assert!(console.find("sign-in-expired").is_none(), "nothing expired");

        route(
            "POST /api/v1/agent/login",
            401,
            error("unauthorized", "The name or password is not right."),
        );
        console.type_into("sign-in-name", "Ada").await;
        console.type_into("sign-in-password", "wrong").await;
        console
            .find("sign-in-submit")
            .expect("a submit button")
            .click();
        console.wait_for("sign-in-error").await;
        assert_eq!(
            console.text("sign-in-error"),
            "The name or password is not right."
        );
        assert_eq!(
            requests("POST /api/v1/agent/login").last(),
            Some(&json!({"name": "Ada", "password": "wrong"}))
        );

        route("POST /api/v1/agent/login", 200, json!(agent.token));
        console.type_into("sign-in-password", "right").await;
        console
            .find("sign-in-submit")
            .expect("a submit button")
            .click();
        console.wait_for("agent-name").await;
        assert_eq!(console.text("agent-name"), "Ada");
        assert_eq!(console.text("agent-load"), "1 / 5");
        assert_eq!(
            storage::read::<AgentToken>("sign-in"),
            Some(agent.token),
            "kept for the next visit"
        );
    }

    #[wasm_bindgen_test]
    async fn a_stored_sign_in_the_server_refuses_leads_to_the_form_with_the_notice() {
        let agent = Agent::new("Grace", chrono::Duration::hours(1));
        agent.answer(
            "GET",
            "/me",
            401,
            error("unauthorized", "Sign in to continue."),
        );
        let console = Mounted::console(Some(&agent), "");
        console.wait_for("sign-in-expired").await;
        assert_eq!(
            console.text("sign-in-expired"),
            "Your session has expired. Sign in again."
        );
        assert_eq!(
            console.value("sign-in-name"),
            "Grace",
            "the name is filled in"
        );
        assert_eq!(storage::read::<AgentToken>("sign-in"), None);
    }
}
