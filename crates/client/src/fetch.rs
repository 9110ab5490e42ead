//! Calling the server's REST API: a request goes out with an optional JSON body and comes
//! back as the typed answer or an [`ApiFailure`]. Each app keeps its own table of endpoints
//! (`api.rs`) and builds its requests with gloo-net; these helpers are what every call
//! shares.
//!
//! The sending half is not generic, so that one copy of it serves every endpoint: only the
//! parsing of each answer is compiled once per type, which keeps both apps small.

use std::{future::Future, time::Duration};

use gloo_net::http::{RequestBuilder, Response};
use palaver_protocol::{ErrorBody, ErrorCode};
use serde::{Serialize, de::DeserializeOwned};

use crate::{backoff::Backoff, error::ApiFailure};

/// A request body: `value` as JSON. The protocol's types always serialize; were one not to,
/// the request would go without a body and the server would refuse it.
pub fn json(value: &impl Serialize) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// `request` carrying `token` as its bearer credentials.
pub fn bearer(request: RequestBuilder, token: &str) -> RequestBuilder {
    request.header("Authorization", &format!("Bearer {token}"))
}

/// Sends `request` with `body` (JSON, from [`json`]) and answers the server's typed answer.
/// An answer that cannot be read counts as [`ApiFailure::Unreachable`]: the call can be
/// tried again.
pub async fn call<T: DeserializeOwned>(
    request: RequestBuilder,
    body: Option<String>,
) -> Result<T, ApiFailure> {
    // Only the parsing is compiled once per answer's type; reading the body is shared.
    let text = read(request, body).await?;
    serde_json::from_str(&text).map_err(|_| ApiFailure::Unreachable)
}

/// [`send`], then the answer's body as text.
async fn read(request: RequestBuilder, body: Option<String>) -> Result<String, ApiFailure> {
    let response = send(request, body).await?;
    response.text().await.map_err(|_| ApiFailure::Unreachable)
}

/// Sends `request` with `body` (JSON, from [`json`]); any status outside 2xx becomes
/// [`ApiFailure::Refused`] with the server's error body.
pub async fn send(request: RequestBuilder, body: Option<String>) -> Result<Response, ApiFailure> {
    let request = match body {
        Some(body) => request
            .header("Content-Type", "application/json")
            .body(body),
        None => request.build(),
    };
    let response = request
        .map_err(|_| ApiFailure::Unreachable)?
        .send()
        .await
        .map_err(|_| ApiFailure::Unreachable)?;
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let body = response.json().await.unwrap_or_else(|_| ErrorBody {
        // Not one of the server's own answers (a proxy's page, say): only its status is known.
        error: ErrorCode::Unknown,
        message: format!("The server answered {status}."),
        fields: Default::default(),
        end_reason: None,
    });
    Err(ApiFailure::Refused { status, body })
}

/// Runs `call` until the server answers, waiting with [`Backoff`] between attempts and
/// calling `unreachable` after each one that did not reach it (to say so on screen). A
/// refusal is an answer: it is returned, not retried.
pub async fn retry_unreachable<T, F>(
    mut call: impl FnMut() -> F,
    mut unreachable: impl FnMut(),
) -> Result<T, ApiFailure>
where
    F: Future<Output = Result<T, ApiFailure>>,
{
    let mut waits = Backoff::default();
    loop {
        match call().await {
            Err(ApiFailure::Unreachable) => {
                unreachable();
                sleep(waits.next_wait()).await;
            }
            answer => return answer,
        }
    }
}

/// Waits `wait` without blocking the page.
pub async fn sleep(wait: Duration) {
    gloo_timers::future::sleep(wait).await;
}

