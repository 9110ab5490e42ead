//! A fake server inside the page, for the widget's and the console's browser tests (feature
//! `testing`): `fetch` to its origin answers from a table of routes and records each
//! request, and a WebSocket to its host is a fake that records the frames the app sends and
//! delivers the events a test pushes. Anything else goes out as usual.
//!
//! A route is `METHOD /path?query`, optionally followed by the `Authorization` header it
//! must carry (`"GET /api/v1/session Bearer t1"`); without a matching route a request fails
//! as with an unreachable server. In a route's body, `$client_msg_id` stands for the one the
//! request sent. Routes add up over the tests of a run (they share the page), so each test
//! names its own tokens, channels and sessions.
//!
//! A server has one event stream, its newest open socket, unless it keeps [`Stream`]s by
//! bearer token ([`FakeServer::streams_per_token`]): the widget's tests need that, since the
//! widgets of earlier tests keep running in the page and their sockets would otherwise be
//! taken for the current test's. A socket that signs in with a token no test accepted is
//! then dropped, as by an unreachable server.

use std::time::Duration;

use palaver_protocol::{Message, Sender};
use serde_json::{Value, json};
use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue};

/// Where tests usually put the fake: nothing real listens on port 9 (discard).
pub const SERVER: &str = "http://127.0.0.1:9";

