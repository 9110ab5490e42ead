//! Live mode through the widget's public API: resuming within the window, the event stream
//! with reconnection and catch-up, the outbox, history pages, and the end by either side.

use gloo_storage::{LocalStorage, Storage};
use palaver_widget::WidgetConfig;
use serde_json::{Value, json};
use uuid::Uuid;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::support::{
    Mounted, SERVER, Stream, accept, back_online, eventually, fake_server, message, requests,
    stored, unroute,
};

/// A live session of `channel`, in `state`, its window closing in 2099.
fn session(id: Uuid, channel: &str, state: &str, end_reason: Value) -> Value {
    json!({
        "id": id,
        "contact_id": Uuid::new_v4(),
        "channel": channel,
        "mode": "live",
        "state": state,
        "started_at": "2098-12-01T10:00:00Z",
        "ends_at": "2099-12-01T10:00:00Z",
        "ended_at": null,
        "end_reason": end_reason,
        "regarding": null,
        "agent": null,
        "last_seq": 0,
        "queue": null,
    })
}

fn agent(name: &str) -> Value {
    json!({"kind": "agent", "id": Uuid::new_v4(), "name": name})
}

fn live_channel(id: &str) -> Value {
    json!({
        "id": id,
        "name": "Demo shop",
        "mode": "live",
        "require_email": false,
        "open": true,
        "next_open_at": null,
    })
}

/// A visitor of `channel` who holds session `id` with bearer `token` in this browser, and
/// the server that knows it: the session, the newest page of `history`, and its stream.
fn returning_visitor(channel: &str, token: &str, id: Uuid, history: &[Value]) -> Stream {
    LocalStorage::raw()
        .set_item(
            &format!("palaver:{channel}:session"),
            &json!({"token": token, "session_id": id, "ends_at_ms": 4_100_000_000_000_i64})
                .to_string(),
        )
        .expect("storage works");
    fake_server(&[
        (
            &format!("GET /api/v1/channels/{channel}"),
            200,
            live_channel(channel),
        ),
        (
            &format!("GET /api/v1/session Bearer {token}"),
            200,
            session(id, channel, "active", Value::Null),
        ),
        (
            &format!("GET /api/v1/session/messages?limit=30 Bearer {token}"),
            200,
            json!({"messages": history, "has_more": false}),
        ),
    ]);
    accept(token)
}

/// The widget of a returning visitor, connected: its stream authenticated and ready.
async fn connected(channel: &str, stream: &Stream, id: Uuid) -> Mounted {
    let widget = Mounted::app(WidgetConfig::new(channel, SERVER));
    stream.authenticated(1).await;
    stream.push(&json!({"type": "ready", "session": session(id, channel, "active", Value::Null)}));
    eventually("the widget is online", || {
        widget
            .find("connection")
            .and_then(|link| link.get_attribute("data-state"))
            .as_deref()
            == Some("online")
    })
    .await;
    widget
}

#[wasm_bindgen_test]
async fn a_visitor_who_returns_within_the_window_continues_the_session_with_its_history() {
    let id = Uuid::new_v4();
    let stream = returning_visitor(
        "t-resume",
        "lv-resume",
        id,
        &[
            message(id, 1, json!({"kind": "visitor"}), "Hello", json!("c1")),
            message(id, 2, agent("Sam"), "Hi, how can I help?", Value::Null),
        ],
    );
    let widget = Mounted::app(WidgetConfig::new("t-resume", SERVER));

    eventually("the history shows", || widget.messages().len() == 2).await;
    assert_eq!(
        widget.messages(),
        [
            ("visitor".to_owned(), "Hello".to_owned()),
            ("agent".to_owned(), "Hi, how can I help?".to_owned()),
        ]
    );
    assert!(
        widget.find("prechat-form").is_none(),
        "no form for a live session"
    );
    let auth = stream.authenticated(1).await;
    assert_eq!(
        (&auth["type"], &auth["token"], &auth["after_seq"]),
        (&json!("auth"), &json!("lv-resume"), &json!(2)),
        "the stream starts after the last message held"
    );
    widget.remove();
}

