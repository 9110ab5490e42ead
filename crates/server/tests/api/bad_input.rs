//! Bad input of every kind gets a clear 4xx and changes nothing.

use chrono::Duration;
use palaver_protocol::{AgentSession, ErrorCode, frames::VisitorEvent};
use reqwest::{StatusCode, header};
use serde_json::json;

use crate::helpers::{expect_error, expect_json, spawn_app};

#[tokio::test]
async fn malformed_or_mistyped_bodies_are_refused_with_a_clear_message_and_nothing_is_stored() {
    let app = spawn_app().await;
    let agent = app.agent("ada").await;
    let url = format!("{}/api/v1/channels/support/sessions", app.address);
    let raw = |body: &'static str, content_type: &'static str| {
        app.client
            .post(&url)
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };

    let syntax = raw(r#"{"name": "Grace", "phone": "#, "application/json")
        .await
        .expect("sent");
    let error = expect_error(syntax, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["error"], "bad_request");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not valid JSON")
    );

    let types = raw(
        r#"{"name": 42, "phone": "020 7946 0958"}"#,
        "application/json",
    )
    .await
    .expect("sent");
    let error = expect_error(types, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("name"),
        "{error}"
    );

    let plain = raw(
        r#"{"name": "Grace", "phone": "020 7946 0958"}"#,
        "text/plain",
    )
    .await
    .expect("sent");
    expect_error(plain, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    let huge = app
        .start(
            "support",
            json!({"name": "x".repeat(100_000), "phone": "020 7946 0958"}),
        )
        .await;
    expect_error(huge, StatusCode::PAYLOAD_TOO_LARGE).await;

    let unknown = app
        .start(
            "nowhere",
            json!({"name": "Grace", "phone": "020 7946 0958"}),
        )
        .await;
    expect_error(unknown, StatusCode::NOT_FOUND).await;

    let inbox: Vec<AgentSession> =
        expect_json(app.agent_get(&agent, "/sessions").await, StatusCode::OK).await;
    assert!(inbox.is_empty());
}

#[tokio::test]
async fn markup_in_any_text_field_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let agent = app.agent("ada").await;
    let script = "<script>alert(1)</script>";
    let refused = app
        .start("support", json!({"name": script, "phone": "020 7946 0958"}))
        .await;
    let error = expect_error(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        error["fields"]["name"]
            .as_str()
            .unwrap_or_default()
            .contains("HTML")
    );

    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    let refused = app
        .send(&created.token, "c-1", "<img src=x onerror=alert(1)>")
        .await;
    let error = expect_error(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(error["fields"]["body"].is_string());
    let refused = app
        .reply(
            &agent,
            created.session.id,
            "a-1",
            "<a href='javascript:x'>click</a>",
        )
        .await;
    expect_error(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    let regarding = app
        .put(
            &format!("/api/v1/agent/sessions/{}/regarding", created.session.id),
            &agent.token,
            &json!({"regarding": script}),
        )
        .await;
    expect_error(regarding, StatusCode::UNPROCESSABLE_ENTITY).await;

    // Plain text with the same characters is fine, and comes back exactly as typed.
    let fine = app.send(&created.token, "c-2", "5 < 6 & I <3 this").await;
    assert_eq!(fine.status(), StatusCode::CREATED);
    let bodies = app.visitor_bodies(&created.token).await;
    assert!(bodies.iter().all(|body| !body.contains('>')), "{bodies:?}");
    assert!(bodies.contains(&"5 < 6 & I <3 this".to_owned()));
    let session: AgentSession = expect_json(
        app.agent_get(&agent, &format!("/sessions/{}", created.session.id))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(session.session.regarding, None);
}

#[tokio::test]
async fn missing_forged_and_expired_tokens_are_refused() {
    let app = spawn_app().await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    let agent = app.agent("ada").await;

    let missing = app.get("/api/v1/session", None).await;
    expect_error(missing, StatusCode::UNAUTHORIZED).await;
    let forged = format!("{}x", created.token);
    expect_error(app.session(&forged).await, StatusCode::UNAUTHORIZED).await;
    expect_error(
        app.send(&forged, "c-1", "hi").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(app.visitor_bodies(&created.token).await.is_empty());

    let wrong_password = app.login("ada", "guess").await;
    expect_error(wrong_password, StatusCode::UNAUTHORIZED).await;

    app.advance(Duration::hours(12));
    let expired = app.agent_get(&agent, "/sessions").await;
    let error = expect_error(expired, StatusCode::UNAUTHORIZED).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("sign in again")
    );

    let mut socket = app.visitor_socket(&forged, 0).await;
    let VisitorEvent::Error { error } = socket.next_visitor_event().await else {
        panic!("a forged token gets an error frame")
    };
    assert_eq!(error.error, ErrorCode::Unauthorized);
    assert!(socket.closes().await);
}

#[tokio::test]
async fn a_page_from_an_origin_the_channel_does_not_allow_cannot_start_a_chat() {
    let app = spawn_app().await;
    let start = |origin: &'static str| {
        app.client
            .post(format!("{}/api/v1/channels/support/sessions", app.address))
            .header(header::ORIGIN, origin)
            .json(&json!({"name": "Grace", "phone": "020 7946 0958"}))
            .send()
    };
    let refused = start("https://evil.example").await.expect("sent");
    let error = expect_error(refused, StatusCode::FORBIDDEN).await;
    assert_eq!(error["error"], "origin_not_allowed");
    let allowed = start("https://shop.example").await.expect("sent");
    assert_eq!(allowed.status(), StatusCode::CREATED);
    assert_eq!(
        allowed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://shop.example"
    );
}

#[tokio::test]
async fn a_socket_whose_first_frame_is_not_auth_gets_an_error() {
    let app = spawn_app().await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    let mut socket = app.visitor_socket(&created.token, 0).await;
    assert!(matches!(
        socket.next_visitor_event().await,
        VisitorEvent::Ready { .. }
    ));

    let url = format!("ws://127.0.0.1:{}/api/v1/session/events", app.port);
    let (mut raw, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    use futures_util::{SinkExt, StreamExt};
    raw.send(tokio_tungstenite::tungstenite::Message::Text(
        r#"{"type":"typing","typing":true}"#.into(),
    ))
    .await
    .expect("sent");
    let frame = raw.next().await.expect("a frame").expect("readable");
    let event: VisitorEvent =
        serde_json::from_str(frame.to_text().expect("text")).expect("an event");
    assert!(
        matches!(event, VisitorEvent::Error { ref error } if error.error == ErrorCode::Unauthorized)
    );
}
