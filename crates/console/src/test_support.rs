//! Helpers for the console's browser tests: mounting the console, finding elements by
//! `data-testid`, waiting for what arrives asynchronously, and the agent's side of the client
//! crate's fake server (its REST answers from a table of routes, its agent event stream).

use std::any::Any;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use palaver_client::testing::FakeServer;
use palaver_protocol::{
    AgentRef, AgentSession, AgentStatus, AgentToken, ChannelMode, Contact, Message, Sender,
    Session, SessionState,
};
use serde_json::{Value, json};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

use crate::{app::App, storage};

// Every test of the crate runs in the browser, which the console needs (DOM, storage, fetch).
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Where the fake server answers; nothing real listens on port 9 (discard).
pub const SERVER: &str = palaver_client::testing::SERVER;

/// The fake server of the client crate at [`SERVER`]: `fetch` answers from its routes (a key
/// is `METHOD /path?query`, optionally followed by the request's `Authorization`) or fails
/// as an unreachable server would, and its WebSocket records what the console sends and
/// delivers what a test pushes.
pub fn server() -> FakeServer {
    FakeServer::install(SERVER)
}

/// Answers `route` (`"GET /api/v1/agent/me Bearer t"`, `"POST /api/v1/agent/login"`) with
/// `status` and `body`, replacing an earlier answer to it.
pub fn route(route: &str, status: u16, body: Value) {
    server().route(route, status, &body);
}

/// The bodies of the requests made to `key` (`"POST /api/v1/agent/sessions/…/messages"`).
pub fn requests(key: &str) -> Vec<Value> {
    server().requests(key)
}

/// The frames the console sent on its open stream.
pub fn sent_frames() -> Vec<Value> {
    server().sent_frames()
}

/// Sends `event` to the console on its open stream.
pub fn push(event: Value) {
    server().push(&event);
}

/// Drops the open stream as a server that closed it would.
pub fn drop_stream() {
    server().close_socket();
}

/// A signed-in agent of the fake server, with a token of their own.
#[derive(Debug, Clone)]
pub struct Agent {
    pub token: AgentToken,
    pub status: AgentStatus,
}

impl Agent {
    /// An agent whose token lasts `valid_for`, with capacity 5 and one chat held, whom the
    /// fake server knows: their status, the team, one channel and an empty inbox.
    pub fn new(name: &str, valid_for: chrono::Duration) -> Self {
        let id = Uuid::new_v4();
        Self::signed_in(
            AgentStatus {
                id,
                name: name.to_owned(),
                capacity: 5,
                load: 1,
                available: false,
            },
            valid_for,
        )
    }

    /// The same agent signed in again, with a fresh token.
    pub fn again(&self) -> Self {
        Self::signed_in(self.status.clone(), chrono::Duration::hours(1))
    }

    fn signed_in(status: AgentStatus, valid_for: chrono::Duration) -> Self {
        let agent = Self {
            token: AgentToken {
                token: format!("pva-{}", Uuid::new_v4()),
                agent: AgentRef {
                    id: status.id,
                    name: status.name.clone(),
                },
                expires_at: crate::time::now() + valid_for,
            },
            status,
        };
        agent.answer("GET", "/me", 200, json!(agent.status));
        agent.answer("GET", "/agents", 200, json!([agent.status]));
        agent.answer(
            "GET",
            "/channels",
            200,
            json!([{"id": "demo", "name": "Demo shop", "mode": "live", "require_email": false,
                    "open": true, "next_open_at": null}]),
        );
        agent.inbox("", &[]);
        agent
    }

    /// Answers `method /api/v1/agent{path}` for this agent's token.
    pub fn answer(&self, method: &str, path: &str, status: u16, body: Value) {
        route(
            &format!("{method} /api/v1/agent{path} Bearer {}", self.token.token),
            status,
            body,
        );
    }

    /// The inbox for the filters' query (`"state=queued&"`, or `""` for none).
    pub fn inbox(&self, filters: &str, rows: &[AgentSession]) {
        self.answer(
            "GET",
            &format!("/sessions?{filters}limit=200"),
            200,
            json!(rows),
        );
    }

