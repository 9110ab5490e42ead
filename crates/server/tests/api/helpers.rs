//! `spawn_app()` and the `TestApp` that speaks to it: one method per endpoint or socket
//! action, so tests read as what a visitor or agent does.

use std::{sync::Arc, time::Duration};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use palaver_protocol::{
    AgentStatus, AgentToken, Identified, SessionCreated, SessionState,
    frames::{AgentEvent, AgentFrame, VisitorEvent, VisitorFrame},
};
use palaver_server::{
    Application, Config,
    chat::agents::{DEFAULT_CAPACITY, add_agent},
    clock::ManualClock,
    store::Store,
};
use reqwest::{Response, StatusCode};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message as WsMessage};

/// Monday 23 November 2026, 10:00 UTC: inside the `office` channel's hours.
pub const START: &str = "2026-11-23T10:00:00Z";

/// The channels every test app runs with.
pub const CHANNELS: &str = r#"
[[channel]]
id = "support"
name = "Support"
default_region = "GB"
allowed_origins = ["https://shop.example"]

[[channel]]
id = "strict"
name = "Strict"
default_region = "GB"
require_email = true
inactivity_timeout = "5m"

[[channel]]
id = "office"
name = "Office hours"
default_region = "GB"

[channel.operating_hours]
timezone = "Europe/London"
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-17:00"

[[channel]]
id = "members"
name = "Members"
mode = "persistent"
default_region = "GB"

[channel.identity]
algorithm = "HS256"
secret = "members-secret-0123456789abcdefghij"
issuer = "https://shop.example"
audience = "palaver"

[[channel]]
id = "members-ec"
name = "Members (weekends)"
mode = "persistent"
agent_affinity = false

[channel.identity]
algorithm = "ES256"
public_key = """
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeflWecNUyaAz3NlcXRSfBqtDK/+W
CRvj2zGX++2AOEG86rXmvCXBk8euECZXfyhJVwsNfX8mKq2ATyXgMEZAFQ==
-----END PUBLIC KEY-----
"""

[channel.operating_hours]
timezone = "UTC"
sat = "09:00-17:00"
sun = "09:00-17:00"
"#;

/// The `members` channel's shared secret, as its site would hold it.
pub const MEMBERS_SECRET: &str = "members-secret-0123456789abcdefghij";

/// The private half of `members-ec`'s key: made for these tests, it signs nothing else.
pub const EC_PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtTjxsW7d9BAFERt8
GW29PyxW0MMmlsqOirDmqTioG7yhRANCAAR5+VZ5w1TJoDPc2VxdFJ8Gq0Mr/5YJ
G+PbMZf77YA4Qbzqtea8JcGTx64QJld/KElXCw19fyYqrYBPJeAwRkAV
-----END PRIVATE KEY-----";

/// The public half, as `members-ec` is configured with.
pub const EC_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeflWecNUyaAz3NlcXRSfBqtDK/+W
CRvj2zGX++2AOEG86rXmvCXBk8euECZXfyhJVwsNfX8mKq2ATyXgMEZAFQ==
-----END PUBLIC KEY-----";

/// Claims the `members` site signs for `sub`: valid for an hour from the test clock's start.
pub fn member_claims(sub: &str, name: &str) -> Value {
    let start: chrono::DateTime<chrono::Utc> = START.parse().expect("start time");
    json!({
        "sub": sub,
        "name": name,
        "email": format!("{sub}@example.com"),
        "iat": start.timestamp(),
        "exp": (start + chrono::Duration::hours(1)).timestamp(),
        "iss": "https://shop.example",
        "aud": "palaver",
    })
}

/// Signs claims with HS256 and `secret`.
pub fn hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("signs")
}

/// Signs claims as the `members` site does.
pub fn member_token(claims: &Value) -> String {
    hs256(claims, MEMBERS_SECRET.as_bytes())
}

/// What the test server serves as the widget's loader.
pub const LOADER: &str = "/* the widget loader */";

/// A stand-in for the built console's page, with an inline start-up script as Trunk writes.
pub const CONSOLE_INDEX: &str =
    "<!doctype html><script type=\"module\">import init from '/console/app.js';</script>";

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
    pub database_url: String,
    /// Flags beyond the defaults, kept for a restart.
    flags: Vec<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// A server run with `flags` beside the test defaults.
