//! Live mode, rule by rule (PRODUCT.md, "Live mode"): each test is named after its rule.

use chrono::Duration;
use palaver_protocol::{
    AgentSession, ChannelInfo, EndReason, Session, SessionState, frames::VisitorEvent,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_error, expect_json, spawn_app};

#[tokio::test]
async fn rule_1_only_a_visitor_starts_a_chat_after_giving_valid_details() {
    let app = spawn_app().await;
    let agent = app.agent("ada").await;

    let refused = app
        .start(
            "support",
            json!({"name": " ", "phone": "12", "email": "nope"}),
        )
        .await;
    let error = expect_error(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["error"], "validation");
    assert_eq!(error["fields"]["name"], "Please enter your name.");
    assert_eq!(
        error["fields"]["phone"],
        "That doesn't look like a valid phone number."
    );
    assert_eq!(
        error["fields"]["email"],
        "That doesn't look like a valid email address."
    );

    let no_email = app
        .start("strict", json!({"name": "Ada", "phone": "020 7946 0958"}))
        .await;
    let error = expect_error(no_email, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["fields"]["email"], "Please enter your email address.");
    assert!(error["fields"].get("phone").is_none());

    let inbox: Vec<AgentSession> =
        expect_json(app.agent_get(&agent, "/sessions").await, StatusCode::OK).await;
    assert!(inbox.is_empty(), "refused details created nothing");

    let created = app
        .start_ok("support", "Grace Hopper", "020 7946 0958")
        .await;
    assert_eq!(created.session.state, SessionState::Queued);
    let inbox: Vec<AgentSession> =
        expect_json(app.agent_get(&agent, "/sessions").await, StatusCode::OK).await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        inbox[0].to.phone.as_deref(),
        Some("+442079460958"),
        "stored as E.164"
    );
    assert_eq!(inbox[0].to.name, "Grace Hopper");

    // The agent API has no way to open a chat toward anyone.
    let opened = app
        .agent_post(&agent, "/sessions", json!({"contact_id": inbox[0].to.id}))
        .await;
    assert_eq!(opened.status(), StatusCode::METHOD_NOT_ALLOWED);
    let inbox: Vec<AgentSession> =
        expect_json(app.agent_get(&agent, "/sessions").await, StatusCode::OK).await;
    assert_eq!(inbox.len(), 1);
}