#[wasm_bindgen_test]
async fn a_session_past_its_window_shows_the_form_and_says_why() {
    LocalStorage::raw()
        .set_item(
            "palaver:t-expired-window:session",
            &json!({"token": "lv-old", "session_id": Uuid::new_v4(), "ends_at_ms": 1_000})
                .to_string(),
        )
        .expect("storage works");
    fake_server(&[(
        "GET /api/v1/channels/t-expired-window",
        200,
        live_channel("t-expired-window"),
    )]);
    let widget = Mounted::app(WidgetConfig::new("t-expired-window", SERVER));

    let notice = widget.wait_for("restart-notice").await;
    assert_eq!(
        notice.text_content().as_deref(),
        Some("Your previous chat has ended: chats stay open for 24 hours.")
    );
    assert!(widget.find("prechat-form").is_some());
    assert_eq!(stored("palaver:t-expired-window:session"), None);
    widget.remove();
}

#[wasm_bindgen_test]
async fn a_reconnect_catches_up_from_the_last_message_and_shows_nothing_twice() {
    let id = Uuid::new_v4();
    let one = message(id, 1, json!({"kind": "visitor"}), "Hello", json!("c1"));
    let stream = returning_visitor("t-catch-up", "lv-catch-up", id, std::slice::from_ref(&one));
    let widget = connected("t-catch-up", &stream, id).await;
    let two = message(id, 2, agent("Sam"), "One moment.", Value::Null);
    stream.push(&json!({"type": "message", "message": two}));
    eventually("the live message shows", || widget.messages().len() == 2).await;

    stream.drop_connection();
    back_online();
    let auth = stream.authenticated(2).await;
    assert_eq!(auth["after_seq"], json!(2), "asks only for what it missed");
    let three = message(id, 3, agent("Sam"), "Found it.", Value::Null);
    stream.push(
        &json!({"type": "ready", "session": session(id, "t-catch-up", "active", Value::Null)}),
    );
    stream.push(&json!({"type": "message", "message": two}));
    stream.push(&json!({"type": "message", "message": three}));

    eventually("the missed message shows", || widget.messages().len() == 3).await;
    assert_eq!(
        widget.messages(),
        [
            ("visitor".to_owned(), "Hello".to_owned()),
            ("agent".to_owned(), "One moment.".to_owned()),
            ("agent".to_owned(), "Found it.".to_owned()),
        ]
    );
    widget.remove();
}

#[wasm_bindgen_test]
async fn a_message_that_could_not_be_sent_is_retried_with_the_same_client_id() {
    let id = Uuid::new_v4();
    let stream = returning_visitor("t-retry", "lv-retry", id, &[]);
    let widget = connected("t-retry", &stream, id).await;
    let post = "POST /api/v1/session/messages";
    unroute(&format!("{post} Bearer lv-retry"));

    widget.write("Are you there?");
    eventually("the first try fails", || {
        requests(post, "lv-retry").len() == 1
    })
    .await;
    let row = widget.find("message").expect("the message shows");
    assert_eq!(row.get_attribute("data-status").as_deref(), Some("pending"));
    assert!(
        stored("palaver:t-retry:outbox").is_some(),
        "kept for a reload"
    );

    fake_server(&[(
        &format!("{post} Bearer lv-retry"),
        201,
        message(
            id,
            1,
            json!({"kind": "visitor"}),
            "Are you there?",
            json!("$client_msg_id"),
        ),
    )]);
    stream.drop_connection();
    back_online();
    stream.authenticated(2).await;
    stream
        .push(&json!({"type": "ready", "session": session(id, "t-retry", "active", Value::Null)}));

    eventually("the retry is confirmed", || {
        widget
            .find("message")
            .and_then(|row| row.get_attribute("data-status"))
            .as_deref()
            == Some("sent")
    })
    .await;
    let sent = requests(post, "lv-retry");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0]["client_msg_id"], sent[1]["client_msg_id"]);
    assert_eq!(widget.count("message"), 1, "shown once");
    assert_eq!(stored("palaver:t-retry:outbox"), None);
    widget.remove();
}

