//! Persistent mode through the widget's public API: sign-in with the site's identity, the
//! conversation that follows the visitor, expiry and reset.

use gloo_storage::{LocalStorage, Storage};
use palaver_widget::WidgetConfig;
use serde_json::{Value, json};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::support::{Mounted, SERVER, accept, eventually, fake_server, message, stored};

fn channel_info(id: &str, open: bool) -> Value {
    json!({
        "id": id,
        "name": "Members",
        "mode": "persistent",
        "require_email": false,
        "open": open,
        "next_open_at": if open { Value::Null } else { json!("2099-01-05T09:00:00Z") },
    })
}

fn identified(contact: Uuid, session: Value) -> Value {
    identified_with("pv_bearer", contact, session)
}

fn identified_with(token: &str, contact: Uuid, session: Value) -> Value {
    json!({
        "token": token,
        "expires_at": "2099-01-01T00:00:00Z",
        "contact": {
            "id": contact,
            "name": "Alice Martin",
            "phone": null,
            "email": null,
            "user_id": "alice",
        },
        "session": session,
    })
}

fn session(id: Uuid, contact: Uuid, channel: &str) -> Value {
    json!({
        "id": id,
        "contact_id": contact,
        "channel": channel,
        "mode": "persistent",
        "state": "active",
        "started_at": "2098-12-01T10:00:00Z",
        "ends_at": null,
        "ended_at": null,
        "end_reason": null,
        "regarding": null,
        "agent": null,
        "last_seq": 4,
        "queue": null,
    })
}

/// A persistent channel `id` on the fake server, whose identify answers `status` and
/// `body`.
fn members_channel(id: &str, open: bool, status: u16, body: Value) {
    fake_server(&[
        (
            &format!("GET /api/v1/channels/{id}"),
            200,
            channel_info(id, open),
        ),
        (
            &format!("POST /api/v1/channels/{id}/identify"),
            status,
            body,
        ),
    ]);
}

fn config(channel: &str, identity_token: Option<&str>) -> WidgetConfig {
    WidgetConfig {
        identity_token: identity_token.map(str::to_owned),
        ..WidgetConfig::new(channel, SERVER)
    }
}

