//! Events by interest: a socket that falls behind catches up from the store with no gap and
//! no duplicate, queued visitors hear their place only when it moves and at most once per
//! interval, and floods of typing reach nobody but as a few changes a second.

use std::time::Instant;

use futures_util::{StreamExt, stream};
use palaver_protocol::{
    AgentSession, Message,
    frames::{AgentEvent, AgentFrame, VisitorEvent, VisitorFrame},
};
use reqwest::StatusCode;

use crate::helpers::{Socket, TestAgent, TestApp, spawn_app, spawn_app_with};

/// How many messages each lag test sends at once, and in all.
const AT_ONCE: usize = 16;
const REPLIES: usize = 300;

/// Sends `REPLIES` agent replies into a session, `AT_ONCE` at a time.
async fn flood_replies(app: &TestApp, agent: &TestAgent, session_id: uuid::Uuid) {
    stream::iter(0..REPLIES)
        .for_each_concurrent(AT_ONCE, |n| async move {
            let sent = app
                .reply(agent, session_id, &format!("r-{n}"), &format!("Reply {n}"))
                .await;
            assert_eq!(sent.status(), StatusCode::CREATED);
        })
        .await;
}

/// Reads a visitor's message frames until `last` has come; every other frame is skipped.
async fn visitor_messages_until(socket: &mut Socket, last: i64) -> Vec<Message> {
    let mut messages = Vec::new();
    while messages
        .last()
        .is_none_or(|message: &Message| message.seq < last)
    {
        if let VisitorEvent::Message { message } = socket.next_visitor_event().await {
            messages.push(message);
        }
    }
    messages
}

fn assert_each_once_in_order(messages: &[Message], last: i64) {
    let seqs: Vec<i64> = messages.iter().map(|message| message.seq).collect();
    let expected: Vec<i64> = (1..=last).collect();
    assert_eq!(seqs, expected, "every message once, in order");
}

/// A console's stream, signed in and showing `session_id`, with that session as the stream
/// first sent it.
async fn console_showing(
    app: &TestApp,
    agent: &TestAgent,
    session_id: uuid::Uuid,
) -> (Socket, AgentSession) {
    let mut console = app.agent_socket(agent).await;
    assert!(matches!(
        console.next_agent_event().await,
        AgentEvent::Ready { .. }
    ));
    console
        .send(&AgentFrame::Open {
            session_id: Some(session_id),
        })
        .await;
    match console.next_agent_event().await {
        AgentEvent::Session { session } if session.session.id == session_id => (console, session),
        other => panic!("the opened session first, not {other:?}"),
    }
}

/// Shows that the console's stream is still open: it answers a frame.
async fn answers(console: &mut Socket, session_id: uuid::Uuid) {
    console
        .send(&AgentFrame::Open {
            session_id: Some(session_id),
        })
        .await;
    console
        .until_agent_event(|event| {
            matches!(event, AgentEvent::Session { session } if session.session.id == session_id)
        })
        .await;
}

#[tokio::test]
async fn a_visitor_socket_that_falls_behind_catches_up_with_no_gap_and_no_duplicate() {
    // One event of room: any burst overflows it.
    let app = spawn_app_with(&["--event-buffer", "1"]).await;
    let ada = app.agent("ada").await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    assert_eq!(
        app.join(&ada, created.session.id).await.status(),
        StatusCode::OK
    );
    let mut visitor = app.visitor_socket(&created.token, 0).await;
    assert!(matches!(
        visitor.next_visitor_event().await,
        VisitorEvent::Ready { .. }
    ));

    flood_replies(&app, &ada, created.session.id).await;

    // The join note, then every reply.
    let last = i64::try_from(REPLIES).expect("fits") + 1;
    let messages = visitor_messages_until(&mut visitor, last).await;
    assert_each_once_in_order(&messages, last);
}

