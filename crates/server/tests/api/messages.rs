//! The message guarantees: nothing lost, nothing doubled, every client catches up by
//! sequence number, and a token reaches its own session only.

use palaver_protocol::{Message, MessagePage, Sender, frames::VisitorEvent};
use reqwest::StatusCode;

use crate::helpers::{expect_error, expect_json, spawn_app};

#[tokio::test]
async fn a_retried_send_returns_the_original_message_and_stores_no_second() {
    let app = spawn_app().await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;

    let first: Message = expect_json(
        app.send(&created.token, "c-1", "Hello").await,
        StatusCode::CREATED,
    )
    .await;
    let retry: Message = expect_json(
        app.send(&created.token, "c-1", "Hello").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(retry, first);
    let next: Message = expect_json(
        app.send(&created.token, "c-2", "Anyone?").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(next.seq, first.seq + 1, "a retry takes no sequence number");
    assert_eq!(
        app.visitor_bodies(&created.token).await,
        ["Hello", "Anyone?"]
    );
}

#[tokio::test]
async fn concurrent_sends_get_distinct_gap_free_sequence_numbers() {
    let app = spawn_app().await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    let sends = (1..=20).map(|n| {
        let app = &app;
        let token = created.token.clone();
        async move {
            app.send(&token, &format!("c-{n}"), &format!("message {n}"))
                .await
        }
    });
    for response in futures_util::future::join_all(sends).await {
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let page: MessagePage = expect_json(
        app.messages(&created.token, "?limit=200").await,
        StatusCode::OK,
    )
    .await;
    let seqs: Vec<i64> = page.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
}

#[tokio::test]
async fn history_comes_newest_page_first_with_older_pages_before_it() {
    let app = spawn_app().await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    for n in 1..=7 {
        app.send(&created.token, &format!("c-{n}"), &format!("m{n}"))
            .await;
    }
    let newest: MessagePage = expect_json(
        app.messages(&created.token, "?limit=3").await,
        StatusCode::OK,
    )
    .await;
    let bodies = |page: &MessagePage| {
        page.messages
            .iter()
            .map(|m| m.body.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(bodies(&newest), ["m5", "m6", "m7"]);
    assert!(newest.has_more);
    let older: MessagePage = expect_json(
        app.messages(&created.token, "?before=5&limit=3").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bodies(&older), ["m2", "m3", "m4"]);
    assert!(older.has_more);
    let oldest: MessagePage = expect_json(
        app.messages(&created.token, "?before=2&limit=3").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bodies(&oldest), ["m1"]);
    assert!(!oldest.has_more);
    let missed: MessagePage = expect_json(
        app.messages(&created.token, "?after=5").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bodies(&missed), ["m6", "m7"]);
    assert!(!missed.has_more);
    let both = app.messages(&created.token, "?after=1&before=3").await;
    expect_error(both, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn a_reconnecting_client_receives_exactly_what_it_missed_then_new_messages_once() {
    let app = spawn_app().await;
    let agent = app.agent("ada").await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    app.send(&created.token, "c-1", "one").await;
    app.send(&created.token, "c-2", "two").await;
    app.send(&created.token, "c-3", "three").await;

    let mut socket = app.visitor_socket(&created.token, 1).await;
    assert!(matches!(
        socket.next_visitor_event().await,
        VisitorEvent::Ready { .. }
    ));
    let mut seen = Vec::new();
    for _ in 0..2 {
        let VisitorEvent::Message { message } = socket.next_visitor_event().await else {
            panic!("expected a replayed message")
        };
        seen.push((message.seq, message.body));
    }
    assert_eq!(seen, [(2, "two".to_owned()), (3, "three".to_owned())]);

    app.reply(&agent, created.session.id, "a-1", "Hi Grace")
        .await;
    let mut live = Vec::new();
    for _ in 0..2 {
        let event = socket
            .until_visitor_event(|event| matches!(event, VisitorEvent::Message { .. }))
            .await;
        let VisitorEvent::Message { message } = event else {
            unreachable!("matched above")
        };
        live.push((message.seq, message.body, message.sender));
    }
    assert_eq!(live[0].0, 4);
    assert_eq!(live[0].1, "ada joined the chat.");
    assert_eq!(live[0].2, Sender::System);
    assert_eq!(live[1].0, 5);
    assert_eq!(live[1].1, "Hi Grace");
    assert!(matches!(live[1].2, Sender::Agent { ref name, .. } if name == "ada"));

    // A retry of the agent's reply is not pushed again: the next frame is the next message.
    app.reply(&agent, created.session.id, "a-1", "Hi Grace")
        .await;
    app.send(&created.token, "c-4", "four").await;
    let event = socket
        .until_visitor_event(|event| matches!(event, VisitorEvent::Message { .. }))
        .await;
    let VisitorEvent::Message { message } = event else {
        unreachable!("matched above")
    };
    assert_eq!((message.seq, message.body.as_str()), (6, "four"));
}

#[tokio::test]
async fn stopping_the_server_closes_open_streams_so_clients_reconnect_to_the_next_one() {
    let mut app = spawn_app().await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    let mut socket = app.visitor_socket(&created.token, 0).await;
    assert!(matches!(
        socket.next_visitor_event().await,
        VisitorEvent::Ready { .. }
    ));
    app.stop();
    assert!(
        socket.closes().await,
        "an open stream does not hold the server up"
    );
}

#[tokio::test]
async fn a_session_token_opens_its_own_session_only() {
    let app = spawn_app().await;
    let grace = app.start_ok("support", "Grace", "020 7946 0958").await;
    let alan = app.start_ok("support", "Alan", "020 7946 0959").await;
    app.send(&grace.token, "c-1", "Grace's secret").await;

    assert!(app.visitor_bodies(&alan.token).await.is_empty());
    let session: palaver_protocol::Session =
        expect_json(app.session(&alan.token).await, StatusCode::OK).await;
    assert_eq!(session.id, alan.session.id);
    // A visitor token is no agent token.
    let path = format!("/sessions/{}/messages", grace.session.id);
    let refused = app
        .get(&format!("/api/v1/agent{path}"), Some(&alan.token))
        .await;
    expect_error(refused, StatusCode::UNAUTHORIZED).await;
}
