//! Persistent mode rules 1–7 of PRODUCT.md, one or more tests each, through the real API.

use chrono::Duration;
use palaver_protocol::{
    AgentSession, EndReason, ErrorCode, Identified, Message, Sender, Session, SessionState,
    frames::VisitorEvent,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    EC_PRIVATE_KEY, EC_PUBLIC_KEY, START, TestApp, expect_error, expect_json, hs256, member_claims,
    member_token, spawn_app,
};

/// Signs claims with the `members-ec` site's private key.
fn es256(claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256),
        claims,
        &jsonwebtoken::EncodingKey::from_ec_pem(EC_PRIVATE_KEY.as_bytes()).expect("EC key"),
    )
    .expect("signs")
}

/// `claims` with some fields replaced.
fn with(mut claims: Value, changes: Value) -> Value {
    for (key, value) in changes.as_object().expect("an object") {
        claims[key] = value.clone();
    }
    claims
}

fn hours_from_start(hours: i64) -> i64 {
    let start: chrono::DateTime<chrono::Utc> = START.parse().expect("start");
    (start + Duration::hours(hours)).timestamp()
}

/// A token whose header says `alg: none` and which carries no signature.
fn unsigned(claims: &Value) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

async fn send_ok(app: &TestApp, token: &str, id: &str, body: &str) -> Message {
    expect_json(app.send(token, id, body).await, StatusCode::CREATED).await
}

async fn current(app: &TestApp, token: &str) -> Session {
    expect_json(app.session(token).await, StatusCode::OK).await
}

#[tokio::test]
async fn rule_1_a_signed_token_identifies_the_visitor_by_the_sites_user_id() {
    let app = spawn_app().await;
    let first = app.member("user-42", "Grace Hopper").await;
    assert_eq!(first.contact.user_id.as_deref(), Some("user-42"));
    assert_eq!(first.contact.name, "Grace Hopper");
    assert_eq!(first.contact.email.as_deref(), Some("user-42@example.com"));
    assert!(first.session.is_none(), "no conversation before a message");
    assert_eq!(first.expires_at.timestamp(), hours_from_start(1));

    let renamed = app.member("user-42", "Grace B. Hopper").await;
    assert_eq!(renamed.contact.id, first.contact.id, "the same person");
    assert_eq!(
        renamed.contact.name, "Grace B. Hopper",
        "the site's details win"
    );
    assert_ne!(
        renamed.token, first.token,
        "each sign-in gets its own token"
    );

    let other = app.member("user-43", "Alan Turing").await;
    assert_ne!(other.contact.id, first.contact.id);

    // The same user id signed by another channel's site is someone else.
    let ec = es256(&json!({"sub": "user-42", "exp": hours_from_start(1)}));
    let elsewhere: Identified =
        expect_json(app.identify("members-ec", &ec).await, StatusCode::OK).await;
    assert_ne!(elsewhere.contact.id, first.contact.id);
    assert_eq!(
        elsewhere.contact.name, "user-42",
        "without a name, the id stands in"
    );

    let details = json!({"name": "Grace", "phone": "020 7946 0958"});
    let body = expect_error(app.start("members", details).await, StatusCode::CONFLICT).await;
    assert_eq!(body["error"], "identity_required");
    let live = expect_error(
        app.identify("support", &member_token(&member_claims("u", "U")))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(live["error"], "not_persistent");
}

#[tokio::test]
async fn rule_1_unsigned_wrongly_signed_and_expired_tokens_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let good = member_claims("user-42", "Grace Hopper");
    let cases: Vec<(&str, &str, String, StatusCode, &str, &str)> = vec![
        (
            "alg none",
            "members",
            unsigned(&good),
            StatusCode::UNAUTHORIZED,
            "identity_invalid",
            "Unsigned",
        ),
        (
            "a wrong secret",
            "members",
            hs256(&good, b"another-secret-0123456789abcdefghij"),
            StatusCode::UNAUTHORIZED,
            "identity_invalid",
            "signature",
        ),
        (
            // Algorithm confusion: an HMAC "signed" with the channel's public key.
            "HS256 with the public key as secret",
            "members-ec",
            hs256(
                &json!({"sub": "user-42", "exp": hours_from_start(1)}),
                EC_PUBLIC_KEY.as_bytes(),
            ),
            StatusCode::UNAUTHORIZED,
            "identity_invalid",
            "ES256",
        ),
        (
            "another site's issuer",
            "members",
            member_token(&with(good.clone(), json!({"iss": "https://evil.example"}))),
            StatusCode::UNAUTHORIZED,
            "identity_invalid",
            "issuer",
        ),
        (
            "another audience",
            "members",
            member_token(&with(good.clone(), json!({"aud": "someone-else"}))),
            StatusCode::UNAUTHORIZED,
            "identity_invalid",
            "audience",
        ),
        (
            "no audience",
            "members",
            member_token(&with(good.clone(), json!({"aud": null}))),
            StatusCode::UNAUTHORIZED,
            "identity_invalid",
            "aud",
        ),
        (
            "expired",
            "members",
            member_token(&with(good.clone(), json!({"exp": hours_from_start(-1)}))),
            StatusCode::UNAUTHORIZED,
            "identity_expired",
            "expired",
        ),
        (
            "not yet valid",
            "members",
            member_token(&with(good.clone(), json!({"nbf": hours_from_start(1)}))),
            StatusCode::UNAUTHORIZED,
            "identity_invalid",
            "not valid until",
        ),
        (
            "not a JWT",
            "members",
            "not.a.token".to_owned(),
            StatusCode::UNAUTHORIZED,
            "identity_invalid",
            "well-formed",
        ),
        (
            "no sub",
            "members",
            member_token(&with(good.clone(), json!({"sub": null}))),
            StatusCode::UNAUTHORIZED,
            "identity_invalid",
            "sub",
        ),
        (
            "markup in the name",
            "members",
            member_token(&with(
                good.clone(),
                json!({"name": "<img src=x onerror=alert(1)>"}),
            )),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "",
        ),
    ];
    for (case, channel, token, status, code, words) in cases {
        let body = expect_error(app.identify(channel, &token).await, status).await;
        assert_eq!(body["error"], code, "{case}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{case}: {message}");
    }
    assert_eq!(app.count_rows("contacts").await, 0, "no contact written");
    assert_eq!(
        app.count_rows("identity_tokens").await,
        0,
        "no token written"
    );

    let bad_name = member_token(&with(good, json!({"name": "<b>Grace</b>"})));
    let body = expect_error(
        app.identify("members", &bad_name).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["fields"]["name"].is_string(), "{body}");
}