/// The WebSocket address of `path` on `server` (an origin such as `https://chat.example`):
/// `wss:` for `https:`, `ws:` for `http:`. An empty `server` means the page's own origin,
/// with `wss:` when the page came over HTTPS.
pub fn socket_url(server: &str, path: &str) -> String {
    if let Some(rest) = server.strip_prefix("https://") {
        return format!("wss://{rest}{path}");
    }
    if let Some(rest) = server.strip_prefix("http://") {
        return format!("ws://{rest}{path}");
    }
    let location = leptos::prelude::window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}://{host}{path}")
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use std::{cell::Cell, rc::Rc};

    use gloo_net::http::Request;
    use palaver_protocol::{ChannelInfo, SetRegarding};
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::testing::FakeServer;

    #[wasm_bindgen_test]
    fn socket_addresses_follow_the_servers_scheme_or_the_pages() {
        assert_eq!(
            socket_url("https://chat.example", "/api/v1/session/events"),
            "wss://chat.example/api/v1/session/events"
        );
        assert_eq!(
            socket_url("http://127.0.0.1:8080", "/api/v1/agent/events"),
            "ws://127.0.0.1:8080/api/v1/agent/events"
        );
        let host = leptos::prelude::window().location().host().expect("a host");
        assert_eq!(socket_url("", "/x"), format!("ws://{host}/x"));
    }

    #[wasm_bindgen_test]
    async fn an_answer_is_typed_a_refusal_carries_its_code_and_silence_is_unreachable() {
        let server = FakeServer::install("http://127.0.0.1:19");
        let url = |path: &str| format!("{}{path}", server.origin());
        server.route(
            "GET /channels/demo",
            200,
            &json!({"id": "demo", "name": "Demo", "mode": "live", "require_email": false,
                    "open": true, "next_open_at": null}),
        );
        server.route(
            "PUT /regarding Bearer t1",
            422,
            &json!({"error": "validation", "message": "Check the fields.",
                    "fields": {"regarding": "At most 200 characters."}}),
        );
        server.route("POST /teapot", 418, &json!("<html>"));

        let channel: ChannelInfo = call(Request::get(&url("/channels/demo")), None)
            .await
            .expect("an answer");
        assert_eq!(channel.name, "Demo");

        let body = json(&SetRegarding {
            regarding: Some("x".repeat(201)),
        });
        let refused = call::<ChannelInfo>(bearer(Request::put(&url("/regarding")), "t1"), body)
            .await
            .expect_err("refused");
        assert!(refused.is(ErrorCode::Validation));
        assert_eq!(refused.describe("regarding", ""), "At most 200 characters.");
        let recorded = server.recorded();
        let sent = recorded.last().expect("recorded");
        assert_eq!(sent.auth.as_deref(), Some("Bearer t1"));
        assert_eq!(sent.body()["regarding"], "x".repeat(201));

        let odd = send(Request::post(&url("/teapot")), None)
            .await
            .expect_err("refused");
        assert_eq!(odd.status(), Some(418));
        assert!(odd.is(ErrorCode::Unknown));
        assert_eq!(odd.describe("", ""), "The server answered 418.");

        let nobody = send(Request::get(&url("/nowhere")), None).await;
        assert_eq!(nobody.expect_err("no route"), ApiFailure::Unreachable);
    }

    #[wasm_bindgen_test]
    async fn a_call_is_retried_while_unreachable_and_a_refusal_is_not() {
        let server = FakeServer::install("http://127.0.0.1:19");
        let url = format!("{}/later", server.origin());
        let misses = Rc::new(Cell::new(0));
        let counted = misses.clone();
        let answered = retry_unreachable(
            || {
                let url = url.clone();
                async move { call::<u32>(Request::get(&url), None).await }
            },
            move || {
                counted.set(counted.get() + 1);
                // The server comes back after two misses.
                if counted.get() == 2 {
                    server.route("GET /later", 200, &json!(7));
                }
            },
        )
        .await;
        assert_eq!(answered, Ok(7));
        assert_eq!(misses.get(), 2);

        let server = FakeServer::install("http://127.0.0.1:19");
        server.route(
            "GET /never",
            404,
            &json!({"error": "not_found", "message": "No."}),
        );
        let url = format!("{}/never", server.origin());
        let refused = retry_unreachable(
            || call::<u32>(Request::get(&url), None),
            || panic!("a refusal is an answer"),
        )
        .await;
        assert!(refused.expect_err("refused").is(ErrorCode::NotFound));
    }
}