#[tokio::test]
async fn a_console_that_falls_behind_the_inbox_catches_up_with_the_open_conversation_whole() {
    let app = spawn_app_with(&["--inbox-event-buffer", "1"]).await;
    let ada = app.agent("ada").await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    let other = app.start_ok("support", "Alan", "020 7946 0959").await;
    assert_eq!(
        app.join(&ada, created.session.id).await.status(),
        StatusCode::OK
    );
    let (mut console, opened) = console_showing(&app, &ada, created.session.id).await;
    assert_eq!(
        opened.session.last_seq, 1,
        "the open conversation as it stands, its join note held"
    );

    // The visitor writes in the open conversation while another visitor's session changes.
    let writes = stream::iter(0..REPLIES).for_each_concurrent(AT_ONCE, |n| {
        let token = created.token.clone();
        let app = &app;
        async move {
            let sent = app
                .send(&token, &format!("v-{n}"), &format!("Line {n}"))
                .await;
            assert_eq!(sent.status(), StatusCode::CREATED);
        }
    });
    let changes = async {
        for n in 0..20 {
            let regarding = serde_json::json!({ "regarding": format!("Order #{n}") });
            let set = app
                .put("/api/v1/session/regarding", &other.token, &regarding)
                .await;
            assert_eq!(set.status(), StatusCode::OK);
        }
    };
    tokio::join!(writes, changes);

    let last = i64::try_from(REPLIES).expect("fits") + 1;
    let mut open = Vec::new();
    let mut other_regarding = None;
    while open
        .last()
        .is_none_or(|message: &Message| message.seq < last)
        || other_regarding.as_deref() != Some("Order #19")
    {
        match console.next_agent_event().await {
            AgentEvent::Message { message } if message.session_id == created.session.id => {
                open.push(message);
            }
            AgentEvent::Session { session } if session.session.id == other.session.id => {
                other_regarding = session.session.regarding;
            }
            _ => {}
        }
    }
    // The join note came before the conversation was opened.
    let seqs: Vec<i64> = open.iter().map(|message| message.seq).collect();
    let expected: Vec<i64> = (2..=last).collect();
    assert_eq!(seqs, expected, "every message once, in order");
    answers(&mut console, created.session.id).await;
}

#[tokio::test]
async fn a_queued_visitor_hears_their_place_only_when_it_moves_and_at_most_once_an_interval() {
    let interval = std::time::Duration::from_millis(300);
    let app = spawn_app_with(&["--queue-update-interval", "300ms"]).await;
    let ahead: Vec<_> = stream::iter(0..12)
        .then(|n| {
            let app = &app;
            async move {
                app.start_ok("support", "Ahead", &format!("020 7946 01{n:02}"))
                    .await
            }
        })
        .collect()
        .await;
    let waiting = app.start_ok("support", "Grace", "020 7946 0958").await;
    assert_eq!(waiting.session.queue.map(|queue| queue.position), Some(13));
    let behind = app.start_ok("support", "Alan", "020 7946 0959").await;
    let mut visitor = app.visitor_socket(&waiting.token, 0).await;
    assert!(matches!(
        visitor.next_visitor_event().await,
        VisitorEvent::Ready { session: Some(session) }
            if session.queue.map(|queue| queue.position) == Some(13)
    ));

    // Those behind come and go: nothing for this visitor.
    assert_eq!(app.end(&behind.token).await.status(), StatusCode::OK);
    // Everyone ahead leaves, one by one and as fast as they can.
    let started = Instant::now();
    for created in &ahead {
        assert_eq!(app.end(&created.token).await.status(), StatusCode::OK);
    }
    let mut places = Vec::new();
    while places.last() != Some(&1) {
        if let VisitorEvent::Queue { queue } = visitor.next_visitor_event().await {
            places.push(queue.position);
        }
    }
    let elapsed = started.elapsed();
    assert!(
        places.windows(2).all(|pair| pair[0] > pair[1]),
        "each place moved forward: {places:?}"
    );
    let most = elapsed.as_secs_f64() / interval.as_secs_f64() + 2.0;
    assert!(
        (places.len() as f64) <= most,
        "{} updates in {elapsed:?}: {places:?}",
        places.len()
    );
    assert!(
        places.len() < ahead.len(),
        "twelve moves coalesce into fewer updates: {places:?}"
    );
}

#[tokio::test]
async fn a_flood_of_typing_reaches_the_console_as_a_few_changes_and_every_message_arrives() {
    let app = spawn_app().await;
    let ada = app.agent("ada").await;
    let created = app.start_ok("support", "Grace", "020 7946 0958").await;
    assert_eq!(
        app.join(&ada, created.session.id).await.status(),
        StatusCode::OK
    );
    let (mut console, _) = console_showing(&app, &ada, created.session.id).await;
    let mut visitor = app.visitor_socket(&created.token, 0).await;
    assert!(matches!(
        visitor.next_visitor_event().await,
        VisitorEvent::Ready { .. }
    ));

    let started = Instant::now();
    for n in 0..20_000 {
        visitor
            .send(&VisitorFrame::Typing { typing: n % 2 == 0 })
            .await;
    }
    let sent = app.send(&created.token, "after", "Still there?").await;
    assert_eq!(sent.status(), StatusCode::CREATED);

    let mut typing = 0;
    loop {
        match console.next_agent_event().await {
            AgentEvent::Typing { .. } => typing += 1,
            AgentEvent::Message { message } if message.body == "Still there?" => break,
            _ => {}
        }
    }
    let most = started.elapsed().as_secs_f64() * 4.0 + 2.0;
    assert!(
        f64::from(typing) <= most,
        "{typing} typing changes reached the console in {:?}",
        started.elapsed()
    );
    answers(&mut console, created.session.id).await;
}