/// Installs the fake `fetch` and `WebSocket` once per page; each fake server is an entry of
/// `__palaverFakes`, by origin.
const INSTALL: &str = r#"
if (!window.__palaverFakes) {
  var fakes = window.__palaverFakes = {};
  var realFetch = window.fetch;
  window.fetch = function (input, init) {
    var request = new Request(input, init);
    var url = new URL(request.url);
    var fake = fakes[url.origin];
    if (!fake) {
      return realFetch.apply(window, arguments);
    }
    // gloo-net leaves a "&" at the end of a query it extended.
    var key = request.method + " " + url.pathname + url.search.replace(/&$/, "");
    var auth = request.headers.get("Authorization");
    return request.text().then(function (body) {
      fake.requests.push({ key: key, auth: auth, body: body });
      var route = (auth && fake.routes[key + " " + auth]) || fake.routes[key];
      if (!route) {
        throw new TypeError("Failed to fetch");
      }
      var id;
      try { id = JSON.parse(body).client_msg_id; } catch (e) {}
      var text = typeof id === "string" ? route.body.split("$client_msg_id").join(id) : route.body;
      return new Response(route.status === 204 ? null : text, {
        status: route.status,
        headers: { "Content-Type": "application/json" }
      });
    });
  };
  class FakeSocket extends EventTarget {
    constructor(fake, url) {
      super();
      this.url = url;
      this.readyState = 0;
      this.binaryType = "blob";
      this.sent = [];
      this.fake = fake;
      this.token = null;
      fake.sockets.push(this);
      var refused = fake.refuseSockets;
      setTimeout(() => {
        if (this.readyState !== 0) { return; }
        if (refused) {
          this.readyState = 3;
          this.dispatchEvent(new Event("error"));
          this.dispatchEvent(new CloseEvent("close", { code: 1006, reason: "", wasClean: false }));
        } else {
          this.readyState = 1;
          this.dispatchEvent(new Event("open"));
        }
      }, 0);
    }
    send(data) {
      this.sent.push(data);
      var frame;
      try { frame = JSON.parse(data); } catch (e) {}
      if (frame && frame.type === "auth") {
        this.token = frame.token;
        if (this.fake.streams && !this.fake.streams[frame.token]) {
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
    var origin = new URL(url.replace(/^ws/, "http")).origin;
    var fake = fakes[origin];
    return fake ? new FakeSocket(fake, url) : new RealWebSocket(url, protocols);
  };
}
"#;

/// A fake server at one origin. Cheap to clone; every handle to the same origin shares its
/// routes, requests and sockets.
#[derive(Clone)]
pub struct FakeServer {
    origin: String,
    fake: JsValue,
}

/// A request the app made to a [`FakeServer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `METHOD /path?query`.
    pub key: String,
    /// The `Authorization` header, if any.
    pub auth: Option<String>,
    /// The body as sent; empty without one.
    pub text: String,
}

impl Recorded {
    /// The body as JSON; `null` without one.
    pub fn body(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

impl FakeServer {
    /// The fake server at `origin` (`http://127.0.0.1:9`), installing the fakes on first
    /// use; a second call for the same origin gives the same server. It also starts Leptos's
    /// executor, which the socket's writer runs on, for tests that mount no app.
    pub fn install(origin: &str) -> Self {
        // Already started (by a mounted app or an earlier call) is fine.
        let _ = any_spawner::Executor::init_wasm_bindgen();
        js_sys::Function::new_no_args(INSTALL)
            .call0(&JsValue::NULL)
            .expect("install the fakes");
        let fakes = get(&leptos::prelude::window(), "__palaverFakes");
        let mut fake = get(&fakes, origin);
        if fake.is_undefined() {
            fake = js_sys::Object::new().into();
            set(&fake, "routes", &js_sys::Object::new());
            set(&fake, "requests", &js_sys::Array::new());
            set(&fake, "sockets", &js_sys::Array::new());
            set(&fake, "refuseSockets", &JsValue::FALSE);
            set(&fakes, origin, &fake);
        }
        Self {
            origin: origin.to_owned(),
            fake,
        }
    }

    /// Its origin, to give the app as its server.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Answers `route` with `status` and `body`, replacing an earlier answer to it.
    pub fn route(&self, route: &str, status: u16, body: &Value) {
        let answer = js_sys::Object::new();
        set(&answer, "status", &JsValue::from(status));
        set(&answer, "body", &body.to_string().into());
        set(&get(&self.fake, "routes"), route, &answer);
    }

    /// [`FakeServer::route`] for each of `routes`.
    pub fn routes(&self, routes: &[(&str, u16, Value)]) {
        for (route, status, body) in routes {
            self.route(route, *status, body);
        }
    }

    /// Forgets `route`: requests to it fail again as with an unreachable server.
    pub fn unroute(&self, route: &str) {
        let routes: js_sys::Object = get(&self.fake, "routes").unchecked_into();
        js_sys::Reflect::delete_property(&routes, &route.into()).expect("delete the route");
    }

    /// Every request made so far, oldest first.
    pub fn recorded(&self) -> Vec<Recorded> {
        let requests: js_sys::Array = get(&self.fake, "requests").unchecked_into();
        requests
            .iter()
            .map(|request| Recorded {
                key: get(&request, "key").as_string().unwrap_or_default(),
                auth: get(&request, "auth").as_string(),
                text: get(&request, "body").as_string().unwrap_or_default(),
            })
            .collect()
    }

    /// The bodies (as JSON, `null` without one) of the requests made to `key`
    /// (`"POST /api/v1/session/messages"`), oldest first.
    pub fn requests(&self, key: &str) -> Vec<Value> {
        self.recorded()
            .into_iter()
            .filter(|request| request.key == key)
            .map(|request| request.body())
            .collect()
    }

    /// Keeps an event stream per bearer token from now on: a socket belongs to the token of
    /// its `auth` frame, and one that signs in with a token not accepted by
    /// [`FakeServer::accept_stream`] is dropped, as by an unreachable server.
    pub fn streams_per_token(&self) {
        if get(&self.fake, "streams").is_undefined() {
            set(&self.fake, "streams", &js_sys::Object::new());
        }
    }

    /// Accepts sockets that sign in with `token` from now on (keeping streams per token, as
    /// [`FakeServer::streams_per_token`]), and gives their stream.
    pub fn accept_stream(&self, token: &str) -> Stream {
        self.streams_per_token();
        set(&get(&self.fake, "streams"), token, &JsValue::TRUE);
        Stream {
            server: self.clone(),
            token: token.to_owned(),
        }
    }

    /// Whether sockets fail at once, as with a server that is down (default: they open).
    pub fn refuse_sockets(&self, refuse: bool) {
        set(&self.fake, "refuseSockets", &JsValue::from_bool(refuse));
    }

    /// The address of every socket opened so far, oldest first.
    pub fn socket_urls(&self) -> Vec<String> {
        self.sockets()
            .iter()
            .filter_map(|socket| get(socket, "url").as_string())
            .collect()
    }

    fn sockets(&self) -> Vec<JsValue> {
        let sockets: js_sys::Array = get(&self.fake, "sockets").unchecked_into();
        sockets.iter().collect()
    }

    /// The newest open socket, if one is.
    fn open_socket(&self) -> Option<JsValue> {
        self.sockets()
            .into_iter()
            .rev()
            .find(|socket| get(socket, "readyState").as_f64() == Some(1.0))
    }

    /// Whether a socket is open.
    pub fn is_connected(&self) -> bool {
        self.open_socket().is_some()
    }

    /// The frames the app sent on the newest open socket (as JSON), oldest first; none
    /// without an open socket.
    pub fn sent_frames(&self) -> Vec<Value> {
        self.open_socket()
            .map(|socket| sent(&socket))
            .unwrap_or_default()
    }

    /// Sends `event` to the app on the newest open socket.
    ///
    /// # Panics
    /// When no socket is open.
    pub fn push(&self, event: &Value) {
        push(&self.open_socket().expect("an open socket"), event);
    }

    /// Closes the newest open socket as a server that dropped it would.
    ///
    /// # Panics
    /// When no socket is open.
    pub fn close_socket(&self) {
        let socket = self.open_socket().expect("an open socket");
        let close: js_sys::Function = get(&socket, "close").unchecked_into();
        close.call0(&socket).expect("close the socket");
    }
}

/// The event stream of the sockets that sign in with one bearer token, from
/// [`FakeServer::accept_stream`].
pub struct Stream {
    server: FakeServer,
    token: String,
}

impl Stream {
    fn sockets(&self) -> Vec<JsValue> {
        self.server
            .sockets()
            .into_iter()
            .filter(|socket| get(socket, "token").as_string().as_deref() == Some(&self.token))
            .collect()
    }

    /// The newest open socket.
    fn open_socket(&self) -> Option<JsValue> {
        self.sockets()
            .into_iter()
            .rev()
            .find(|socket| get(socket, "readyState").as_f64() == Some(1.0))
    }

    /// How many sockets signed in with this token.
    pub fn opened(&self) -> usize {
        self.sockets().len()
    }

    /// The frames the app sent on the newest open socket (as JSON), the `auth` frame first;
    /// none without an open socket.
    pub fn sent(&self) -> Vec<Value> {
        self.open_socket()
            .map(|socket| sent(&socket))
            .unwrap_or_default()
    }

    /// Waits until socket number `count` (1 for the first) has signed in with this token and
    /// is open, and gives its `auth` frame.
    ///
    /// # Panics
    /// When that does not happen within five seconds.
    pub async fn authenticated(&self, count: usize) -> Value {
        eventually("the app authenticates its stream", || {
            self.opened() >= count && self.open_socket().is_some()
        })
        .await;
        self.sent().first().cloned().expect("an auth frame")
    }

    /// Sends `event` to the app on the newest open socket.
    ///
    /// # Panics
    /// When no socket is open.
    pub fn push(&self, event: &Value) {
        push(&self.open_socket().expect("an open event stream"), event);
    }

    /// Drops the newest open socket as a server that went away would.
    ///
    /// # Panics
    /// When no socket is open.
    pub fn drop_connection(&self) {
        let socket = self.open_socket().expect("an open event stream");
        let close: js_sys::Function = get(&socket, "close").unchecked_into();
        close
            .call2(&socket, &JsValue::from(1006), &"gone".into())
            .expect("close the stream");
    }
}

/// The frames sent on `socket` (as JSON), oldest first.
fn sent(socket: &JsValue) -> Vec<Value> {
    let sent: js_sys::Array = get(socket, "sent").unchecked_into();
    sent.iter()
        .filter_map(|frame| frame.as_string())
        .filter_map(|frame| serde_json::from_str(&frame).ok())
        .collect()
}

/// Delivers `event` to the app on `socket`.
fn push(socket: &JsValue, event: &Value) {
    let push: js_sys::Function = get(socket, "push").unchecked_into();
    push.call1(socket, &event.to_string().into())
        .expect("push the event");
}

fn get(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &name.into()).expect("a property")
}

fn set(object: &JsValue, name: &str, value: &JsValue) {
    js_sys::Reflect::set(object, &name.into(), value).expect("set a property");
}

/// Polls `found` until it gives something (within five seconds); `what` says what was
/// awaited when it does not.
///
/// # Panics
/// When the time runs out.
pub async fn until<T>(what: impl Fn() -> String, found: impl Fn() -> Option<T>) -> T {
    for _ in 0..250 {
        if let Some(found) = found() {
            return found;
        }
        gloo_timers::future::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {}", what());
}

/// Waits until `condition` holds (within five seconds).
///
/// # Panics
/// When the time runs out.
pub async fn eventually(what: &str, condition: impl Fn() -> bool) {
    until(|| what.to_owned(), || condition().then_some(())).await;
}

/// A message of `session` with sequence number `seq`, sent `seq` minutes after a fixed
/// moment.
pub fn message(session: Uuid, seq: i64, sender: Sender, body: &str) -> Message {
    serde_json::from_value(json!({
        "id": Uuid::new_v4(),
        "session_id": session,
        "seq": seq,
        "client_msg_id": null,
        "sender": sender,
        "body": body,
        "created_at": format!("2026-11-18T{:02}:{:02}:00Z", 9 + seq / 60 % 12, seq % 60),
    }))
    .expect("a message")
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use futures::StreamExt;
    use gloo_net::{
        http::Request,
        websocket::{Message as WsMessage, futures::WebSocket},
    };
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    async fn fetch(request: gloo_net::http::RequestBuilder, body: Option<&str>) -> (u16, String) {
        let request = match body {
            Some(body) => request.body(body.to_owned()),
            None => request.build(),
        };
        let response = request.expect("a request").send().await;
        let response = response.unwrap_or_else(|error| panic!("no answer: {error:?}"));
        (response.status(), response.text().await.unwrap_or_default())
    }

    #[wasm_bindgen_test]
    async fn the_fake_fetch_answers_by_route_prefers_the_one_for_the_token_and_records_it_all() {
        let server = FakeServer::install("http://127.0.0.1:39");
        let url = format!("{}/api/v1/session", server.origin());
        server.routes(&[
            (
                "GET /api/v1/session",
                401,
                json!({"error": "unauthorized", "message": "No."}),
            ),
            ("GET /api/v1/session Bearer t1", 200, json!({"who": "t1"})),
        ]);
        let (status, text) = fetch(
            Request::get(&url).header("Authorization", "Bearer t1"),
            None,
        )
        .await;
        assert_eq!((status, text.as_str()), (200, r#"{"who":"t1"}"#));
        let (status, _) = fetch(
            Request::get(&url).header("Authorization", "Bearer t2"),
            None,
        )
        .await;
        assert_eq!(status, 401);

        // gloo-net ends a query written into the address with "&"; the key has none.
        server.route("GET /api/v1/session/messages?limit=30", 200, &json!([]));
        let messages = format!("{url}/messages?limit=30");
        assert_eq!(fetch(Request::get(&messages), None).await.0, 200);

        let recorded = server.recorded();
        let keys: Vec<&str> = recorded
            .iter()
            .map(|request| request.key.as_str())
            .collect();
        assert_eq!(
            keys[keys.len() - 3..],
            [
                "GET /api/v1/session",
                "GET /api/v1/session",
                "GET /api/v1/session/messages?limit=30"
            ]
        );
        assert_eq!(
            recorded[recorded.len() - 3].auth.as_deref(),
            Some("Bearer t1")
        );
    }

    #[wasm_bindgen_test]
    async fn a_send_is_answered_with_its_own_client_id_and_a_missing_route_is_unreachable() {
        let server = FakeServer::install("http://127.0.0.1:39");
        let url = format!("{}/api/v1/session/messages", server.origin());
        server.route(
            "POST /api/v1/session/messages Bearer t3",
            201,
            &json!({"client_msg_id": "$client_msg_id"}),
        );
        let send = || Request::post(&url).header("Authorization", "Bearer t3");
        let (status, text) = fetch(send(), Some(r#"{"client_msg_id":"c-42","body":"hi"}"#)).await;
        assert_eq!(
            (status, text.as_str()),
            (201, r#"{"client_msg_id":"c-42"}"#)
        );
        assert_eq!(
            server.requests("POST /api/v1/session/messages").last(),
            Some(&json!({"client_msg_id": "c-42", "body": "hi"}))
        );

        server.unroute("POST /api/v1/session/messages Bearer t3");
        let failed = send().build().expect("a request").send().await;
        assert!(
            failed.is_err(),
            "no route: as with a server that cannot be reached"
        );
        assert_eq!(server.requests("POST /api/v1/session/messages").len(), 2);

        // Other origins are not the fake's.
        let other = FakeServer::install("http://127.0.0.1:40");
        assert!(other.recorded().is_empty());
    }

    #[wasm_bindgen_test]
    async fn the_fake_socket_records_what_is_sent_delivers_what_is_pushed_and_closes() {
        let server = FakeServer::install("http://127.0.0.1:41");
        let url = "ws://127.0.0.1:41/api/v1/agent/events";
        let socket = WebSocket::open(url).expect("a socket");
        let (mut write, mut read) = socket.split();
        futures::SinkExt::send(&mut write, WsMessage::Text(r#"{"type":"auth"}"#.into()))
            .await
            .expect("sent once open");
        assert!(server.is_connected());
        assert_eq!(server.socket_urls().last().map(String::as_str), Some(url));
        assert_eq!(server.sent_frames(), [json!({"type": "auth"})]);

        server.push(&json!({"type": "ready"}));
        let Some(Ok(WsMessage::Text(text))) = read.next().await else {
            panic!("a pushed frame");
        };
        assert_eq!(text, r#"{"type":"ready"}"#);

        server.close_socket();
        assert!(!server.is_connected());
        assert!(
            server.sent_frames().is_empty(),
            "frames of an open socket only"
        );
        let mut ended = false;
        while let Some(next) = read.next().await {
            ended |= next.is_err();
        }
        assert!(ended, "the app sees the close");
    }

    #[wasm_bindgen_test]
    async fn refused_sockets_fail_at_once_as_with_a_server_that_is_down() {
        let server = FakeServer::install("http://127.0.0.1:42");
        server.refuse_sockets(true);
        let socket = WebSocket::open("ws://127.0.0.1:42/events").expect("a socket");
        let (_write, mut read) = socket.split();
        assert!(matches!(read.next().await, Some(Err(_))), "an error first");
        assert!(!server.is_connected());
        assert_eq!(server.socket_urls().len(), 1);
    }

    #[wasm_bindgen_test]
    async fn streams_per_token_hold_the_sockets_of_their_token_and_drop_any_other() {
        let server = FakeServer::install("http://127.0.0.1:43");
        let stream = server.accept_stream("t-kept");
        let url = "ws://127.0.0.1:43/api/v1/session/events";
        let open = |token: &'static str| async move {
            let socket = WebSocket::open(url).expect("a socket");
            let (mut write, read) = socket.split();
            let auth = json!({"type": "auth", "token": token}).to_string();
            futures::SinkExt::send(&mut write, WsMessage::Text(auth))
                .await
                .expect("sent once open");
            (write, read)
        };
        let (_kept, mut kept) = open("t-kept").await;
        let (_other, mut other) = open("t-other").await;
        while other.next().await.is_some() {}
        assert_eq!(
            stream.opened(),
            1,
            "a socket of another token is not the stream's"
        );
        assert_eq!(
            stream.authenticated(1).await,
            json!({"type": "auth", "token": "t-kept"})
        );

        stream.push(&json!({"type": "ready"}));
        let Some(Ok(WsMessage::Text(text))) = kept.next().await else {
            panic!("a pushed frame");
        };
        assert_eq!(text, r#"{"type":"ready"}"#);
        stream.drop_connection();
        while kept.next().await.is_some() {}
        assert!(stream.sent().is_empty(), "no socket open");
        assert_eq!(stream.opened(), 1);
    }
}
