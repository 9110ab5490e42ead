//! Helpers for the widget's browser tests: mounting the app as the loader would, finding
//! elements by `data-testid`, waiting for what arrives asynchronously, and the client
//! crate's fake server inside the page: `fetch` answers the widget's REST calls from a table
//! of routes, and the event stream's WebSocket is a fake whose frames a test reads and
//! writes.
//!
//! The fake keeps its streams by bearer token ([`Stream`]): the widgets of earlier tests keep
//! running in the page after their nodes are removed, so a socket that signs in with a token
//! no test accepted is dropped, as by an unreachable server, and the newest socket of the
//! server could be an earlier test's widget.

use std::{cell::RefCell, rc::Rc, time::Duration};

use gloo_storage::{LocalStorage, Storage};
use leptos::prelude::*;
use palaver_client::testing::FakeServer;
/// Waits until a condition holds (within five seconds), and the event stream of one bearer
/// token: the client crate's, shared with the console's tests.
pub use palaver_client::testing::{Stream, eventually};
use palaver_widget::{WidgetConfig, app::App, bridge::Bridge};
use serde_json::{Value, json};
use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{CustomEvent, CustomEventInit, HtmlElement};

/// Where the fake server answers; nothing real listens on port 9 (discard).
pub use palaver_client::testing::SERVER;

/// The fake server at [`SERVER`], with its streams by bearer token.
fn server() -> FakeServer {
    let server = FakeServer::install(SERVER);
    server.streams_per_token();
    server
}

/// Makes the fake server answer `routes`: each is a method and path (with its query),
/// optionally followed by the `Authorization` header it must carry
/// (`"GET /api/v1/session Bearer t1"`), a status and a JSON body. A route given again
/// replaces the earlier answer. Routes add up over the tests of a run, so each test names
/// its own channel and bearer token.
pub fn fake_server(routes: &[(&str, u16, Value)]) {
    server().routes(routes);
}

/// Makes `route` fail again as with an unreachable server.
pub fn unroute(route: &str) {
    server().unroute(route);
}

/// The bodies of the requests made to `key` (`"POST /api/v1/session/messages"`) with
/// `Bearer {token}`, in order, answered or not.
pub fn requests(key: &str, token: &str) -> Vec<Value> {
    let auth = format!("Bearer {token}");
    server()
        .recorded()
        .into_iter()
        .filter(|request| request.key == key && request.auth.as_deref() == Some(auth.as_str()))
        .map(|request| request.body())
        .collect()
}

/// Accepts event streams that authenticate with `token` from now on.
pub fn accept(token: &str) -> Stream {
    server().accept_stream(token)
}

/// Sends the browser's `online` event, which wakes a widget that waits to reconnect.
pub fn back_online() {
    let event = web_sys::Event::new("online").expect("an event");
    window().dispatch_event(&event).expect("dispatch");
}

/// A mounted widget: its container, and the host element its bridge talks through.
pub struct Mounted {
    pub node: HtmlElement,
    pub host: HtmlElement,
    /// The `palaver:event`s the widget emitted, as `(name, data as JSON)`.
    pub events: Rc<RefCell<Vec<(String, String)>>>,
}

