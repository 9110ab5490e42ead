//! Routing: sessions go to available agents with room, affinity first; waiting and ends free
//! places; the live queue's places and estimates come from the queue routing serves.

use chrono::Duration;
use palaver_protocol::{
    AgentSession, AgentStatus, ChannelInfo, ChannelMode, ErrorCode, SessionState,
    frames::{AgentEvent, AgentFrame, VisitorEvent},
};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_error, expect_json, spawn_app};

#[tokio::test]
async fn a_new_chat_goes_at_once_to_an_available_agent_with_room() {
    let app = spawn_app().await;
    let ada = app.agent("ada").await;
    let mut console = app.online(&ada).await;

    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    assert_eq!(created.session.state, SessionState::Active);
    assert_eq!(
        created.session.agent.map(|agent| agent.name).as_deref(),
        Some("ada")
    );
    assert_eq!(created.session.queue, None, "never queued for the visitor");
    assert_eq!(
        app.visitor_bodies(&created.token).await,
        ["ada joined the chat."]
    );

    let offered = console
        .until_agent_event(|event| {
            matches!(event, AgentEvent::Session { session }
                if session.session.id == created.session.id
                    && session.session.state == SessionState::Active)
        })
        .await;
    assert!(matches!(offered, AgentEvent::Session { .. }));
    let load = console
        .until_agent_event(|event| matches!(event, AgentEvent::Agent { .. }))
        .await;
    assert!(
        matches!(&load, AgentEvent::Agent { agent } if agent.name == "ada" && agent.load == 1),
        "the console hears of its new load: {load:?}"
    );
}

#[tokio::test]
async fn an_agent_is_offered_nothing_until_they_say_they_are_available() {
    let app = spawn_app().await;
    let ada = app.agent("ada").await;
    let mut console = app.agent_socket(&ada).await;
    console
        .until_agent_event(|event| matches!(event, AgentEvent::Ready { .. }))
        .await;

    let waiting = app.start_ok("support", "Grace", "020 7946 0958").await;
    assert_eq!(waiting.session.state, SessionState::Queued);
    let mut visitor = app.visitor_socket(&waiting.token, 0).await;
    visitor.next_visitor_event().await;

    console
        .send(&AgentFrame::Presence { available: true })
        .await;
    visitor.until_session_state(SessionState::Active).await;
    assert_eq!(app.holder(waiting.session.id).await.as_deref(), Some("ada"));

    console
        .send(&AgentFrame::Presence { available: false })
        .await;
    console
        .until_agent_event(|event| matches!(event, AgentEvent::Agent { agent } if !agent.available))
        .await;
    let later = app.start_ok("support", "Alan", "020 7946 0959").await;
    assert_eq!(
        later.session.state,
        SessionState::Queued,
        "away: no new chats"
    );
}

#[tokio::test]
async fn an_agent_whose_console_closes_is_available_no_more() {
    let app = spawn_app().await;
    let ada = app.agent("ada").await;
    let console = app.online(&ada).await;
    let me: AgentStatus = expect_json(app.agent_get(&ada, "/me").await, StatusCode::OK).await;
    assert!(me.available);

    let mut watcher = app.agent_socket(&app.agent("bob").await).await;
    watcher
        .until_agent_event(|event| matches!(event, AgentEvent::Ready { .. }))
        .await;
    drop(console);
    let gone = watcher
        .until_agent_event(
            |event| matches!(event, AgentEvent::Agent { agent } if agent.name == "ada"),
        )
        .await;
    assert!(matches!(gone, AgentEvent::Agent { agent } if !agent.available));
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    assert_eq!(created.session.state, SessionState::Queued);
}