    /// Serves `row` and its messages (the newest page).
    pub fn conversation(&self, row: &AgentSession, messages: &[Message]) {
        let id = row.session.id;
        self.answer("GET", &format!("/sessions/{id}"), 200, json!(row));
        self.answer(
            "GET",
            &format!("/sessions/{id}/messages?limit=200"),
            200,
            json!({"messages": messages, "has_more": false}),
        );
    }

    /// Waits for the console to authenticate its event stream as this agent, answers
    /// `ready`, and waits until the console has taken it (it then says its presence).
    pub async fn stream_ready(&self) {
        eventually("the console authenticates its stream", || {
            sent_frames().first() == Some(&json!({"type": "auth", "token": self.token.token}))
        })
        .await;
        push(json!({"type": "ready", "agent": self.token.agent}));
        eventually("the console takes the ready", || {
            sent_frames()
                .iter()
                .any(|frame| frame["type"] == "presence")
        })
        .await;
    }
}

/// A mounted console; dropping it unmounts it and stops everything it started.
pub struct Mounted {
    pub node: HtmlElement,
    handle: Option<Box<dyn Any>>,
}

impl Mounted {
    /// Mounts the console against the fake server, this browser holding `signed_in` (or no
    /// sign-in) and the address naming `hash`.
    pub fn console(signed_in: Option<&Agent>, hash: &str) -> Self {
        server();
        match signed_in {
            Some(agent) => storage::write("sign-in", &agent.token),
            None => storage::delete("sign-in"),
        }
        window().location().set_hash(hash).expect("set the address");
        let node = fresh_node();
        let handle = leptos::mount::mount_to(node.clone(), || view! { <App server=SERVER /> });
        Self {
            node,
            handle: Some(Box::new(handle)),
        }
    }

    /// Serves `row` and its `messages` to `agent`, mounts the console signed in as them with
    /// that conversation open, and waits until it has loaded.
    pub async fn open(agent: &Agent, row: &AgentSession, messages: &[Message]) -> Self {
        agent.conversation(row, messages);
        let console = Self::console(Some(agent), &crate::route::hash(row.session.id));
        eventually("the conversation loads", || {
            !console.text("conversation-state").is_empty()
        })
        .await;
        console
    }

    /// The first element with this `data-testid`, if one is shown.
    pub fn find(&self, testid: &str) -> Option<HtmlElement> {
        self.all(testid).into_iter().next()
    }

    pub fn count(&self, testid: &str) -> usize {
        self.all(testid).len()
    }

    /// Every element with this `data-testid`, in document order.
    pub fn all(&self, testid: &str) -> Vec<HtmlElement> {
        let list = self
            .node
            .query_selector_all(&format!("[data-testid={testid}]"))
            .expect("a valid selector");
        (0..list.length())
            .filter_map(|index| list.item(index))
            .filter_map(|node| node.dyn_into::<HtmlElement>().ok())
            .collect()
    }

    pub fn text(&self, testid: &str) -> String {
        self.find(testid)
            .and_then(|element| element.text_content())
            .unwrap_or_default()
    }

    /// The element with this `data-testid`, once it shows (within a few seconds).
    pub async fn wait_for(&self, testid: &str) -> HtmlElement {
        until(
            || {
                format!(
                    "[data-testid={testid}] shows; the console reads {:?}",
                    self.node.text_content().unwrap_or_default()
                )
            },
            || self.find(testid),
        )
        .await
    }

    /// The value of the input or textarea with this `data-testid`.
    pub fn value(&self, testid: &str) -> String {
        self.find(testid)
            .and_then(|field| js_sys::Reflect::get(&field, &"value".into()).ok())
            .and_then(|value| value.as_string())
            .unwrap_or_default()
    }

    /// Types `text` into the input or textarea with this `data-testid`, as a person does,
    /// and lets the page react.
    pub async fn type_into(&self, testid: &str, text: &str) {
        let element = self.find(testid).expect("the field");
        js_sys::Reflect::set(&element, &"value".into(), &text.into()).expect("set the value");
        let event = web_sys::Event::new_with_event_init_dict("input", &{
            let init = web_sys::EventInit::new();
            init.set_bubbles(true);
            init
        })
        .expect("an event");
        element.dispatch_event(&event).expect("dispatch");
        leptos::task::tick().await;
    }

