//! The agent side: signing in and out, the inbox and its filters, Chat History, joining,
//! typing, Regarding, the event stream, and the documented API.

use std::io::Write;

use palaver_protocol::{
    AgentSession, Sender, SessionState,
    frames::{AgentEvent, AgentFrame, VisitorEvent, VisitorFrame},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{expect_error, expect_json, spawn_app};

async fn inbox(
    app: &crate::helpers::TestApp,
    agent: &crate::helpers::TestAgent,
    query: &str,
) -> Vec<String> {
    let rows: Vec<AgentSession> = expect_json(
        app.agent_get(agent, &format!("/sessions{query}")).await,
        StatusCode::OK,
    )
    .await;
    rows.into_iter().map(|row| row.to.name).collect()
}

#[tokio::test]
async fn the_inbox_lists_sessions_newest_first_and_filters_them() {
    let app = spawn_app().await;
    let ada = app.agent("ada").await;
    let grace = app
        .start_ok("support", "Grace Hopper", "020 7946 0958")
        .await;
    app.advance(chrono::Duration::minutes(1));
    let alan = app
        .start_ok("support", "Alan Turing", "020 7946 0959")
        .await;
    app.advance(chrono::Duration::minutes(1));
    let details = json!({"name": "Edsger", "phone": "+31 20 123 4567", "email": "e@example.nl"});
    expect_json::<Value>(app.start("strict", details).await, StatusCode::CREATED).await;
    app.join(&ada, grace.session.id).await;
    app.end(&alan.token).await;

    assert_eq!(
        inbox(&app, &ada, "").await,
        ["Edsger", "Alan Turing", "Grace Hopper"]
    );
    assert_eq!(inbox(&app, &ada, "?state=active").await, ["Grace Hopper"]);
    assert_eq!(inbox(&app, &ada, "?state=queued").await, ["Edsger"]);
    assert_eq!(inbox(&app, &ada, "?state=ended").await, ["Alan Turing"]);
    assert_eq!(inbox(&app, &ada, "?channel=strict").await, ["Edsger"]);
    assert_eq!(
        inbox(&app, &ada, &format!("?agent={}", ada.id)).await,
        ["Grace Hopper"]
    );
    assert_eq!(
        inbox(&app, &ada, "?agent=none").await,
        ["Edsger", "Alan Turing"]
    );
    assert_eq!(inbox(&app, &ada, "?q=turing").await, ["Alan Turing"]);
    assert_eq!(inbox(&app, &ada, "?q=1234567").await, ["Edsger"]);
    assert_eq!(inbox(&app, &ada, "?q=%25").await, Vec::<String>::new());
    assert_eq!(inbox(&app, &ada, "?limit=1").await, ["Edsger"]);
    expect_error(
        app.agent_get(&ada, "?state=lost").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        app.agent_get(&ada, "/sessions?state=lost").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        app.agent_get(&ada, "/sessions?agent=bob").await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    let row: AgentSession = expect_json(
        app.agent_get(&ada, &format!("/sessions/{}", grace.session.id))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        row.session.agent.map(|agent| agent.name),
        Some("ada".into())
    );
    assert_eq!(row.session.channel, "support");
    assert!(row.session.ends_at.is_some());
}

#[tokio::test]
async fn a_second_agent_cannot_take_over_a_joined_chat() {
    let app = spawn_app().await;
    let ada = app.agent("ada").await;
    let bob = app.agent("bob").await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;

    let joined: AgentSession =
        expect_json(app.join(&ada, created.session.id).await, StatusCode::OK).await;
    assert_eq!(joined.session.state, SessionState::Active);
    expect_json::<AgentSession>(app.join(&ada, created.session.id).await, StatusCode::OK).await;
    let error = expect_error(
        app.join(&bob, created.session.id).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["message"], "ada has already joined this chat.");
    let reply = app.reply(&bob, created.session.id, "b-1", "Me too").await;
    expect_error(reply, StatusCode::CONFLICT).await;
    assert_eq!(
        app.visitor_bodies(&created.token).await,
        ["ada joined the chat."],
        "one join note, no message from bob"
    );
    let unknown = app.join(&ada, uuid::Uuid::new_v4()).await;
    expect_error(unknown, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn agents_see_the_typing_of_the_conversation_they_open_and_visitors_see_agents_typing() {
    let app = spawn_app().await;
    let ada = app.agent("ada").await;
    let mut console = app.agent_socket(&ada).await;
    assert!(
        matches!(console.next_agent_event().await, AgentEvent::Ready { agent } if agent.name == "ada")
    );

    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    let started = console.next_agent_event().await;
    assert!(
        matches!(&started, AgentEvent::Session { session } if session.to.name == "Grace"),
        "{started:?}"
    );
    let mut visitor = app.visitor_socket(&created.token, 0).await;
    assert!(matches!(
        visitor.next_visitor_event().await,
        VisitorEvent::Ready { .. }
    ));

    // Typing in a conversation the console does not show is not its news.
    visitor.send(&VisitorFrame::Typing { typing: true }).await;
    console
        .send(&AgentFrame::Open {
            session_id: Some(created.session.id),
        })
        .await;
    let opened = console.next_agent_event().await;
    assert!(
        matches!(&opened, AgentEvent::Session { session } if session.session.id == created.session.id),
        "{opened:?}"
    );
    visitor.send(&VisitorFrame::Typing { typing: false }).await;
    let typing = console.next_agent_event().await;
    assert_eq!(
        typing,
        AgentEvent::Typing {
            session_id: created.session.id,
            typing: false
        }
    );
    app.send(&created.token, "c-1", "Hello?").await;
    let message = console
        .until_agent_event(|event| matches!(event, AgentEvent::Message { .. }))
        .await;
    assert!(matches!(message, AgentEvent::Message { message } if message.body == "Hello?"));

    console
        .send(&AgentFrame::Typing {
            session_id: created.session.id,
            typing: true,
        })
        .await;
    let typing = visitor
        .until_visitor_event(|event| matches!(event, VisitorEvent::Typing { .. }))
        .await;
    let VisitorEvent::Typing { sender, typing } = typing else {
        unreachable!("matched above")
    };
    assert!(typing);
    assert!(matches!(sender, Sender::Agent { name, .. } if name == "ada"));
}

#[tokio::test]
async fn an_agent_sets_and_clears_what_a_session_is_regarding() {
    let app = spawn_app().await;
    let ada = app.agent("ada").await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    let path = format!("/api/v1/agent/sessions/{}/regarding", created.session.id);

    let set: AgentSession = expect_json(
        app.put(&path, &ada.token, &json!({"regarding": " Order #1042 "}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(set.session.regarding.as_deref(), Some("Order #1042"));
    let seen: palaver_protocol::Session =
        expect_json(app.session(&created.token).await, StatusCode::OK).await;
    assert_eq!(seen.regarding.as_deref(), Some("Order #1042"));

    let cleared: AgentSession = expect_json(
        app.put(&path, &ada.token, &json!({"regarding": null}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared.session.regarding, None);
}

#[tokio::test]
async fn the_host_page_can_say_what_the_chat_is_about() {
    let app = spawn_app().await;
    let ada = app.agent("ada").await;
    let details = json!({"name": "Grace", "phone": "020 7946 0958", "regarding": "Order #1042"});
    let created: palaver_protocol::SessionCreated =
        expect_json(app.start("support", details).await, StatusCode::CREATED).await;
    assert_eq!(created.session.regarding.as_deref(), Some("Order #1042"));

    let moved: palaver_protocol::Session = expect_json(
        app.client
            .put(format!("{}/api/v1/session/regarding", app.address))
            .bearer_auth(&created.token)
            .json(&json!({"regarding": "Ticket 77"}))
            .send()
            .await
            .expect("sent"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved.regarding.as_deref(), Some("Ticket 77"));
    let seen: AgentSession = expect_json(
        app.agent_get(&ada, &format!("/sessions/{}", created.session.id))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen.session.regarding.as_deref(), Some("Ticket 77"));

    let markup = json!({"name": "Alan", "phone": "020 7946 0959", "regarding": "<b>x</b>"});
    let refused = expect_error(
        app.start("support", markup).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(refused["fields"]["regarding"].is_string());
}

#[tokio::test]
async fn the_widget_files_are_revalidated_on_every_load_and_open_to_allowed_origins() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/widget.js", app.address))
        .header(reqwest::header::ORIGIN, "https://shop.example")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[reqwest::header::CACHE_CONTROL],
        "no-cache"
    );
    assert_eq!(
        response.headers()[reqwest::header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://shop.example"
    );
    assert_eq!(response.text().await.expect("body"), crate::helpers::LOADER);
}

#[tokio::test]
async fn signing_out_ends_the_agents_token_at_once() {
    let app = spawn_app().await;
    let ada = app.agent("ada").await;
    let out = app.agent_post(&ada, "/logout", json!({})).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    expect_error(
        app.agent_get(&ada, "/sessions").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn agents_are_created_from_the_command_line_with_a_hashed_password() {
    let app = spawn_app().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_palaver-server"))
        .args([
            "--database-url",
            &app.database_url,
            "agent",
            "add",
            "carol",
            "--password-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the server binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"s3cret pass\n")
        .expect("password written");
    let output = child.wait_with_output().expect("it finishes");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("Created agent carol"));

    let stored = app
        .store
        .agent_by_name("carol")
        .await
        .expect("readable")
        .expect("created");
    assert!(stored.password_hash.starts_with("$argon2id$"));
    assert!(!stored.password_hash.contains("s3cret"));
    let login = app.login("carol", "s3cret pass").await;
    assert_eq!(login.status(), StatusCode::OK);

    let again = std::process::Command::new(env!("CARGO_BIN_EXE_palaver-server"))
        .args(["--database-url", &app.database_url, "agent", "add", "carol"])
        .output()
        .expect("the server binary runs");
    assert!(!again.status.success(), "a taken name is refused");
}

#[tokio::test]
async fn the_api_is_documented_as_openapi_and_health_is_reported() {
    let app = spawn_app().await;
    let doc: Value = expect_json(app.get("/api/openapi.json", None).await, StatusCode::OK).await;
    for path in [
        "/api/v1/channels/{channel}",
        "/api/v1/channels/{channel}/sessions",
        "/api/v1/session",
        "/api/v1/session/messages",
        "/api/v1/session/end",
        "/api/v1/session/events",
        "/api/v1/agent/login",
        "/api/v1/agent/sessions",
        "/api/v1/agent/sessions/{id}/join",
        "/api/v1/agent/sessions/{id}/messages",
        "/api/v1/agent/sessions/{id}/end",
        "/api/v1/agent/sessions/{id}/regarding",
        "/api/v1/agent/contacts/{id}/sessions",
        "/api/v1/agent/events",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    assert!(doc["components"]["schemas"].get("SessionCreated").is_some());
    let health = app.get("/healthz", None).await;
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_console_page_is_served_at_any_of_its_paths_and_runs_only_its_own_scripts() {
    use base64::{Engine, engine::general_purpose::STANDARD};
    use sha2::{Digest, Sha256};

    let app = spawn_app().await;
    for path in ["/console/", "/console", "/console/sessions/123"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let policy = response
            .headers()
            .get("content-security-policy")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let start_up = "import init from '/console/app.js';";
        let hash = STANDARD.encode(Sha256::digest(start_up));
        assert!(
            policy.contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' 'sha256-{hash}';"
            )),
            "{path}: only the console's files and its start-up script run: {policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert_eq!(
            response.text().await.expect("a body"),
            crate::helpers::CONSOLE_INDEX,
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_unknown_name_and_a_wrong_password_are_answered_alike() {
    let app = spawn_app().await;
    app.agent("ada").await;
    let login = async |name: &str| {
        let answer = app.login(name, "not the password").await;
        (answer.status(), answer.text().await.expect("a body"))
    };
    let (known, known_body) = login("ada").await;
    let (unknown, unknown_body) = login("nobody").await;
    assert_eq!(known, StatusCode::UNAUTHORIZED);
    assert_eq!((known, known_body), (unknown, unknown_body));
}
