//! Helpers for the console's browser tests: mounting the console, finding elements by
//! `data-testid`, waiting for what arrives asynchronously, and a fake server inside the page
//! that answers the REST calls from a table of routes and plays the agent event stream.

use std::{any::Any, time::Duration};

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use palaver_protocol::{
    AgentRef, AgentSession, AgentStatus, AgentToken, ChannelMode, Contact, Message, Sender,
    Session, SessionState,
};
use serde_json::{Value, json};
use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::HtmlElement;

use crate::{app::App, storage};

// Every test of the crate runs in the browser, which the console needs (DOM, storage, fetch).
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Where the fake server answers; nothing real listens on port 9 (discard).
pub const SERVER: &str = "http://127.0.0.1:9";

/// The fake: `fetch` to [`SERVER`] answers from `__consoleFake.routes` (a key is
/// `METHOD /path?query`, optionally followed by the request's `Authorization`), or fails as an
/// unreachable server would; every such request is recorded. WebSockets to [`SERVER`]'s host
/// are fakes that record what the console sends and deliver what a test pushes.
const FAKE: &str = r#"
if (!window.__consoleFake) {
  var fake = window.__consoleFake = { routes: {}, requests: [], sockets: [] };
  var realFetch = window.fetch;
  window.fetch = function (input, init) {
    var request = new Request(input, init);
    var url = new URL(request.url);
    if (url.origin !== "SERVER") {
      return realFetch.apply(window, arguments);
    }
    var key = request.method + " " + url.pathname + url.search;
    var auth = request.headers.get("Authorization");
    var route = (auth && fake.routes[key + " " + auth]) || fake.routes[key];
    return request.text().then(function (body) {
      fake.requests.push({ key: key, auth: auth, body: body });
      if (!route) {
        throw new TypeError("Failed to fetch");
      }
      return new Response(route.status === 204 ? null : route.body, {
        status: route.status,
        headers: { "Content-Type": "application/json" }
      });
    });
  };
  class FakeSocket extends EventTarget {
    constructor(url) {
      super();
      this.url = url;
      this.readyState = 0;
      this.binaryType = "blob";
      this.sent = [];
      fake.sockets.push(this);
      setTimeout(() => {
        if (this.readyState === 0) {
          this.readyState = 1;
          this.dispatchEvent(new Event("open"));
        }
      }, 0);
    }
    send(data) { this.sent.push(data); }
    close(code, reason) {
      if (this.readyState > 1) { return; }
      this.readyState = 3;
      this.dispatchEvent(new CloseEvent("close", { code: code || 1000, reason: reason || "", wasClean: true }));
    }
    push(frame) { this.dispatchEvent(new MessageEvent("message", { data: frame })); }
  }
  var RealWebSocket = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    return url.indexOf("ws://SERVER_HOST/") === 0 ? new FakeSocket(url) : new RealWebSocket(url, protocols);
  };
}
"#;

fn fake() -> JsValue {
    let install = js_sys::Function::new_no_args(
        &FAKE
            .replace("SERVER_HOST", SERVER.trim_start_matches("http://"))
            .replace("SERVER", SERVER),
    );
    install
        .call0(&JsValue::NULL)
        .expect("install the fake server");
    js_sys::Reflect::get(&window(), &"__consoleFake".into()).expect("installed")
}

fn get(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &name.into()).expect("a property")
}

/// Answers `route` (`"GET /api/v1/agent/me Bearer t"`, `"POST /api/v1/agent/login"`) with
/// `status` and `body`, replacing an earlier answer to it.
pub fn route(route: &str, status: u16, body: Value) {
    let answer = js_sys::Object::new();
    js_sys::Reflect::set(&answer, &"status".into(), &JsValue::from(status)).expect("set");
    js_sys::Reflect::set(&answer, &"body".into(), &body.to_string().into()).expect("set");
    js_sys::Reflect::set(&get(&fake(), "routes"), &route.into(), &answer).expect("add");
}

/// The bodies of the requests made to `key` (`"POST /api/v1/agent/sessions/…/messages"`).
pub fn requests(key: &str) -> Vec<Value> {
    let requests: js_sys::Array = get(&fake(), "requests").unchecked_into();
    requests
        .iter()
        .filter(|request| get(request, "key").as_string().as_deref() == Some(key))
        .map(|request| {
            let body = get(&request, "body").as_string().unwrap_or_default();
            serde_json::from_str(&body).unwrap_or(Value::Null)
        })
        .collect()
}

/// The newest open fake socket, if one is.
fn socket() -> Option<JsValue> {
    let sockets: js_sys::Array = get(&fake(), "sockets").unchecked_into();
    sockets
        .iter()
        .rev()
        .find(|socket| get(socket, "readyState").as_f64() == Some(1.0))
}

/// The frames the console sent on its open stream.
pub fn sent_frames() -> Vec<Value> {
    let Some(socket) = socket() else {
        return Vec::new();
    };
    let sent: js_sys::Array = get(&socket, "sent").unchecked_into();
    sent.iter()
        .filter_map(|frame| frame.as_string())
        .filter_map(|frame| serde_json::from_str(&frame).ok())
        .collect()
}

/// Sends `event` to the console on its open stream.
pub fn push(event: Value) {
    let socket = socket().expect("an open event stream");
    let push: js_sys::Function = get(&socket, "push").unchecked_into();
    push.call1(&socket, &event.to_string().into())
        .expect("push the event");
}

/// Drops the open stream as a server that closed it would.
pub fn drop_stream() {
    let socket = socket().expect("an open event stream");
    let close: js_sys::Function = get(&socket, "close").unchecked_into();
    close.call0(&socket).expect("close the stream");
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
        fake();
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

/// Polls `found` until it gives something (within a few seconds); `what` says what was
/// awaited when it does not.
pub async fn until<T>(what: impl Fn() -> String, found: impl Fn() -> Option<T>) -> T {
    for _ in 0..250 {
        if let Some(found) = found() {
            return found;
        }
        gloo_timers::future::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {}", what());
}

/// Waits until `condition` holds (within a few seconds).
pub async fn eventually(what: &str, condition: impl Fn() -> bool) {
    until(|| what.to_owned(), || condition().then_some(())).await;
}

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
