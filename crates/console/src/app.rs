//! The root component: provides the contexts that outlive a sign-in (the API, [`Auth`], the
//! open conversation's [`Route`], the [`Drafts`]) once, and shows the sign-in form or the
//! console as [`Auth`] says.

use leptos::prelude::*;

use crate::{
    api::Api,
    auth::{Auth, Phase},
    components::{sign_in::SignIn, workspace::Workspace},
    drafts::Drafts,
    route::Route,
    tasks::Tasks,
};

/// The whole console.
#[component]
pub fn App(
    /// The server's origin, e.g. `http://127.0.0.1:8080`; by default the one the console was
    /// loaded from.
    #[prop(optional, into)]
    server: String,
) -> impl IntoView {
    let api = Api::new(server);
    let auth = Auth::start(api.clone(), Tasks::tied_to_owner());
    provide_context(api);
    provide_context(auth);
    provide_context(Route::follow_location());
    provide_context(Drafts::default());
    move || match auth.phase.get() {
        Phase::Checking => view! {
            <main class="checking" aria-busy="true">
                <p class="muted" data-testid="checking">
                    {move || {
                        if auth.unreachable.get() {
                            "The server cannot be reached. Trying again…"
                        } else {
                            "Signing you in…"
                        }
                    }}
                </p>
            </main>
        }
        .into_any(),
        Phase::SignedOut => view! { <SignIn /> }.into_any(),
        Phase::SignedIn(signed_in) => view! { <Workspace signed_in /> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    use palaver_protocol::Sender;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use crate::test_support::{Agent, Mounted, error, held, message, route, row};

    /// Signs in again as `agent` and waits for the conversation to open.
    async fn sign_in_again(console: &Mounted, agent: &Agent) {
        route("POST /api/v1/agent/login", 200, json!(agent.token));
        console.type_into("sign-in-password", "secret").await;
        console
            .find("sign-in-submit")
            .expect("a submit button")
            .click();
        console.wait_for("reply-input").await;
    }

    #[wasm_bindgen_test]
    async fn a_refused_token_signs_out_with_a_notice_and_keeps_the_typed_reply() {
        let agent = Agent::new("Ada", chrono::Duration::hours(1));
        let chat = held(row(0), &agent);
        let id = chat.session.id;
        let history = [
            message(id, 1, Sender::System, "Ada joined the chat."),
            message(id, 2, Sender::Visitor, "Where is my order?"),
        ];
        let console = Mounted::open(&agent, &chat, &history).await;
        console
            .type_into("reply-input", "It left the warehouse today")
            .await;

        agent.answer(
            "POST",
            &format!("/sessions/{id}/end"),
            401,
            error("unauthorized", "Sign in to continue."),
        );
        console.find("end-session").expect("an End button").click();
        console.wait_for("sign-in-expired").await;
        assert!(console.find("reply-input").is_none());

        let again = agent.again();
        again.conversation(&chat, &history);
        sign_in_again(&console, &again).await;
        assert!(console.find("sign-in-expired").is_none());
        let conversation = console.find("conversation").expect("the conversation");
        assert_eq!(
            conversation.get_attribute("data-session-id"),
            Some(id.to_string()),
            "the same conversation is open"
        );
        assert_eq!(console.value("reply-input"), "It left the warehouse today");
    }

    #[wasm_bindgen_test]
    async fn a_sign_in_whose_time_runs_out_ends_with_the_notice_and_keeps_the_typed_reply() {
        let agent = Agent::new("Ada", chrono::Duration::milliseconds(1_500));
        let chat = held(row(0), &agent);
        let console = Mounted::open(&agent, &chat, &[]).await;
        console.type_into("reply-input", "One moment please").await;

        // No call is made: the console's own clock ends the sign-in.
        console.wait_for("sign-in-expired").await;

        let again = agent.again();
        again.conversation(&chat, &[]);
        sign_in_again(&console, &again).await;
        assert_eq!(console.value("reply-input"), "One moment please");
    }
}
