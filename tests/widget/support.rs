//! Helpers for the widget's browser tests: mounting the app as the loader would, finding
//! elements by `data-testid`, waiting for what arrives asynchronously, and a fake server
//! inside the page: `fetch` answers the widget's REST calls from a table of routes, and the
//! event stream's WebSocket is a fake whose frames a test reads and writes.
//!
//! The fake is the widget's own, not the client crate's `testing::FakeServer`: the widgets of
//! earlier tests keep running in the page after their nodes are removed, so a stream here
//! belongs to a bearer token (`Stream::accept`) and a socket that signs in with any other
//! token is dropped, as by an unreachable server. The client's fake has one stream per
//! origin, whose newest socket could then be an earlier test's widget.

use std::{cell::RefCell, rc::Rc, time::Duration};

use leptos::prelude::*;
use palaver_widget::{WidgetConfig, app::App, bridge::Bridge};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{CustomEvent, CustomEventInit, HtmlElement};

/// Waits until a condition holds (within five seconds): the client crate's, shared with the
/// console's tests.
pub use palaver_client::testing::eventually;

/// Where the fake server answers; nothing real listens on port 9 (discard).
pub const SERVER: &str = "http://127.0.0.1:9";

/// The fake. `fetch` to [`SERVER`] answers from `routes` (a key is `METHOD /path?query`,
/// optionally followed by the request's `Authorization`), with `$client_msg_id` in a body
/// standing for the one the request sent, or fails as an unreachable server would; every
/// such request is recorded. WebSockets to [`SERVER`]'s host are fakes that record what the
/// widget sends; one that authenticates with a token no test opened a stream for is dropped,
/// as by an unreachable server.
const FAKE: &str = r#"
if (!window.__palaverFake) {
  var fake = window.__palaverFake = { routes: {}, requests: [], sockets: [], streams: {} };
  var realFetch = window.fetch;
  window.fetch = function (input, init) {
    var request = new Request(input, init);
    var url = new URL(request.url);
    if (url.origin !== "SERVER") {
      return realFetch.apply(window, arguments);
    }
    // gloo-net leaves a "&" at the end of a query.
    var key = request.method + " " + url.pathname + url.search.replace(/&$/, "");
    var auth = request.headers.get("Authorization");
    return request.text().then(function (sent) {
      fake.requests.push({ key: key, auth: auth, body: sent });
      var route = (auth && fake.routes[key + " " + auth]) || fake.routes[key];
      if (!route) {
        throw new TypeError("Failed to fetch");
      }
      var id = sent ? JSON.parse(sent).client_msg_id : undefined;
      return new Response(route.body.split("$client_msg_id").join(id), {
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
      this.token = null;
      fake.sockets.push(this);
      setTimeout(() => {
        if (this.readyState === 0) {
          this.readyState = 1;
          this.dispatchEvent(new Event("open"));
        }
      }, 0);
    }
    send(data) {
      this.sent.push(data);
      var frame = JSON.parse(data);
      if (frame.type === "auth") {
        this.token = frame.token;
        if (!fake.streams[frame.token]) {
          setTimeout(() => this.close(1011, "unreachable"), 0);
        }
      }
    }
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
    js_sys::Reflect::get(&window(), &"__palaverFake".into()).expect("installed")
}

fn get(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &name.into()).expect("a property")
}

/// Makes the fake server answer `routes`: each is a method and path (with its query),
/// optionally followed by the `Authorization` header it must carry
/// (`"GET /api/v1/session Bearer t1"`), a status and a JSON body. A route given again
/// replaces the earlier answer. Routes add up over the tests of a run, so each test names
/// its own channel and bearer token.
pub fn fake_server(routes: &[(&str, u16, Value)]) {
    let table = get(&fake(), "routes");
    for (route, status, body) in routes {
        let answer = js_sys::Object::new();
        js_sys::Reflect::set(&answer, &"status".into(), &JsValue::from(*status)).expect("set");
        js_sys::Reflect::set(&answer, &"body".into(), &body.to_string().into()).expect("set");
        js_sys::Reflect::set(&table, &(*route).into(), &answer).expect("add the route");
    }
}

/// Makes `route` fail again as with an unreachable server.
pub fn unroute(route: &str) {
    let routes: js_sys::Object = get(&fake(), "routes").unchecked_into();
    js_sys::Reflect::delete_property(&routes, &route.into()).expect("remove the route");
}

/// The bodies of the requests made to `key` (`"POST /api/v1/session/messages"`) with
/// `Bearer {token}`, in order, answered or not.
pub fn requests(key: &str, token: &str) -> Vec<Value> {
    let auth = format!("Bearer {token}");
    let requests: js_sys::Array = get(&fake(), "requests").unchecked_into();
    requests
        .iter()
        .filter(|request| get(request, "key").as_string().as_deref() == Some(key))
        .filter(|request| get(request, "auth").as_string().as_deref() == Some(auth.as_str()))
        .map(|request| {
            let body = get(&request, "body").as_string().unwrap_or_default();
            serde_json::from_str(&body).unwrap_or(Value::Null)
        })
        .collect()
}

/// The event stream of the sessions with bearer `token`, as the fake server holds it.
pub struct Stream {
    token: String,
}

impl Stream {
    /// Accepts streams that authenticate with `token` from now on.
    pub fn accept(token: &str) -> Self {
        js_sys::Reflect::set(&get(&fake(), "streams"), &token.into(), &JsValue::TRUE)
            .expect("accept the token");
        Self {
            token: token.to_owned(),
        }
    }

    fn sockets(&self) -> Vec<JsValue> {
        let sockets: js_sys::Array = get(&fake(), "sockets").unchecked_into();
        sockets
            .iter()
            .filter(|socket| get(socket, "token").as_string().as_deref() == Some(&self.token))
            .collect()
    }

    /// How many times the widget opened a stream with this token.
    pub fn opened(&self) -> usize {
        self.sockets().len()
    }

    /// The newest open socket.
    fn open_socket(&self) -> Option<JsValue> {
        self.sockets()
            .into_iter()
            .rev()
            .find(|socket| get(socket, "readyState").as_f64() == Some(1.0))
    }

    /// The frames the widget sent on the newest open stream, the `auth` frame first.
    pub fn sent(&self) -> Vec<Value> {
        let Some(socket) = self.open_socket() else {
            return Vec::new();
        };
        let sent: js_sys::Array = get(&socket, "sent").unchecked_into();
        sent.iter()
            .filter_map(|frame| frame.as_string())
            .filter_map(|frame| serde_json::from_str(&frame).ok())
            .collect()
    }

    /// Waits until the widget has opened stream number `count` (1 for the first) and
    /// authenticated it, and returns its `auth` frame.
    pub async fn authenticated(&self, count: usize) -> Value {
        eventually("the widget authenticates its stream", || {
            self.opened() >= count && self.open_socket().is_some()
        })
        .await;
        self.sent().first().cloned().expect("an auth frame")
    }

    /// Sends `event` to the widget on the open stream.
    pub fn push(&self, event: Value) {
        let socket = self.open_socket().expect("an open event stream");
        let push: js_sys::Function = get(&socket, "push").unchecked_into();
        push.call1(&socket, &event.to_string().into())
            .expect("push the event");
    }

    /// Drops the open stream as a server that went away would.
    pub fn drop_connection(&self) {
        let socket = self.open_socket().expect("an open event stream");
        let close: js_sys::Function = get(&socket, "close").unchecked_into();
        close
            .call2(&socket, &JsValue::from(1006), &"gone".into())
            .expect("close the stream");
    }
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
        fake();
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
        fake();
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