impl Mounted {
    /// Mounts the app into a fresh node, with a bridge on a fresh host element.
    pub fn app(config: WidgetConfig) -> Self {
        server();
        let node = html_element("div");
        let host = html_element("div");
        let body = document().body().expect("the test page has a body");
        body.append_child(&host).expect("append the host");
        body.append_child(&node).expect("append the node");
        let events = Rc::new(RefCell::new(Vec::new()));
        let seen = events.clone();
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            let Some(event) = event.dyn_ref::<CustomEvent>() else {
                return;
            };
            let detail = event.detail();
            let field = |name: &str| js_sys::Reflect::get(&detail, &name.into());
            let name = field("name").ok().and_then(|name| name.as_string());
            let data = field("data")
                .ok()
                .and_then(|data| js_sys::JSON::stringify(&data).ok())
                .map(String::from);
            if let (Some(name), Some(data)) = (name, data) {
                seen.borrow_mut().push((name, data));
            }
        });
        host.add_event_listener_with_callback("palaver:event", listener.as_ref().unchecked_ref())
            .expect("listen");
        listener.forget();
        let bridge = Bridge::new(Some(host.clone().into()));
        leptos::mount::mount_to(node.clone(), move || view! { <App config bridge/> }).forget();
        Self { node, host, events }
    }

    /// Mounts the app without the loader's bridge, as a page without `window.Palaver`.
    pub fn bare(config: WidgetConfig) -> HtmlElement {
        server();
        let node = html_element("div");
        document()
            .body()
            .expect("the test page has a body")
            .append_child(&node)
            .expect("append");
        leptos::mount::mount_to(node.clone(), move || view! { <App config/> }).forget();
        node
    }

    /// Sends a command as the loader does (`Palaver.reset()`, `Palaver.identify(token)`…).
    pub fn command(&self, name: &str, args: &[&str]) {
        let detail = js_sys::Object::new();
        let array: js_sys::Array = args.iter().map(|arg| JsValue::from_str(arg)).collect();
        js_sys::Reflect::set(&detail, &"name".into(), &name.into()).expect("set name");
        js_sys::Reflect::set(&detail, &"args".into(), &array).expect("set args");
        let init = CustomEventInit::new();
        init.set_detail(&detail);
        let event =
            CustomEvent::new_with_event_init_dict("palaver:command", &init).expect("an event");
        self.host.dispatch_event(&event).expect("dispatch");
    }

    /// Types `text` in the composer and sends it, as a visitor does.
    pub fn write(&self, text: &str) {
        self.type_into("composer-input", text);
        self.find("send").expect("a send button").click();
    }

    /// Types `text` into the input or text area with this `data-testid`.
    pub fn type_into(&self, testid: &str, text: &str) {
        let element = self.find(testid).expect("the field");
        match element.dyn_ref::<web_sys::HtmlTextAreaElement>() {
            Some(area) => area.set_value(text),
            None => element
                .dyn_ref::<web_sys::HtmlInputElement>()
                .expect("an input")
                .set_value(text),
        }
        let event = web_sys::Event::new("input").expect("an event");
        element.dispatch_event(&event).expect("dispatch");
    }

    /// The `(data-sender, body)` of each message row, in order.
    pub fn messages(&self) -> Vec<(String, String)> {
        let rows = self
            .node
            .query_selector_all("[data-testid=message]")
            .expect("a valid selector");
        (0..rows.length())
            .filter_map(|index| rows.item(index))
            .filter_map(|row| row.dyn_into::<web_sys::Element>().ok())
            .map(|row| {
                let body = row
                    .query_selector("[data-testid=message-body]")
                    .ok()
                    .flatten()
                    .and_then(|body| body.text_content())
                    .unwrap_or_default();
                (row.get_attribute("data-sender").unwrap_or_default(), body)
            })
            .collect()
    }

    /// The names of the events emitted so far.
    pub fn event_names(&self) -> Vec<String> {
        self.events
            .borrow()
            .iter()
            .map(|(name, _)| name.clone())
            .collect()
    }

    pub fn find(&self, testid: &str) -> Option<HtmlElement> {
        find(&self.node, testid)
    }

    /// The text of the element with this `data-testid`, or an empty one.
    pub fn text(&self, testid: &str) -> String {
        self.find(testid)
            .and_then(|element| element.text_content())
            .unwrap_or_default()
    }

    pub fn count(&self, testid: &str) -> u32 {
        self.node
            .query_selector_all(&format!("[data-testid={testid}]"))
            .expect("a valid selector")
            .length()
    }

    /// The element with this `data-testid`, once it shows (within a few seconds).
    pub async fn wait_for(&self, testid: &str) -> HtmlElement {
        for _ in 0..250 {
            if let Some(element) = self.find(testid) {
                return element;
            }
            gloo_timers::future::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "no element with data-testid={testid} appeared; the widget reads: {:?}",
            self.node.text_content().unwrap_or_default()
        );
    }

    pub fn remove(self) {
        self.node.remove();
        self.host.remove();
    }
}

/// The first element under `node` with this `data-testid`.
pub fn find(node: &web_sys::Element, testid: &str) -> Option<HtmlElement> {
    node.query_selector(&format!("[data-testid={testid}]"))
        .expect("a valid selector")
        .and_then(|element| element.dyn_into::<HtmlElement>().ok())
}

/// Like [`find`], for an element that must be there.
pub fn by_testid(node: &web_sys::Element, testid: &str) -> HtmlElement {
    find(node, testid).unwrap_or_else(|| panic!("no element with data-testid={testid}"))
}

fn html_element(tag: &str) -> HtmlElement {
    document()
        .create_element(tag)
        .expect("create an element")
        .dyn_into::<HtmlElement>()
        .expect("an HTML element")
}

/// A message as the server sends it, written in 2098.
pub fn message(session: Uuid, seq: i64, sender: Value, body: &str, client_msg_id: Value) -> Value {
    json!({
        "id": Uuid::new_v4(),
        "session_id": session,
        "seq": seq,
        "client_msg_id": client_msg_id,
        "sender": sender,
        "body": body,
        "created_at": "2098-12-01T10:00:00Z",
    })
}

/// What the widget keeps in localStorage under `key`, as stored.
pub fn stored(key: &str) -> Option<String> {
    LocalStorage::raw().get_item(key).ok().flatten()
}