pub async fn spawn_app_with(flags: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("channels.toml"), CHANNELS).expect("write channels");
    let widget_dir = dir.path().join("widget");
    std::fs::create_dir(&widget_dir).expect("widget dir");
    std::fs::write(widget_dir.join("widget.js"), LOADER).expect("write the loader");
    let console_dir = dir.path().join("console");
    std::fs::create_dir(&console_dir).expect("console dir");
    std::fs::write(console_dir.join("index.html"), CONSOLE_INDEX).expect("write the console");
    let database_url = format!("sqlite://{}", dir.path().join("palaver.db").display());
    let clock = Arc::new(ManualClock::new(START.parse().expect("start time")));
    let flags: Vec<String> = flags.iter().map(|flag| (*flag).to_owned()).collect();
    let (port, store, stop) = run_server(dir.path(), &database_url, clock.clone(), &flags).await;
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::new(),
        clock,
        store,
        database_url,
        flags,
        stop: Some(stop),
        _dir: dir,
    }
}

/// Runs a server on port 0 with the files in `dir` and the database at `database_url`.
async fn run_server(
    dir: &std::path::Path,
    database_url: &str,
    clock: Arc<ManualClock>,
    flags: &[String],
) -> (u16, Arc<dyn Store>, tokio::sync::oneshot::Sender<()>) {
    let defaults = [
        "palaver-server",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        database_url,
        "--channels",
        &dir.join("channels.toml").display().to_string(),
        "--widget-dir",
        &dir.join("widget").display().to_string(),
        "--console-dir",
        &dir.join("console").display().to_string(),
        "--sweep-interval",
        "20ms",
        "--queue-update-interval",
        "20ms",
    ];
    let args = defaults
        .into_iter()
        .map(str::to_owned)
        .chain(flags.iter().cloned());
    let config = Config::try_parse_from(args).expect("valid test config");
    let app = Application::build_with_clock(config, clock)
        .await
        .expect("the server builds");
    let port = app.port();
    let store = app.store();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    (port, store, stop)
}

/// A signed-in agent.
pub struct TestAgent {
    pub token: String,
    pub id: String,
}

impl TestApp {
    /// Stops the server as a deploy or a shutdown would.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Starts a new server on the same database and clock, as after a deploy; it listens on
    /// a new port.
    pub async fn restart(&mut self) {
        self.stop();
        let (port, store, stop) = run_server(
            self._dir.path(),
            &self.database_url,
            self.clock.clone(),
            &self.flags,
        )
        .await;
        self.address = format!("http://127.0.0.1:{port}");
        self.port = port;
        self.store = store;
        self.stop = Some(stop);
    }

