//! The components, each through the mounted app: launcher, panel, details form, message
//! list, composer, notices and sign-in.

use gloo_storage::{LocalStorage, Storage};
use palaver_widget::WidgetConfig;
use serde_json::json;
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlElement;

use crate::support::{Mounted, SERVER, accept, by_testid, fake_server};

/// Mounts the app, without the loader's bridge, into a fresh node and returns that node.
fn mount_app() -> HtmlElement {
    Mounted::bare(WidgetConfig::new("demo", SERVER))
}

#[wasm_bindgen_test]
async fn the_launcher_opens_and_closes_the_panel() {
    let node = mount_app();
    let launcher = by_testid(&node, "launcher");
    let panel = by_testid(&node, "panel");
    assert!(panel.hidden(), "the panel starts closed");

    launcher.click();
    leptos::task::tick().await;
    assert!(!panel.hidden(), "a click on the launcher opens the panel");
    assert_eq!(
        launcher.get_attribute("aria-expanded").as_deref(),
        Some("true")
    );

    launcher.click();
    leptos::task::tick().await;
    assert!(panel.hidden(), "a second click closes it");
    assert_eq!(
        launcher.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );
    node.remove();
}

#[wasm_bindgen_test]
async fn the_panels_close_button_closes_it_and_resets_the_launcher() {
    let node = mount_app();
    let launcher = by_testid(&node, "launcher");
    launcher.click();
    leptos::task::tick().await;

    by_testid(&node, "panel-close").click();
    leptos::task::tick().await;
    assert!(by_testid(&node, "panel").hidden());
    assert_eq!(
        launcher.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );
    node.remove();
}

/// A live channel `id` whose session start answers `status` and `body`.
fn live_channel(id: &str, status: u16, body: serde_json::Value) {
    fake_server(&[
        (
            &format!("GET /api/v1/channels/{id}"),
            200,
            json!({"id": id, "name": "Shop", "mode": "live", "require_email": true,
                   "open": true, "next_open_at": null}),
        ),
        (
            &format!("POST /api/v1/channels/{id}/sessions"),
            status,
            body,
        ),
    ]);
}

/// Opens the panel and fills in the details form.
async fn fill_in_the_form(widget: &Mounted) {
    widget.find("launcher").expect("a launcher").click();
    widget.wait_for("prechat-form").await;
    widget.type_into("input-name", "Grace Hopper");
    widget.type_into("input-phone", "020 7946 0958");
    widget.type_into("input-email", "grace@example.com");
}

#[wasm_bindgen_test]
async fn the_form_shows_the_servers_message_beside_each_field_it_refused() {
    live_channel(
        "t-form-fields",
        422,
        json!({"error": "validation", "message": "Some details need fixing.",
               "fields": {"phone": "That is not a phone number."}}),
    );
    let widget = Mounted::app(WidgetConfig::new("t-form-fields", SERVER));
    fill_in_the_form(&widget).await;
    assert_eq!(widget.text("start-chat"), "Start chat");
    widget.find("start-chat").expect("a start button").click();

    let error = widget.wait_for("error-phone").await;
    crate::support::eventually("the field's error shows", || {
        error.text_content().as_deref() == Some("That is not a phone number.")
    })
    .await;
    let phone = widget.find("input-phone").expect("the phone field");
    assert_eq!(phone.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(widget.text("error-name"), "");
    assert!(widget.find("form-error").is_none(), "the field says it");
    widget.remove();
}

#[wasm_bindgen_test]
async fn the_form_shows_a_refusal_without_fields_for_the_whole_form_and_keeps_what_was_typed() {
    live_channel(
        "t-form-closed",
        409,
        json!({"error": "outside_operating_hours", "message": "No agent answers at this hour."}),
    );
    let widget = Mounted::app(WidgetConfig::new("t-form-closed", SERVER));
    fill_in_the_form(&widget).await;
    widget.find("start-chat").expect("a start button").click();

    let error = widget.wait_for("form-error").await;
    assert_eq!(
        error.text_content().as_deref(),
        Some("No agent answers at this hour.")
    );
    let name = widget
        .find("input-name")
        .expect("the name field")
        .dyn_into::<web_sys::HtmlInputElement>()
        .expect("an input");
    assert_eq!(name.value(), "Grace Hopper", "the form was not rebuilt");
    widget.remove();
}

/// Regression: on the shared client crate's fetch helper, an answer that is not the server's
/// own (a proxy's error page) must still read in the widget's words, not the console's.
#[wasm_bindgen_test]
async fn an_answer_that_is_not_the_servers_reads_as_the_chat_service_answering_its_status() {
    live_channel("t-form-proxy", 502, json!("<html>Bad gateway</html>"));
    let widget = Mounted::app(WidgetConfig::new("t-form-proxy", SERVER));
    fill_in_the_form(&widget).await;
    widget.find("start-chat").expect("a start button").click();

    let error = widget.wait_for("form-error").await;
    assert_eq!(
        error.text_content().as_deref(),
        Some("The chat service answered 502.")
    );
    widget.remove();
}

#[wasm_bindgen_test]
async fn a_started_chat_shows_the_composer_which_tells_the_agent_while_the_visitor_types() {
    let id = Uuid::new_v4();
    let session = json!({
        "id": id, "contact_id": Uuid::new_v4(), "channel": "t-form-start", "mode": "live",
        "state": "queued", "started_at": "2098-12-01T10:00:00Z",
        "ends_at": "2099-12-01T10:00:00Z", "ended_at": null, "end_reason": null,
        "regarding": null, "agent": null, "last_seq": 0,
        "queue": {"position": 1, "estimated_wait_seconds": 20},
    });
    live_channel(
        "t-form-start",
        201,
        json!({"token": "lv-form-start", "session": session}),
    );
    let stream = accept("lv-form-start");
    let widget = Mounted::app(WidgetConfig::new("t-form-start", SERVER));
    fill_in_the_form(&widget).await;
    widget.find("start-chat").expect("a start button").click();

    widget.wait_for("composer-input").await;
    assert_eq!(
        widget.text("queue-status"),
        "You are number 1 in the queue. Estimated wait: under a minute."
    );
    assert!(
        LocalStorage::raw()
            .get_item("palaver:t-form-start:session")
            .ok()
            .flatten()
            .is_some_and(|session| session.contains("lv-form-start")),
        "kept to resume"
    );
    stream.authenticated(1).await;
    widget.type_into("composer-input", "Hel");
    crate::support::eventually("the agent is told", || {
        stream
            .sent()
            .contains(&json!({"type": "typing", "typing": true}))
    })
    .await;
    widget.remove();
}