#[wasm_bindgen_test]
async fn a_persistent_channel_without_an_identity_asks_the_page_and_shows_sign_in_needed() {
    members_channel("t-no-identity", true, 500, json!({}));
    let widget = Mounted::app(config("t-no-identity", None));
    widget.find("launcher").expect("a launcher").click();

    let notice = widget.wait_for("sign-in-needed").await;
    assert_eq!(
        notice.text_content().as_deref(),
        Some("Sign in to chat with us.")
    );
    assert!(
        widget.find("prechat-form").is_none(),
        "never the details form"
    );
    assert!(widget.find("composer-input").is_none());
    assert!(widget.find("end-chat").is_none());
    let asked = widget.events.borrow().clone();
    assert!(
        asked.contains(&("identityNeeded".into(), r#"{"reason":"missing"}"#.into())),
        "{asked:?}"
    );
    widget.remove();
}

#[wasm_bindgen_test]
async fn a_refused_identity_token_shows_the_servers_reason_after_the_lead_in() {
    members_channel(
        "t-refused",
        true,
        401,
        json!({
            "error": "identity_invalid",
            "message": "The identity token's signature does not match the channel's key.",
        }),
    );
    let widget = Mounted::app(config("t-refused", Some("a.forged.token")));

    let error = widget.wait_for("identity-error").await;
    assert_eq!(
        error.text_content().as_deref(),
        Some(
            "We couldn't confirm who you are. \
             The identity token's signature does not match the channel's key."
        )
    );
    assert!(widget.find("sign-in-needed").is_none());
    assert!(widget.find("prechat-form").is_none());
    widget.remove();
}

#[wasm_bindgen_test]
async fn a_signed_in_visitor_without_a_conversation_can_write_and_cannot_end_it() {
    members_channel(
        "t-no-conversation",
        false,
        200,
        identified(Uuid::new_v4(), Value::Null),
    );
    let widget = Mounted::app(config("t-no-conversation", Some("a.valid.token")));

    widget.wait_for("composer-input").await;
    assert!(widget.find("send").is_some());
    assert!(widget.find("welcome").is_some());
    assert!(widget.find("connection").is_some());
    assert_eq!(widget.count("message"), 0);
    assert!(
        widget.find("end-chat").is_none(),
        "only agents end a persistent chat"
    );
    assert!(widget.find("queue-status").is_none());
    assert!(widget.find("conversation-closed").is_none());
    let away = widget
        .find("away-notice")
        .expect("agents are away outside operating hours")
        .text_content()
        .unwrap_or_default();
    assert!(away.starts_with("Our agents are away until "), "{away}");
    widget.remove();
}

#[wasm_bindgen_test]
async fn a_signed_in_visitor_has_no_access_token_in_storage() {
    let contact = Uuid::new_v4();
    members_channel(
        "t-token-memory",
        true,
        200,
        identified(contact, Value::Null),
    );
    let widget = Mounted::app(config("t-token-memory", Some("a.valid.token")));

    widget.wait_for("composer-input").await;
    assert_eq!(
        stored("palaver:t-token-memory:contact"),
        Some(format!("\"{contact}\""))
    );
    let storage = LocalStorage::raw();
    for index in 0..storage.length().unwrap_or(0) {
        let key = storage.key(index).ok().flatten().unwrap_or_default();
        let value = storage.get_item(&key).ok().flatten().unwrap_or_default();
        assert!(!value.contains("pv_bearer"), "{key} holds the access token");
    }
    widget.remove();
}

#[wasm_bindgen_test]
async fn signing_in_as_another_person_wipes_what_the_browser_kept_of_the_last_one() {
    let storage = LocalStorage::raw();
    let before = Uuid::new_v4();
    storage
        .set_item("palaver:t-switch:contact", &format!("\"{before}\""))
        .expect("storage works");
    storage
        .set_item(
            "palaver:t-switch:outbox",
            r#"[{"client_msg_id":"c1","body":"the last person's words"}]"#,
        )
        .expect("storage works");
    storage
        .set_item("palaver:t-switch:anything", "1")
        .expect("storage works");
    let now = Uuid::new_v4();
    members_channel("t-switch", true, 200, identified(now, Value::Null));
    let widget = Mounted::app(config("t-switch", Some("a.valid.token")));

    widget.wait_for("composer-input").await;
    assert_eq!(
        stored("palaver:t-switch:contact"),
        Some(format!("\"{now}\""))
    );
    assert_eq!(stored("palaver:t-switch:outbox"), None);
    assert_eq!(stored("palaver:t-switch:anything"), None);
    assert_eq!(
        widget.count("message"),
        0,
        "nothing of the last person shows"
    );
    widget.remove();
}

#[wasm_bindgen_test]
async fn the_same_person_signing_in_again_gets_their_unsent_messages_back() {
    let contact = Uuid::new_v4();
    let storage = LocalStorage::raw();
    storage
        .set_item("palaver:t-same:contact", &format!("\"{contact}\""))
        .expect("storage works");
    storage
        .set_item(
            "palaver:t-same:outbox",
            r#"[{"client_msg_id":"c1","body":"typed before the reload"}]"#,
        )
        .expect("storage works");
    members_channel("t-same", true, 200, identified(contact, Value::Null));
    let widget = Mounted::app(config("t-same", Some("a.valid.token")));

    let row = widget.wait_for("message").await;
    assert_eq!(row.get_attribute("data-status").as_deref(), Some("pending"));
    assert_eq!(
        widget
            .find("message-body")
            .and_then(|body| body.text_content())
            .as_deref(),
        Some("typed before the reload")
    );
    assert!(stored("palaver:t-same:outbox").is_some(), "kept until sent");
    widget.remove();
    LocalStorage::raw()
        .remove_item("palaver:t-same:outbox")
        .expect("storage works");
}

#[wasm_bindgen_test]
async fn a_conversation_closed_since_the_sign_in_says_so_and_keeps_the_composer() {
    let contact = Uuid::new_v4();
    members_channel(
        "t-closed",
        true,
        200,
        identified(contact, session(Uuid::new_v4(), contact, "t-closed")),
    );
    fake_server(&[(
        "GET /api/v1/session/messages?limit=30",
        404,
        json!({"error": "no_conversation", "message": "You have no open conversation."}),
    )]);
    let widget = Mounted::app(config("t-closed", Some("a.valid.token")));

    let closed = widget.wait_for("conversation-closed").await;
    assert_eq!(
        closed.text_content().as_deref(),
        Some("This conversation was closed. Write below to start a new one.")
    );
    assert!(widget.find("composer-input").is_some());
    assert!(widget.find("welcome").is_none());
    eventually("the page is told the conversation ended", || {
        widget.event_names().contains(&"sessionEnded".to_owned())
    })
    .await;
    widget.remove();
}

#[wasm_bindgen_test]
async fn a_message_that_starts_a_fresh_conversation_replaces_the_old_one_on_screen() {
    let (contact, old, fresh) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let agent = json!({"kind": "agent", "id": Uuid::new_v4(), "name": "Sam"});
    members_channel(
        "t-fresh",
        true,
        200,
        identified_with("pv-fresh", contact, session(old, contact, "t-fresh")),
    );
    fake_server(&[
        (
            "GET /api/v1/session/messages?limit=30 Bearer pv-fresh",
            200,
            json!({
                "messages": [
                    message(old, 1, json!({"kind": "visitor"}), "Where is my order?", json!("c0")),
                    message(old, 2, agent, "It shipped today.", Value::Null),
                ],
                "has_more": false,
            }),
        ),
        (
            "POST /api/v1/session/messages Bearer pv-fresh",
            201,
            message(
                fresh,
                1,
                json!({"kind": "visitor"}),
                "Another question",
                json!("$client_msg_id"),
            ),
        ),
    ]);
    let widget = Mounted::app(config("t-fresh", Some("a.valid.token")));
    eventually("the history shows", || widget.messages().len() == 2).await;

    widget.write("Another question");
    eventually("only the fresh conversation shows", || {
        widget.messages() == [("visitor".to_owned(), "Another question".to_owned())]
    })
    .await;
    let row = widget.find("message").expect("a row");
    assert_eq!(row.get_attribute("data-status").as_deref(), Some("sent"));
    assert_eq!(row.get_attribute("data-seq").as_deref(), Some("1"));
    widget.remove();
}

#[wasm_bindgen_test]
async fn an_expired_sign_in_keeps_the_message_asks_for_an_identity_and_says_so() {
    members_channel(
        "t-expired",
        true,
        200,
        identified_with("pv-expired", Uuid::new_v4(), Value::Null),
    );
    fake_server(&[(
        "POST /api/v1/session/messages Bearer pv-expired",
        401,
        json!({"error": "identity_expired", "message": "The identity token has expired."}),
    )]);
    let widget = Mounted::app(config("t-expired", Some("a.valid.token")));
    widget.wait_for("composer-input").await;

    widget.write("Still there?");
    eventually("the page is asked for a fresh identity", || {
        widget
            .events
            .borrow()
            .contains(&("identityNeeded".into(), r#"{"reason":"expired"}"#.into()))
    })
    .await;
    let notice = widget.wait_for("sign-in-expired").await;
    assert!(
        notice
            .text_content()
            .unwrap_or_default()
            .starts_with("Your sign-in has expired."),
    );
    let row = widget.find("message").expect("the message stays");
    assert_eq!(row.get_attribute("data-status").as_deref(), Some("pending"));
    assert!(widget.find("composer-input").is_some());
    assert!(
        stored("palaver:t-expired:outbox").is_some(),
        "kept for a reload"
    );
    widget.remove();
    LocalStorage::raw()
        .remove_item("palaver:t-expired:outbox")
        .expect("storage works");
}

#[wasm_bindgen_test]
async fn an_identity_from_the_page_signs_in_a_visitor_who_had_none() {
    members_channel(
        "t-identify",
        true,
        200,
        identified(Uuid::new_v4(), Value::Null),
    );
    let widget = Mounted::app(config("t-identify", None));
    widget.wait_for("sign-in-needed").await;

    widget.command("identify", &["a.valid.token"]);
    widget.wait_for("composer-input").await;
    assert!(widget.find("sign-in-needed").is_none());
    widget.remove();
}

#[wasm_bindgen_test]
async fn an_identity_provider_that_fails_shows_why() {
    members_channel("t-provider-failed", true, 500, json!({}));
    let widget = Mounted::app(config("t-provider-failed", None));
    widget.wait_for("sign-in-needed").await;

    widget.command("identifyFailed", &["The site's sign-in service is down."]);
    let error = widget.wait_for("identity-error").await;
    assert_eq!(
        error.text_content().as_deref(),
        Some("We couldn't confirm who you are. The site's sign-in service is down.")
    );
    widget.remove();
}

#[wasm_bindgen_test]
async fn reset_forgets_a_signed_in_visitor_and_waits_for_a_new_identity() {
    members_channel(
        "t-reset",
        true,
        200,
        identified(Uuid::new_v4(), Value::Null),
    );
    let widget = Mounted::app(config("t-reset", Some("a.valid.token")));
    widget.wait_for("composer-input").await;
    assert!(stored("palaver:t-reset:contact").is_some());

    widget.command("reset", &[]);
    widget.wait_for("sign-in-needed").await;
    assert!(widget.find("composer-input").is_none());
    assert_eq!(stored("palaver:t-reset:contact"), None);
    let names = widget.event_names();
    assert_eq!(
        names
            .iter()
            .filter(|name| *name == "identityNeeded")
            .count(),
        1,
        "asked once, after the reset: {names:?}"
    );
    widget.remove();
}

#[wasm_bindgen_test]
async fn a_fresh_identity_changes_the_bearer_token_and_keeps_the_chat_and_the_draft() {
    let contact = Uuid::new_v4();
    members_channel(
        "t-refresh",
        true,
        200,
        identified_with("pv-refresh-1", contact, Value::Null),
    );
    let widget = Mounted::app(config("t-refresh", Some("a.valid.token")));
    widget.wait_for("composer-input").await;
    widget.type_into("composer-input", "A draft");

    let fresh = Uuid::new_v4();
    fake_server(&[
        (
            "POST /api/v1/channels/t-refresh/identify",
            200,
            identified_with("pv-refresh-2", contact, Value::Null),
        ),
        (
            "POST /api/v1/session/messages Bearer pv-refresh-2",
            201,
            message(
                fresh,
                1,
                json!({"kind": "visitor"}),
                "After the refresh",
                json!("$client_msg_id"),
            ),
        ),
    ]);
    let stream = accept("pv-refresh-2");
    widget.command("identify", &["a.fresh.token"]);
    stream.authenticated(1).await;
    stream.push(&json!({"type": "ready", "session": null}));
    let draft = widget
        .find("composer-input")
        .expect("the composer stays")
        .dyn_into::<web_sys::HtmlTextAreaElement>()
        .expect("a textarea");
    assert_eq!(
        draft.value(),
        "A draft",
        "the sign-in did not rebuild the chat"
    );

    widget.write("After the refresh");
    eventually("the message goes with the fresh token", || {
        widget
            .find("message")
            .and_then(|row| row.get_attribute("data-status"))
            .as_deref()
            == Some("sent")
    })
    .await;
    widget.remove();
}

#[wasm_bindgen_test]
async fn a_new_conversation_on_the_stream_replaces_the_old_one_and_late_news_of_it_is_dropped() {
    let (contact, old, fresh) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let sam = json!({"kind": "agent", "id": Uuid::new_v4(), "name": "Sam"});
    members_channel(
        "t-switch-stream",
        true,
        200,
        identified_with(
            "pv-switch-stream",
            contact,
            session(old, contact, "t-switch-stream"),
        ),
    );
    fake_server(&[(
        "GET /api/v1/session/messages?limit=30 Bearer pv-switch-stream",
        200,
        json!({
            "messages": [message(old, 1, sam.clone(), "About your order", Value::Null)],
            "has_more": false,
        }),
    )]);
    let stream = accept("pv-switch-stream");
    let widget = Mounted::app(config("t-switch-stream", Some("a.valid.token")));
    let auth = stream.authenticated(1).await;
    assert_eq!(
        auth["session_id"],
        json!(old),
        "the catch-up counts in the one shown"
    );
    stream.push(&json!({"type": "ready", "session": session(old, contact, "t-switch-stream")}));
    eventually("the history shows", || widget.messages().len() == 1).await;

    stream.push(&json!({"type": "session", "session": session(fresh, contact, "t-switch-stream")}));
    stream.push(&json!({
        "type": "message",
        "message": message(fresh, 1, sam.clone(), "A new question?", Value::Null),
    }));
    stream.push(&json!({
        "type": "message",
        "message": message(old, 2, sam, "Late news of the old one", Value::Null),
    }));
    eventually("only the new conversation shows", || {
        widget.messages() == [("agent".to_owned(), "A new question?".to_owned())]
    })
    .await;
    assert!(widget.find("conversation-closed").is_none());
    widget.remove();
}