    /// How many rows a table holds, read straight from the database file.
    pub async fn count_rows(&self, table: &str) -> i64 {
        let pool = sqlx::SqlitePool::connect(&self.database_url)
            .await
            .expect("database opens");
        let count = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&pool)
            .await
            .expect("rows counted");
        pool.close().await;
        count
    }

    /// `POST /api/v1/channels/{channel}/identify`.
    pub async fn identify(&self, channel: &str, identity_token: &str) -> Response {
        self.post(
            &format!("/api/v1/channels/{channel}/identify"),
            None,
            &json!({ "identity_token": identity_token }),
        )
        .await
    }

    /// Signs `sub` in on `members`, which must succeed.
    pub async fn member(&self, sub: &str, name: &str) -> Identified {
        let token = member_token(&member_claims(sub, name));
        expect_json(self.identify("members", &token).await, StatusCode::OK).await
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &impl Serialize) -> Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn put(&self, path: &str, token: &str, body: &impl Serialize) -> Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// `POST /api/v1/channels/{channel}/sessions` with a raw JSON body.
    pub async fn start(&self, channel: &str, details: Value) -> Response {
        self.post(
            &format!("/api/v1/channels/{channel}/sessions"),
            None,
            &details,
        )
        .await
    }

    /// Starts a session that must succeed.
    pub async fn start_ok(&self, channel: &str, name: &str, phone: &str) -> SessionCreated {
        let details = json!({"name": name, "phone": phone, "email": "visitor@example.com"});
        let response = self.start(channel, details).await;
        expect_json(response, StatusCode::CREATED).await
    }

    pub async fn session(&self, token: &str) -> Response {
        self.get("/api/v1/session", Some(token)).await
    }

    pub async fn messages(&self, token: &str, query: &str) -> Response {
        self.get(&format!("/api/v1/session/messages{query}"), Some(token))
            .await
    }

    /// The bodies of every message the visitor can read, in order.
    pub async fn visitor_bodies(&self, token: &str) -> Vec<String> {
        let page: palaver_protocol::MessagePage =
            expect_json(self.messages(token, "?limit=200").await, StatusCode::OK).await;
        page.messages.into_iter().map(|m| m.body).collect()
    }

    pub async fn send(&self, token: &str, client_msg_id: &str, body: &str) -> Response {
        let message = json!({"client_msg_id": client_msg_id, "body": body});
        self.post("/api/v1/session/messages", Some(token), &message)
            .await
    }

    pub async fn end(&self, token: &str) -> Response {
        self.post("/api/v1/session/end", Some(token), &json!({}))
            .await
    }

    /// Creates an agent with the default capacity and signs them in.
    pub async fn agent(&self, name: &str) -> TestAgent {
        self.agent_with_capacity(name, DEFAULT_CAPACITY).await
    }

    /// `POST /api/v1/agent/login`.
    pub async fn login(&self, name: &str, password: &str) -> Response {
        self.post(
            "/api/v1/agent/login",
            None,
            &json!({"name": name, "password": password}),
        )
        .await
    }

    /// Creates an agent who holds at most `capacity` sessions and signs them in.
    pub async fn agent_with_capacity(&self, name: &str, capacity: u32) -> TestAgent {
        use palaver_server::clock::Clock;
        let clock: &dyn Clock = self.clock.as_ref();
        add_agent(self.store.as_ref(), clock, name, "correct horse", capacity)
            .await
            .expect("agent created");
        let response = self.login(name, "correct horse").await;
        let token: AgentToken = expect_json(response, StatusCode::OK).await;
        TestAgent {
            token: token.token,
            id: token.agent.id.to_string(),
        }
    }

    pub async fn agent_get(&self, agent: &TestAgent, path: &str) -> Response {
        self.get(&format!("/api/v1/agent{path}"), Some(&agent.token))
            .await
    }

    pub async fn agent_post(&self, agent: &TestAgent, path: &str, body: Value) -> Response {
        self.post(&format!("/api/v1/agent{path}"), Some(&agent.token), &body)
            .await
    }

    pub async fn join(&self, agent: &TestAgent, session_id: impl std::fmt::Display) -> Response {
        self.agent_post(agent, &format!("/sessions/{session_id}/join"), json!({}))
            .await
    }

    pub async fn reply(
        &self,
        agent: &TestAgent,
        session_id: impl std::fmt::Display,
        client_msg_id: &str,
        body: &str,
    ) -> Response {
        self.agent_post(
            agent,
            &format!("/sessions/{session_id}/messages"),
            json!({"client_msg_id": client_msg_id, "body": body}),
        )
        .await
    }

    pub async fn wait(&self, agent: &TestAgent, session_id: impl std::fmt::Display) -> Response {
        self.agent_post(agent, &format!("/sessions/{session_id}/wait"), json!({}))
            .await
    }

    /// Opens the visitor's event stream, naming the conversation `after_seq` counts in.
    pub async fn visitor_socket_in(
        &self,
        token: &str,
        session_id: uuid::Uuid,
        after_seq: i64,
    ) -> Socket {
        let auth = VisitorFrame::Auth {
            token: token.to_owned(),
            after_seq,
            session_id: Some(session_id),
        };
        self.socket("/api/v1/session/events", to_json(&auth)).await
    }

    async fn socket(&self, path: &str, first: String) -> Socket {
        let url = format!("ws://127.0.0.1:{}{path}", self.port);
        let (mut socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("socket connects");
        socket
            .send(WsMessage::Text(first.into()))
            .await
            .expect("first frame sent");
        Socket(socket)
    }

    /// Opens the visitor's event stream, naming the last `seq` it holds.
    pub async fn visitor_socket(&self, token: &str, after_seq: i64) -> Socket {
        let auth = VisitorFrame::Auth {
            token: token.to_owned(),
            after_seq,
            session_id: None,
        };
        self.socket("/api/v1/session/events", to_json(&auth)).await
    }

    /// Opens an agent's event stream.
    pub async fn agent_socket(&self, agent: &TestAgent) -> Socket {
        let auth = AgentFrame::Auth {
            token: agent.token.clone(),
        };
        self.socket("/api/v1/agent/events", to_json(&auth)).await
    }

    /// Every agent's status, as `agent` reads them.
    pub async fn agent_statuses(&self, agent: &TestAgent) -> Vec<AgentStatus> {
        expect_json(self.agent_get(agent, "/agents").await, StatusCode::OK).await
    }

    /// The name of the agent who holds a session now, as the store has it.
    pub async fn holder(&self, session_id: uuid::Uuid) -> Option<String> {
        let record = self.store.session(session_id).await.expect("store reads");
        record
            .expect("the session exists")
            .agent
            .map(|agent| agent.name)
    }

    /// Opens the agent's console and makes them available, returning once the server has
    /// announced it; they stay available while the socket is held.
    pub async fn online(&self, agent: &TestAgent) -> Socket {
        let mut console = self.agent_socket(agent).await;
        console
            .until_agent_event(|event| matches!(event, AgentEvent::Ready { .. }))
            .await;
        console
            .send(&AgentFrame::Presence { available: true })
            .await;
        console
            .until_agent_event(|event| {
                matches!(event, AgentEvent::Agent { agent: status }
                    if status.id.to_string() == agent.id && status.available)
            })
            .await;
        console
    }
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("serializes")
}