#[tokio::test]
async fn rule_1_the_access_ends_when_the_identity_token_expires() {
    let app = spawn_app().await;
    let short = with(
        member_claims("user-42", "Grace Hopper"),
        json!({"exp": (START.parse::<chrono::DateTime<chrono::Utc>>().expect("start") + Duration::minutes(5)).timestamp()}),
    );
    let visitor: Identified = expect_json(
        app.identify("members", &member_token(&short)).await,
        StatusCode::OK,
    )
    .await;
    send_ok(&app, &visitor.token, "m1", "Hello").await;
    app.advance(Duration::minutes(6));
    for response in [
        app.session(&visitor.token).await,
        app.send(&visitor.token, "m2", "Still there?").await,
    ] {
        let body = expect_error(response, StatusCode::UNAUTHORIZED).await;
        assert_eq!(body["error"], "identity_expired");
    }
    let mut socket = app.visitor_socket(&visitor.token, 0).await;
    let VisitorEvent::Error { error } = socket.next_visitor_event().await else {
        panic!("expected an error frame")
    };
    assert_eq!(error.error, ErrorCode::IdentityExpired);
    assert!(socket.closes().await);
}

#[tokio::test]
async fn rule_2_one_conversation_stays_open_across_visits_and_devices_with_its_whole_history() {
    let app = spawn_app().await;
    let agent = app.agent("ada").await;
    let laptop = app.member("user-42", "Grace Hopper").await;
    let first = send_ok(&app, &laptop.token, "m1", "Where is my order?").await;
    app.reply(&agent, first.session_id, "r1", "Looking into it.")
        .await;

    // Days later, on a phone: a new sign-in finds the same conversation.
    app.advance(Duration::days(5));
    let claims = with(
        member_claims("user-42", "Grace Hopper"),
        json!({"exp": hours_from_start(5 * 24 + 1)}),
    );
    let phone: Identified = expect_json(
        app.identify("members", &member_token(&claims)).await,
        StatusCode::OK,
    )
    .await;
    let session = phone.session.expect("the open conversation");
    assert_eq!(session.id, first.session_id);
    assert_eq!(session.ends_at, None, "no window");
    assert_eq!(
        app.visitor_bodies(&phone.token).await,
        [
            "Where is my order?",
            "ada joined the chat.",
            "Looking into it."
        ]
    );
    let again = send_ok(&app, &phone.token, "m2", "Any news?").await;
    assert_eq!(again.session_id, first.session_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_2_two_tabs_writing_at_the_same_moment_share_one_conversation() {
    let app = spawn_app().await;
    let one = app.member("user-42", "Grace Hopper").await;
    let two = app.member("user-42", "Grace Hopper").await;
    let (a, b) = tokio::join!(
        app.send(&one.token, "tab-1", "Hello from tab one"),
        app.send(&two.token, "tab-2", "Hello from tab two"),
    );
    let a: Message = expect_json(a, StatusCode::CREATED).await;
    let b: Message = expect_json(b, StatusCode::CREATED).await;
    assert_eq!(a.session_id, b.session_id, "one conversation");
    let mut seqs = [a.seq, b.seq];
    seqs.sort_unstable();
    assert_eq!(seqs, [1, 2]);
    assert_eq!(app.count_rows("sessions").await, 1);
}

#[tokio::test]
async fn rule_3_the_visitor_cannot_end_it_and_is_never_told_a_queue_position() {
    let app = spawn_app().await;
    let grace = app.member("user-42", "Grace Hopper").await;
    let alan = app.member("user-43", "Alan Turing").await;
    send_ok(&app, &grace.token, "m1", "Hello").await;
    send_ok(&app, &alan.token, "m1", "Hello too").await;

    let body = expect_error(app.end(&alan.token).await, StatusCode::FORBIDDEN).await;
    assert_eq!(body["error"], "agent_ends_conversation");
    let session = current(&app, &alan.token).await;
    assert_eq!(
        session.state,
        SessionState::Queued,
        "still open, waiting for agents"
    );
    assert_eq!(session.queue, None, "no queue position");

    let mut socket = app.visitor_socket(&alan.token, 0).await;
    let VisitorEvent::Ready { session } = socket.next_visitor_event().await else {
        panic!("expected ready")
    };
    assert_eq!(session.and_then(|session| session.queue), None);
    // The queue moves when an agent takes Grace's; Alan hears of no place in it.
    let agent = app.agent("ada").await;
    let graces = current(&app, &grace.token).await;
    app.join(&agent, graces.id).await;
    send_ok(&app, &alan.token, "m2", "Marker").await;
    let event = socket
        .until_visitor_event(|event| {
            matches!(event, VisitorEvent::Queue { .. })
                || matches!(event, VisitorEvent::Message { message } if message.body == "Marker")
        })
        .await;
    assert!(
        matches!(event, VisitorEvent::Message { .. }),
        "no queue frame: {event:?}"
    );
}

#[tokio::test]
async fn rule_4_waiting_frees_the_agent_and_the_next_message_brings_it_back_to_the_same_agent() {
    let app = spawn_app().await;
    let (ada, bob) = (app.agent("ada").await, app.agent("bob").await);
    let _ada_console = app.online(&ada).await;
    let grace = app.member("user-42", "Grace Hopper").await;
    let first = send_ok(&app, &grace.token, "m1", "Hello").await;
    let other = app
        .start_ok("support", "Alan Turing", "020 7946 0001")
        .await;
    let _bob_console = app.online(&bob).await;
    assert_eq!(app.holder(first.session_id).await.as_deref(), Some("ada"));
    assert_eq!(app.holder(other.session.id).await.as_deref(), Some("ada"));

    let waiting: AgentSession =
        expect_json(app.wait(&ada, first.session_id).await, StatusCode::OK).await;
    assert_eq!(waiting.session.state, SessionState::Waiting);
    let inbox: Vec<AgentSession> = expect_json(
        app.agent_get(&ada, "/sessions?state=active").await,
        StatusCode::OK,
    )
    .await;
    assert!(
        inbox.iter().all(|view| view.session.id != first.session_id),
        "no longer among the active chats"
    );

    let mut socket = app.visitor_socket(&grace.token, first.seq).await;
    socket.next_visitor_event().await;
    send_ok(&app, &grace.token, "m2", "I'm back").await;
    let back = current(&app, &grace.token).await;
    assert_eq!(back.state, SessionState::Active);
    assert_eq!(
        back.agent.map(|agent| agent.name).as_deref(),
        Some("ada"),
        "affinity first, though Bob holds fewer chats"
    );
    socket
        .until_visitor_event(|event| {
            matches!(event, VisitorEvent::Session { session }
                if session.state == SessionState::Active
                    && session.agent.as_ref().is_some_and(|agent| agent.name == "ada"))
        })
        .await;
    app.agent_post(
        &ada,
        &format!("/sessions/{}/end", first.session_id),
        json!({}),
    )
    .await;
    let event = socket
        .until_visitor_event(|event| matches!(event, VisitorEvent::Session { .. }))
        .await;
    assert!(
        matches!(event, VisitorEvent::Session { session } if session.state == SessionState::Ended),
        "the stream follows the conversation through waiting to its end"
    );
}

#[tokio::test]
async fn rule_4_without_affinity_a_returning_visitor_goes_back_to_any_agent() {
    let app = spawn_app().await;
    let (ada, bob) = (app.agent("ada").await, app.agent("bob").await);
    let token = es256(&json!({"sub": "user-7", "name": "Grace", "exp": hours_from_start(1)}));
    let grace: Identified =
        expect_json(app.identify("members-ec", &token).await, StatusCode::OK).await;
    let first = send_ok(&app, &grace.token, "m1", "Hello").await;
    app.join(&ada, first.session_id).await;
    app.start_ok("support", "Alan Turing", "020 7946 0001")
        .await;
    let _ada_console = app.online(&ada).await;
    app.wait(&ada, first.session_id).await;

    send_ok(&app, &grace.token, "m2", "Back again").await;
    let back = current(&app, &grace.token).await;
    assert_eq!(
        back.agent.map(|agent| agent.name).as_deref(),
        Some("ada"),
        "Ada is the only one available"
    );
    app.wait(&ada, first.session_id).await;
    let _bob_console = app.online(&bob).await;
    send_ok(&app, &grace.token, "m3", "Back once more").await;
    let back = current(&app, &grace.token).await;
    assert_eq!(
        (back.state, back.agent.map(|agent| agent.name).as_deref()),
        (SessionState::Active, Some("bob")),
        "the least busy agent, since the channel has no affinity"
    );
}

#[tokio::test]
async fn rule_4_only_persistent_conversations_wait_and_only_for_their_agent() {
    let app = spawn_app().await;
    let ada = app.agent("ada").await;
    let bob = app.agent("bob").await;
    let live = app.start_ok("support", "Ada", "020 7946 0958").await;
    let body = expect_error(app.wait(&ada, live.session.id).await, StatusCode::CONFLICT).await;
    assert_eq!(body["error"], "not_persistent");

    let grace = app.member("user-42", "Grace Hopper").await;
    let first = send_ok(&app, &grace.token, "m1", "Hello").await;
    app.join(&ada, first.session_id).await;
    let body = expect_error(app.wait(&bob, first.session_id).await, StatusCode::CONFLICT).await;
    assert_eq!(body["error"], "already_joined");
    assert_eq!(
        current(&app, &grace.token).await.state,
        SessionState::Active
    );
}

#[tokio::test]
async fn rule_5_an_idle_conversation_closes_after_28_days_even_across_a_restart() {
    let mut app = spawn_app().await;
    let grace = app.member("user-42", "Grace Hopper").await;
    let first = send_ok(&app, &grace.token, "m1", "Hello").await;

    app.advance(Duration::days(27));
    let later = with(
        member_claims("user-42", "Grace Hopper"),
        json!({"exp": hours_from_start(40 * 24)}),
    );
    let back: Identified = expect_json(
        app.identify("members", &member_token(&later)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        back.session.map(|session| session.id),
        Some(first.session_id)
    );

    // The deadline is stored: a server started after it passed closes the conversation.
    app.stop();
    app.advance(Duration::days(1) + Duration::minutes(1));
    app.restart().await;
    // The sweeper writes the end, then its note: wait for the note, which comes last.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    let note = loop {
        let latest = app
            .store
            .messages(
                first.session_id,
                palaver_server::store::PageRequest::Latest { limit: 1 },
            )
            .await
            .expect("messages");
        if let Some(note) = latest
            .messages
            .into_iter()
            .find(|m| m.sender == Sender::System)
        {
            break note;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sweeper closed it"
        );
        tokio::task::yield_now().await;
    };
    assert!(note.body.contains("without messages"), "{}", note.body);
    let closed = app
        .store
        .session(first.session_id)
        .await
        .expect("store reads")
        .expect("session exists");
    assert_eq!(closed.end_reason, Some(EndReason::Inactivity));
    let body = expect_error(app.session(&back.token).await, StatusCode::NOT_FOUND).await;
    assert_eq!(body["error"], "no_conversation");
}

#[tokio::test]
async fn rule_6_after_an_agent_ends_it_the_next_message_starts_a_fresh_conversation() {
    let app = spawn_app().await;
    let ada = app.agent("ada").await;
    let grace = app.member("user-42", "Grace Hopper").await;
    let first = send_ok(&app, &grace.token, "m1", "My first question").await;
    app.reply(&ada, first.session_id, "r1", "Answered.").await;

    let mut socket = app.visitor_socket(&grace.token, 0).await;
    assert!(matches!(
        socket.next_visitor_event().await,
        VisitorEvent::Ready { session: Some(_) }
    ));
    app.agent_post(
        &ada,
        &format!("/sessions/{}/end", first.session_id),
        json!({}),
    )
    .await;
    let ended = socket
        .until_visitor_event(|event| matches!(event, VisitorEvent::Session { .. }))
        .await;
    assert!(matches!(
        ended,
        VisitorEvent::Session { session } if session.end_reason == Some(EndReason::Agent)
    ));
    let body = expect_error(app.session(&grace.token).await, StatusCode::NOT_FOUND).await;
    assert_eq!(body["error"], "no_conversation");
    expect_error(app.messages(&grace.token, "").await, StatusCode::NOT_FOUND).await;

    // A retry of the last message before the end is answered with the original.
    let retried: Message = expect_json(
        app.send(&grace.token, "m1", "My first question").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(retried.id, first.id);
    let body = expect_error(app.session(&grace.token).await, StatusCode::NOT_FOUND).await;
    assert_eq!(body["error"], "no_conversation", "a retry starts nothing");

    let fresh = send_ok(&app, &grace.token, "m2", "A new question").await;
    assert_ne!(fresh.session_id, first.session_id);
    assert_eq!(fresh.seq, 1);
    // The same socket follows: the new conversation, then its first message.
    let started = socket
        .until_visitor_event(|event| matches!(event, VisitorEvent::Session { .. }))
        .await;
    assert!(matches!(
        started,
        VisitorEvent::Session { session } if session.id == fresh.session_id
    ));
    let message = socket
        .until_visitor_event(|event| matches!(event, VisitorEvent::Message { .. }))
        .await;
    assert!(matches!(
        message,
        VisitorEvent::Message { message } if message.body == "A new question"
    ));
    assert_eq!(app.visitor_bodies(&grace.token).await, ["A new question"]);

    // A reconnect naming the old conversation gets all of the new one, none of the old.
    let mut again = app
        .visitor_socket_in(&grace.token, first.session_id, 3)
        .await;
    let VisitorEvent::Ready { session } = again.next_visitor_event().await else {
        panic!("expected ready")
    };
    assert_eq!(session.map(|session| session.id), Some(fresh.session_id));
    let VisitorEvent::Message { message } = again.next_visitor_event().await else {
        panic!("expected the new conversation's message")
    };
    assert_eq!(message.body, "A new question");

    // Agents still see both in the contact's Chat History.
    let history: Vec<AgentSession> = expect_json(
        app.agent_get(&ada, &format!("/contacts/{}/sessions", grace.contact.id))
            .await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<_> = history.iter().map(|row| row.session.id).collect();
    assert_eq!(ids, [fresh.session_id, first.session_id]);
}

#[tokio::test]
async fn rule_7_outside_operating_hours_messages_are_accepted_and_wait_for_agents() {
    let app = spawn_app().await;
    // `members-ec` answers at weekends; the test clock starts on a Monday.
    let token = es256(&json!({"sub": "user-7", "name": "Grace", "exp": hours_from_start(1)}));
    let grace: Identified =
        expect_json(app.identify("members-ec", &token).await, StatusCode::OK).await;
    let info: Value = expect_json(
        app.get("/api/v1/channels/members-ec", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(info["open"], false);
    let message = send_ok(&app, &grace.token, "m1", "Write back when you can").await;
    let session = current(&app, &grace.token).await;
    assert_eq!(session.id, message.session_id);
    assert_eq!(session.state, SessionState::Queued);
}

#[tokio::test]
async fn a_refused_message_starts_no_conversation() {
    let app = spawn_app().await;
    let grace = app.member("user-42", "Grace Hopper").await;
    let body = expect_error(
        app.send(&grace.token, "m1", "<script>alert(1)</script>")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["fields"]["body"].is_string());
    assert_eq!(app.count_rows("sessions").await, 0);
}