    /// Chooses `value` in the `<select>` with this `data-testid`.
    pub fn choose(&self, testid: &str, value: &str) {
        let element = self.find(testid).expect("the select");
        js_sys::Reflect::set(&element, &"value".into(), &value.into()).expect("choose");
        let event = web_sys::Event::new("change").expect("an event");
        element.dispatch_event(&event).expect("dispatch");
    }

    /// Presses a key in the element with this `data-testid`.
    pub fn press(&self, testid: &str, key: &str) {
        let init = web_sys::KeyboardEventInit::new();
        init.set_key(key);
        init.set_bubbles(true);
        init.set_cancelable(true);
        let event = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init)
            .expect("an event");
        self.find(testid)
            .expect("the element")
            .dispatch_event(&event)
            .expect("dispatch");
    }

    /// The session ids of the inbox rows, top to bottom.
    pub fn inbox_ids(&self) -> Vec<String> {
        self.all("inbox-row")
            .iter()
            .filter_map(|row| row.get_attribute("data-session-id"))
            .collect()
    }

    /// The inbox row of `session`.
    pub fn row(&self, session: Uuid) -> Option<HtmlElement> {
        self.node
            .query_selector(&format!(
                "[data-testid=inbox-row][data-session-id='{session}']"
            ))
            .expect("a valid selector")
            .and_then(|element| element.dyn_into::<HtmlElement>().ok())
    }

    /// The `(data-sender, body)` of each message shown, in order.
    pub fn messages(&self) -> Vec<(String, String)> {
        self.all("message")
            .iter()
            .map(|message| {
                let body = message
                    .query_selector("[data-testid=message-body]")
                    .ok()
                    .flatten()
                    .and_then(|body| body.text_content())
                    .unwrap_or_default();
                (
                    message.get_attribute("data-sender").unwrap_or_default(),
                    body,
                )
            })
            .collect()
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.handle.take();
        self.node.remove();
    }
}

/// Mounts a bare view into a fresh node, for component tests that need no console.
pub fn mount_view<V: IntoView + 'static>(view: impl FnOnce() -> V + 'static) -> HtmlElement {
    let node = fresh_node();
    leptos::mount::mount_to(node.clone(), view).forget();
    node
}

/// A new element at the end of the page's body, to mount into.
fn fresh_node() -> HtmlElement {
    let node: HtmlElement = document()
        .create_element("section")
        .expect("create a node")
        .unchecked_into();
    let body = document().body().expect("the test page has a body");
    body.append_child(&node).expect("append");
    node
}

pub use palaver_client::testing::{eventually, until};

/// A moment `minutes` from a fixed start, for sessions and messages.
fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_795_000_000 + minutes * 60, 0).unwrap_or_default()
}

/// A queued live session of "Ada Lovelace" (phone and email) on channel `demo`, started
/// `minute` minutes from a fixed start, with one message.
pub fn row(minute: i64) -> AgentSession {
    AgentSession {
        session: Session {
            id: Uuid::new_v4(),
            contact_id: Uuid::new_v4(),
            channel: "demo".into(),
            mode: ChannelMode::Live,
            state: SessionState::Queued,
            started_at: at(minute),
            ends_at: None,
            ended_at: None,
            end_reason: None,
            regarding: None,
            agent: None,
            last_seq: 1,
            queue: None,
        },
        to: Contact {
            id: Uuid::new_v4(),
            name: "Ada Lovelace".into(),
            phone: Some("+442079460958".into()),
            email: Some("ada@example.com".into()),
            user_id: None,
        },
    }
}

/// `row`, active and held by `agent`.
pub fn held(mut row: AgentSession, agent: &Agent) -> AgentSession {
    row.session.state = SessionState::Active;
    row.session.agent = Some(agent.token.agent.clone());
    row
}

/// A message of `session` with sequence number `seq`.
pub fn message(session: Uuid, seq: i64, sender: Sender, body: &str) -> Message {
    Message {
        id: Uuid::new_v4(),
        session_id: session,
        seq,
        client_msg_id: None,
        sender,
        body: body.to_owned(),
        created_at: at(seq),
    }
}

/// An error body as the server sends it.
pub fn error(code: &str, message: &str) -> Value {
    json!({"error": code, "message": message})
}