#[tokio::test]
async fn rule_2_a_visitor_returning_within_24_hours_continues_the_same_session_with_its_history() {
    let app = spawn_app().await;
    let agent = app.agent("ada").await;
    let created = app.start_ok("support", "Grace", "+44 20 7946 0958").await;
    app.send(&created.token, "m1", "Where is my order?").await;
    app.reply(&agent, created.session.id, "a1", "Let me look.")
        .await;

    app.advance(Duration::hours(24) - Duration::seconds(1));

    let resumed: Session = expect_json(app.session(&created.token).await, StatusCode::OK).await;
    assert_eq!(resumed.id, created.session.id);
    assert_eq!(resumed.state, SessionState::Active);
    assert_eq!(
        app.visitor_bodies(&created.token).await,
        ["Where is my order?", "ada joined the chat.", "Let me look."]
    );
    let sent = app.send(&created.token, "m2", "Thanks!").await;
    assert_eq!(sent.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn rule_3_after_24_hours_the_session_is_over_and_the_next_visit_starts_a_new_one() {
    let app = spawn_app().await;
    let first = app.start_ok("support", "Grace", "020 7946 0958").await;
    app.send(&first.token, "m1", "Hello").await;

    app.advance(Duration::hours(24));
    let agent = app.agent("ada").await;

    let gone = expect_error(app.session(&first.token).await, StatusCode::GONE).await;
    assert_eq!(gone["error"], "session_ended");
    assert_eq!(gone["end_reason"], "expired");
    let refused = app.send(&first.token, "m2", "Still there?").await;
    assert_eq!(refused.status(), StatusCode::GONE);

    let second = app.start_ok("support", "Grace", "020 7946 0958").await;
    assert_ne!(second.session.id, first.session.id);
    assert!(app.visitor_bodies(&second.token).await.is_empty());

    let ended: Vec<AgentSession> = expect_json(
        app.agent_get(&agent, "/sessions?state=ended").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].session.id, first.session.id);
    assert_eq!(ended[0].session.end_reason, Some(EndReason::Expired));
    assert_eq!(ended[0].session.ended_at, first.session.ends_at);
}

#[tokio::test]
async fn rule_4_the_same_number_again_starts_a_new_session_under_the_same_contact_without_revealing_the_old_one()
 {
    let app = spawn_app().await;
    let agent = app.agent("ada").await;
    let first = app.start_ok("support", "Grace", "020 7946 0958").await;
    app.send(&first.token, "m1", "My card number is private")
        .await;

    app.advance(Duration::minutes(5));
    let second = app
        .start_ok("support", "Someone else", "+44 (0)20 7946-0958")
        .await;

    assert_ne!(second.session.id, first.session.id);
    assert_eq!(second.session.contact_id, first.session.contact_id);
    assert!(
        app.visitor_bodies(&second.token).await.is_empty(),
        "a typed number reveals no earlier session"
    );
    assert_eq!(
        app.visitor_bodies(&first.token).await,
        ["My card number is private"]
    );

    let history: Vec<AgentSession> = expect_json(
        app.agent_get(
            &agent,
            &format!("/contacts/{}/sessions", first.session.contact_id),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<_> = history.iter().map(|row| row.session.id).collect();
    assert_eq!(ids, [second.session.id, first.session.id], "newest first");
}

#[tokio::test]
async fn rule_5_the_visitor_can_end_a_live_chat_and_it_takes_no_more_messages() {
    let app = spawn_app().await;
    let agent = app.agent("ada").await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    let mut agent_events = app.agent_socket(&agent).await;

    let ended: Session = expect_json(app.end(&created.token).await, StatusCode::OK).await;
    assert_eq!(ended.state, SessionState::Ended);
    assert_eq!(ended.end_reason, Some(EndReason::Visitor));

    let refused = app.send(&created.token, "m1", "One more thing").await;
    let error = expect_error(refused, StatusCode::GONE).await;
    assert_eq!(error["end_reason"], "visitor");
    let again = app.end(&created.token).await;
    assert_eq!(again.status(), StatusCode::GONE);

    let seen = agent_events
        .until_agent_event(|event| {
            matches!(event, palaver_protocol::frames::AgentEvent::Session { session }
                if session.session.state == SessionState::Ended)
        })
        .await;
    let palaver_protocol::frames::AgentEvent::Session { session } = seen else {
        unreachable!("matched above")
    };
    assert_eq!(session.session.end_reason, Some(EndReason::Visitor));
    let reply = app.reply(&agent, created.session.id, "a1", "Hello?").await;
    assert_eq!(reply.status(), StatusCode::GONE);
}

#[tokio::test]
async fn rule_5_an_agent_can_end_a_live_chat_and_the_visitor_is_told_at_once() {
    let app = spawn_app().await;
    let agent = app.agent("ada").await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    let mut visitor = app.visitor_socket(&created.token, 0).await;
    assert!(matches!(
        visitor.next_visitor_event().await,
        VisitorEvent::Ready { .. }
    ));

    let ended: AgentSession = expect_json(
        app.agent_post(
            &agent,
            &format!("/sessions/{}/end", created.session.id),
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ended.session.state, SessionState::Ended);

    let note = visitor
        .until_visitor_event(|event| matches!(event, VisitorEvent::Message { .. }))
        .await;
    let VisitorEvent::Message { message } = note else {
        unreachable!("matched above")
    };
    assert_eq!(message.body, "ada ended the chat.");
    let change = visitor.next_visitor_event().await;
    let VisitorEvent::Session { session } = change else {
        panic!("expected the session change, got {change:?}")
    };
    assert_eq!(session.end_reason, Some(EndReason::Agent));
    assert!(visitor.closes().await, "the stream of an ended chat closes");

    let gone = expect_error(app.session(&created.token).await, StatusCode::GONE).await;
    assert_eq!(gone["end_reason"], "agent");
}

#[tokio::test]
async fn rule_6_queued_visitors_see_their_position_and_estimated_wait_update() {
    let app = spawn_app().await;
    let agent = app.agent("ada").await;
    let first = app.start_ok("support", "First", "020 7946 0958").await;
    let second = app.start_ok("support", "Second", "020 7946 0959").await;

    let queue = second.session.queue.expect("queued visitors have a place");
    assert_eq!(queue.position, 2);
    assert_eq!(
        queue.estimated_wait_seconds, 240,
        "two minutes a visitor before the channel has history"
    );
    let mut watching = app.visitor_socket(&second.token, 0).await;
    let VisitorEvent::Ready { session } = watching.next_visitor_event().await else {
        panic!("expected ready")
    };
    assert_eq!(session.and_then(|s| s.queue).map(|q| q.position), Some(2));

    let inbox: Vec<AgentSession> =
        expect_json(app.agent_get(&agent, "/sessions").await, StatusCode::OK).await;
    let places: Vec<_> = inbox
        .iter()
        .map(|row| row.session.queue.map(|queue| queue.position))
        .collect();
    assert_eq!(
        places,
        [Some(2), Some(1)],
        "agents see the same places, newest first"
    );

    app.advance(Duration::seconds(90));
    expect_json::<AgentSession>(app.join(&agent, first.session.id).await, StatusCode::OK).await;

    let update = watching
        .until_visitor_event(|event| matches!(event, VisitorEvent::Queue { .. }))
        .await;
    let VisitorEvent::Queue { queue } = update else {
        unreachable!("matched above")
    };
    assert_eq!(queue.position, 1);
    assert_eq!(
        queue.estimated_wait_seconds, 90,
        "from the channel's recent waits"
    );

    let joined: Session = expect_json(app.session(&first.token).await, StatusCode::OK).await;
    assert_eq!(joined.state, SessionState::Active);
    assert_eq!(joined.queue, None, "no queue once an agent has joined");
}

#[tokio::test]
async fn rule_7_outside_operating_hours_the_visitor_is_told_no_agent_is_available() {
    let app = spawn_app().await;
    let open: ChannelInfo = expect_json(
        app.get("/api/v1/channels/office", None).await,
        StatusCode::OK,
    )
    .await;
    assert!(open.open);

    // Monday 10:00 to Monday 18:00 London (UTC in November): closed until Tuesday 09:00.
    app.advance(Duration::hours(8));
    let closed: ChannelInfo = expect_json(
        app.get("/api/v1/channels/office", None).await,
        StatusCode::OK,
    )
    .await;
    assert!(!closed.open);
    assert_eq!(
        closed.next_open_at,
        Some("2026-11-24T09:00:00Z".parse().expect("timestamp"))
    );
    let refused = app
        .start("office", json!({"name": "Grace", "phone": "020 7946 0958"}))
        .await;
    let error = expect_error(refused, StatusCode::CONFLICT).await;
    assert_eq!(error["error"], "outside_operating_hours");
    assert_eq!(
        error["message"],
        "No agent is available right now. We're back at Tue 24 Nov 09:00 UTC."
    );
}

#[tokio::test]
async fn rule_7_an_idle_chat_closes_after_the_channels_inactivity_timeout() {
    let app = spawn_app().await;
    let details = json!({"name": "Grace", "phone": "020 7946 0958", "email": "g@example.com"});
    let created: palaver_protocol::SessionCreated =
        expect_json(app.start("strict", details).await, StatusCode::CREATED).await;

    app.advance(Duration::minutes(4));
    assert_eq!(
        app.send(&created.token, "m1", "Hi").await.status(),
        StatusCode::CREATED
    );
    app.advance(Duration::minutes(4));
    let still_open: Session = expect_json(app.session(&created.token).await, StatusCode::OK).await;
    assert_eq!(
        still_open.state,
        SessionState::Queued,
        "a message restarts the timeout"
    );

    let mut visitor = app.visitor_socket(&created.token, 1).await;
    assert!(matches!(
        visitor.next_visitor_event().await,
        VisitorEvent::Ready { .. }
    ));
    app.advance(Duration::minutes(1));

    let change = visitor
        .until_visitor_event(|event| matches!(event, VisitorEvent::Session { .. }))
        .await;
    let VisitorEvent::Session { session } = change else {
        unreachable!("matched above")
    };
    assert_eq!(session.end_reason, Some(EndReason::Inactivity));
    let gone = expect_error(app.session(&created.token).await, StatusCode::GONE).await;
    assert_eq!(gone["end_reason"], "inactivity");
}