/// Asserts the status and decodes the body.
pub async fn expect_json<T: DeserializeOwned>(response: Response, status: StatusCode) -> T {
    let actual = response.status();
    let text = response.text().await.expect("body read");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("bad body {text}: {error}"))
}

/// Asserts an error status and returns the error body.
pub async fn expect_error(response: Response, status: StatusCode) -> Value {
    expect_json(response, status).await
}

/// A WebSocket to the server.
pub struct Socket(WebSocketStream<MaybeTlsStream<TcpStream>>);

/// How long a test waits for a frame that should come.
const FRAME_DEADLINE: Duration = Duration::from_secs(5);

impl Socket {
    pub async fn send(&mut self, frame: &impl Serialize) {
        self.0
            .send(WsMessage::Text(to_json(frame).into()))
            .await
            .expect("frame sent");
    }

    /// The next JSON frame; panics when none comes in time or the socket closes.
    pub async fn next<T: DeserializeOwned>(&mut self) -> T {
        let deadline = tokio::time::Instant::now() + FRAME_DEADLINE;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.0.next())
                .await
                .expect("a frame within the deadline")
                .expect("the socket is open")
                .expect("a readable frame");
            if let WsMessage::Text(text) = frame {
                return serde_json::from_str(text.as_str())
                    .unwrap_or_else(|error| panic!("bad frame {text}: {error}"));
            }
        }
    }

    pub async fn next_visitor_event(&mut self) -> VisitorEvent {
        self.next().await
    }

    pub async fn next_agent_event(&mut self) -> AgentEvent {
        self.next().await
    }

    /// Skips frames until one matches; panics at the deadline.
    pub async fn until_visitor_event(
        &mut self,
        wanted: impl Fn(&VisitorEvent) -> bool,
    ) -> VisitorEvent {
        loop {
            let event = self.next_visitor_event().await;
            if wanted(&event) {
                return event;
            }
        }
    }

    /// Skips frames until a `session` frame that puts the session in `state`.
    pub async fn until_session_state(&mut self, state: SessionState) {
        self.until_visitor_event(
            |event| matches!(event, VisitorEvent::Session { session } if session.state == state),
        )
        .await;
    }

    pub async fn until_agent_event(&mut self, wanted: impl Fn(&AgentEvent) -> bool) -> AgentEvent {
        loop {
            let event = self.next_agent_event().await;
            if wanted(&event) {
                return event;
            }
        }
    }

    /// Whether the server closes the socket within the deadline (frames before are skipped).
    pub async fn closes(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + FRAME_DEADLINE;
        loop {
            match tokio::time::timeout_at(deadline, self.0.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_)) | Some(Ok(WsMessage::Close(_)))) => return true,
                Ok(Some(Ok(_))) => {}
            }
        }
    }
}
