//! Helpers for the widget's browser tests: mounting the app as the loader would, finding
//! elements by `data-testid`, waiting for what arrives asynchronously, and a fake server
//! that answers the widget's REST calls from inside the page.

use std::{cell::RefCell, rc::Rc, time::Duration};

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{CustomEvent, CustomEventInit, HtmlElement};

use crate::{WidgetConfig, app::App, bridge::Bridge};

/// Where the fake server answers. Nothing listens on port 9 (discard), so the event
/// stream's WebSocket fails at once, as with an unreachable server.
pub const SERVER: &str = "http://127.0.0.1:9";

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
        let input = self
            .find("composer-input")
            .expect("a composer")
            .dyn_into::<web_sys::HtmlTextAreaElement>()
            .expect("a textarea");
        input.set_value(text);
        let event = web_sys::Event::new("input").expect("an event");
        input.dispatch_event(&event).expect("dispatch");
        self.find("send").expect("a send button").click();
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
        self.node
            .query_selector(&format!("[data-testid={testid}]"))
            .expect("a valid selector")
            .and_then(|element| element.dyn_into::<HtmlElement>().ok())
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

fn html_element(tag: &str) -> HtmlElement {
    document()
        .create_element(tag)
        .expect("create an element")
        .dyn_into::<HtmlElement>()
        .expect("an HTML element")
}

/// Waits until `condition` holds (within a few seconds).
pub async fn eventually(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..250 {
        if condition() {
            return;
        }
        gloo_timers::future::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {what}");
}

/// Makes the page's `fetch` answer requests to [`SERVER`] from `routes`: each is a method and
/// path (with its query), optionally followed by the `Authorization` header it must carry
/// (`"GET /api/v1/session Bearer t1"`), a status and a JSON body, in which `$client_msg_id`
/// stands for the one the request sent. Requests to [`SERVER`] without a route fail as with
/// an unreachable server; other requests go out as usual. Routes add up over the tests of a
/// run, so each test names its own channel and bearer token.
pub fn fake_server(routes: &[(&str, u16, serde_json::Value)]) {
    let install = js_sys::Function::new_no_args(&format!(
        r#"
        if (!window.__palaverFake) {{
          window.__palaverFake = {{}};
          var realFetch = window.fetch;
          window.fetch = function (input, init) {{
            var request = new Request(input, init);
            var url = new URL(request.url);
            if (url.origin !== "{SERVER}") {{
              return realFetch.apply(window, arguments);
            }}
            // gloo-net leaves a "&" at the end of a query.
            var key = request.method + " " + url.pathname + url.search.replace(/&$/, "");
            var auth = request.headers.get("Authorization");
            var route = (auth && window.__palaverFake[key + " " + auth]) ||
              window.__palaverFake[key];
            if (!route) {{
              return Promise.reject(new TypeError("Failed to fetch"));
            }}
            return request.text().then(function (sent) {{
              var id = sent ? JSON.parse(sent).client_msg_id : undefined;
              return new Response(route.body.split("$client_msg_id").join(id), {{
                status: route.status,
                headers: {{ "Content-Type": "application/json" }}
              }});
            }});
          }};
        }}
        "#
    ));
    install
        .call0(&JsValue::NULL)
        .expect("install the fake server");
    let table = js_sys::Reflect::get(&window(), &"__palaverFake".into()).expect("installed");
    for (route, status, body) in routes {
        let answer = js_sys::Object::new();
        js_sys::Reflect::set(&answer, &"status".into(), &JsValue::from(*status)).expect("set");
        js_sys::Reflect::set(&answer, &"body".into(), &body.to_string().into()).expect("set");
        js_sys::Reflect::set(&table, &(*route).into(), &answer).expect("add the route");
    }
}