#[tokio::test]
async fn an_agent_at_capacity_is_offered_no_more_and_an_end_frees_a_place() {
    let app = spawn_app().await;
    let ada = app.agent_with_capacity("ada", 1).await;
    let _console = app.online(&ada).await;
    let first = app.start_ok("support", "Grace", "020 7946 0958").await;
    let second = app.start_ok("support", "Alan", "020 7946 0959").await;
    assert_eq!(first.session.state, SessionState::Active);
    assert_eq!(
        (
            second.session.state,
            second.session.queue.map(|q| q.position)
        ),
        (SessionState::Queued, Some(1)),
        "Ada holds one chat at most"
    );
    let mut visitor = app.visitor_socket(&second.token, 0).await;
    visitor.next_visitor_event().await;

    app.agent_post(
        &ada,
        &format!("/sessions/{}/end", first.session.id),
        json!({}),
    )
    .await;
    visitor.until_session_state(SessionState::Active).await;
    assert_eq!(app.holder(second.session.id).await.as_deref(), Some("ada"));
}

#[tokio::test]
async fn setting_a_conversation_waiting_frees_a_place_for_the_next_chat() {
    let app = spawn_app().await;
    let ada = app.agent_with_capacity("ada", 1).await;
    let _console = app.online(&ada).await;
    let grace = app.member("user-42", "Grace Hopper").await;
    let sent: palaver_protocol::Message = expect_json(
        app.send(&grace.token, "m1", "Hello").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(app.holder(sent.session_id).await.as_deref(), Some("ada"));
    let live = app.start_ok("support", "Alan", "020 7946 0959").await;
    assert_eq!(live.session.state, SessionState::Queued);

    expect_json::<AgentSession>(app.wait(&ada, sent.session_id).await, StatusCode::OK).await;
    assert_eq!(app.holder(live.session.id).await.as_deref(), Some("ada"));
    let me: AgentStatus = expect_json(app.agent_get(&ada, "/me").await, StatusCode::OK).await;
    assert_eq!(
        (me.load, me.capacity),
        (1, 1),
        "the waiting conversation does not count"
    );
}

#[tokio::test]
async fn the_least_busy_available_agent_gets_the_next_chat() {
    let app = spawn_app().await;
    let (ada, bob) = (app.agent("ada").await, app.agent("bob").await);
    let _ada = app.online(&ada).await;
    app.start_ok("support", "Grace", "020 7946 0958").await;
    let _bob = app.online(&bob).await;
    let next = app.start_ok("support", "Alan", "020 7946 0959").await;
    assert_eq!(
        next.session.agent.map(|agent| agent.name).as_deref(),
        Some("bob")
    );
}

#[tokio::test]
async fn a_returning_member_goes_first_to_their_last_agent_and_to_another_when_they_are_away() {
    let app = spawn_app().await;
    let (ada, bob) = (app.agent("ada").await, app.agent("bob").await);
    let ada_console = app.online(&ada).await;
    let grace = app.member("user-42", "Grace Hopper").await;
    let first: palaver_protocol::Message = expect_json(
        app.send(&grace.token, "m1", "Hello").await,
        StatusCode::CREATED,
    )
    .await;
    app.start_ok("support", "Alan", "020 7946 0959").await;
    app.agent_post(
        &ada,
        &format!("/sessions/{}/end", first.session_id),
        json!({}),
    )
    .await;
    let _bob_console = app.online(&bob).await;

    let fresh: palaver_protocol::Message = expect_json(
        app.send(&grace.token, "m2", "Me again").await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(fresh.session_id, first.session_id, "a fresh conversation");
    assert_eq!(
        app.holder(fresh.session_id).await.as_deref(),
        Some("ada"),
        "Ada handled Grace before; Bob is less busy but second"
    );

    app.agent_post(
        &ada,
        &format!("/sessions/{}/end", fresh.session_id),
        json!({}),
    )
    .await;
    let mut watcher = app.agent_socket(&bob).await;
    watcher
        .until_agent_event(|event| matches!(event, AgentEvent::Ready { .. }))
        .await;
    drop(ada_console);
    watcher
        .until_agent_event(|event| {
            matches!(event, AgentEvent::Agent { agent } if agent.name == "ada" && !agent.available)
        })
        .await;
    let third: palaver_protocol::Message = expect_json(
        app.send(&grace.token, "m3", "Anyone there?").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(app.holder(third.session_id).await.as_deref(), Some("bob"));
}

#[tokio::test]
async fn queue_places_count_every_channel_in_the_order_routing_serves_them() {
    let app = spawn_app().await;
    let ada = app.agent_with_capacity("ada", 1).await;
    let support = app.start_ok("support", "Grace", "020 7946 0958").await;
    let grace = app.member("user-42", "Grace Hopper").await;
    let member: palaver_protocol::Message = expect_json(
        app.send(&grace.token, "m1", "Hello").await,
        StatusCode::CREATED,
    )
    .await;
    let office = app.start_ok("office", "Alan", "020 7946 0959").await;
    let place = office.session.queue.expect("queued");
    assert_eq!(
        (place.position, place.estimated_wait_seconds),
        (3, 360),
        "behind a live chat and a member's conversation on other channels"
    );
    let mut visitor = app.visitor_socket(&office.token, 0).await;
    visitor.next_visitor_event().await;

    app.advance(Duration::seconds(60));
    let _console = app.online(&ada).await;
    let update = visitor
        .until_visitor_event(|event| matches!(event, VisitorEvent::Queue { .. }))
        .await;
    let VisitorEvent::Queue { queue } = update else {
        unreachable!("matched above")
    };
    assert_eq!(queue.position, 2, "one place up");
    assert_eq!(
        app.holder(support.session.id).await.as_deref(),
        Some("ada"),
        "the oldest went first"
    );
    assert_eq!(app.holder(member.session_id).await, None);
}

#[tokio::test]
async fn agents_read_their_status_the_team_and_the_channels() {
    let app = spawn_app().await;
    let ada = app.agent_with_capacity("ada", 2).await;
    let bob = app.agent("bob").await;
    let _console = app.online(&ada).await;
    app.start_ok("support", "Grace", "020 7946 0958").await;

    let me: AgentStatus = expect_json(app.agent_get(&ada, "/me").await, StatusCode::OK).await;
    assert_eq!(
        (me.name.as_str(), me.capacity, me.load, me.available),
        ("ada", 2, 1, true)
    );
    let team = app.agent_statuses(&bob).await;
    let rows: Vec<_> = team
        .iter()
        .map(|agent| (agent.name.as_str(), agent.load, agent.available))
        .collect();
    assert_eq!(rows, [("ada", 1, true), ("bob", 0, false)]);

    let channels: Vec<ChannelInfo> =
        expect_json(app.agent_get(&bob, "/channels").await, StatusCode::OK).await;
    let listed: Vec<_> = channels
        .iter()
        .map(|channel| (channel.id.as_str(), channel.mode))
        .collect();
    assert_eq!(
        listed,
        [
            ("members", ChannelMode::Persistent),
            ("members-ec", ChannelMode::Persistent),
            ("office", ChannelMode::Live),
            ("strict", ChannelMode::Live),
            ("support", ChannelMode::Live),
        ],
        "by name"
    );
    for path in ["/me", "/agents", "/channels"] {
        let body = expect_error(
            app.get(&format!("/api/v1/agent{path}"), None).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        assert_eq!(body["error"], "unauthorized", "{path}");
    }
}

#[tokio::test]
async fn signing_out_closes_the_console_and_the_agent_takes_no_more_chats() {
    let app = spawn_app().await;
    let ada = app.agent("ada").await;
    let mut console = app.online(&ada).await;
    let mut watcher = app.agent_socket(&app.agent("bob").await).await;
    watcher
        .until_agent_event(|event| matches!(event, AgentEvent::Ready { .. }))
        .await;
    let response = app.agent_post(&ada, "/logout", json!({})).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let closing = console
        .until_agent_event(|event| matches!(event, AgentEvent::Error { .. }))
        .await;
    assert!(
        matches!(&closing, AgentEvent::Error { error } if error.error == ErrorCode::Unauthorized),
        "{closing:?}"
    );
    assert!(console.closes().await, "the stream closes");
    watcher
        .until_agent_event(|event| {
            matches!(event, AgentEvent::Agent { agent } if agent.name == "ada" && !agent.available)
        })
        .await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    assert_eq!(created.session.state, SessionState::Queued);
}