#[wasm_bindgen_test]
async fn earlier_messages_load_a_page_at_a_time() {
    let id = Uuid::new_v4();
    let stream = returning_visitor("t-pages", "lv-pages", id, &[]);
    fake_server(&[
        (
            "GET /api/v1/session/messages?limit=30 Bearer lv-pages",
            200,
            json!({
                "messages": [
                    message(id, 3, agent("Sam"), "Third", Value::Null),
                    message(id, 4, agent("Sam"), "Fourth", Value::Null),
                ],
                "has_more": true,
            }),
        ),
        (
            "GET /api/v1/session/messages?before=3&limit=30 Bearer lv-pages",
            200,
            json!({
                "messages": [
                    message(id, 1, json!({"kind": "visitor"}), "First", json!("c1")),
                    message(id, 2, agent("Sam"), "Second", Value::Null),
                ],
                "has_more": false,
            }),
        ),
    ]);
    let widget = connected("t-pages", &stream, id).await;
    assert_eq!(widget.messages().len(), 2);

    widget.wait_for("load-older").await.click();
    eventually("the earlier page shows", || widget.messages().len() == 4).await;
    let bodies: Vec<String> = widget
        .messages()
        .into_iter()
        .map(|(_, body)| body)
        .collect();
    assert_eq!(bodies, ["First", "Second", "Third", "Fourth"]);
    eventually("no more pages are offered", || {
        widget.find("load-older").is_none()
    })
    .await;
    widget.remove();
}

#[wasm_bindgen_test]
async fn the_visitor_ends_the_chat_and_may_start_a_new_one() {
    let id = Uuid::new_v4();
    let stream = returning_visitor("t-end-visitor", "lv-end-visitor", id, &[]);
    fake_server(&[(
        "POST /api/v1/session/end Bearer lv-end-visitor",
        200,
        session(id, "t-end-visitor", "ended", json!("visitor")),
    )]);
    let widget = connected("t-end-visitor", &stream, id).await;

    widget.find("end-chat").expect("an end button").click();
    let reason = widget.wait_for("ended-reason").await;
    assert_eq!(
        reason.text_content().as_deref(),
        Some("You ended this chat.")
    );
    assert!(widget.find("composer-input").is_none());
    assert_eq!(stored("palaver:t-end-visitor:session"), None);
    assert!(
        widget
            .events
            .borrow()
            .contains(&("sessionEnded".into(), r#"{"reason":"visitor"}"#.into()))
    );

    widget.find("new-chat").expect("a new chat button").click();
    widget.wait_for("prechat-form").await;
    assert_eq!(widget.count("message"), 0, "the old transcript is gone");
    widget.remove();
}

#[wasm_bindgen_test]
async fn an_agent_ending_the_chat_shows_why() {
    let id = Uuid::new_v4();
    let stream = returning_visitor("t-end-agent", "lv-end-agent", id, &[]);
    let widget = connected("t-end-agent", &stream, id).await;

    stream.push(&json!({
        "type": "session",
        "session": session(id, "t-end-agent", "ended", json!("agent")),
    }));
    let reason = widget.wait_for("ended-reason").await;
    assert_eq!(
        reason.text_content().as_deref(),
        Some("The agent ended this chat.")
    );
    assert!(widget.find("end-chat").is_none());
    widget.remove();
}

#[wasm_bindgen_test]
async fn the_queue_place_the_agents_typing_and_unread_messages_show() {
    let id = Uuid::new_v4();
    let stream = returning_visitor("t-queue", "lv-queue", id, &[]);
    let widget = connected("t-queue", &stream, id).await;

    stream.push(&json!({"type": "queue", "queue": {"position": 2, "estimated_wait_seconds": 130}}));
    let queue = widget.wait_for("queue-status").await;
    assert_eq!(
        queue.text_content().as_deref(),
        Some("You are number 2 in the queue. Estimated wait: 3 min.")
    );

    let sam = agent("Sam");
    stream.push(&json!({"type": "typing", "sender": sam, "typing": true}));
    let typing = widget.wait_for("typing").await;
    assert_eq!(typing.text_content().as_deref(), Some("Sam is typing…"));

    stream.push(&json!({"type": "message", "message": message(id, 1, sam, "Hello!", Value::Null)}));
    eventually("the agent's message shows", || widget.messages().len() == 1).await;
    assert!(widget.find("typing").is_none(), "a message ends the typing");
    let unread = widget.wait_for("unread").await;
    assert_eq!(unread.text_content().as_deref(), Some("1"));
    assert!(widget.event_names().contains(&"message".to_owned()));
    widget.remove();
}
