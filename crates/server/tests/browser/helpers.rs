//! The browser tests' harness: [`TestApp`] runs the server in-process on port 0 with a fresh
//! SQLite file, the demo page and the built widget, and starts chromedriver for a headless
//! Chromium with a fresh profile.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use clap::Parser;
use fantoccini::{Client, ClientBuilder};
use futures_util::{SinkExt, StreamExt};
use palaver_protocol::{
    AgentSession, AgentToken, Message, MessagePage,
    frames::{AgentEvent, AgentFrame},
};
use palaver_server::{Application, Config, clock::ManualClock};
use serde_json::json;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use uuid::Uuid;

/// The channels the browser tests run with: the demo's live channel, and a persistent one
/// whose site secret the tests hold, so they can sign tokens the way a host site would.
const CHANNELS: &str = r#"
[[channel]]
id = "demo"
name = "Demo"
default_region = "US"

[[channel]]
id = "demo-members"
name = "Demo (signed in)"
mode = "persistent"

[channel.identity]
algorithm = "HS256"
secret = "{secret}"
audience = "palaver"
"#;

/// The persistent channel's shared secret.
pub const MEMBERS_SECRET: &str = "browser-tests-secret-0123456789abcdef";

/// Senders and delivery state as message rows show them.
pub const VISITOR: &str = "visitor";
pub const AGENT: &str = "agent";
pub const SYSTEM: &str = "system";
pub const SENT: &str = "sent";

/// The time zone the browsers run in, far from UTC so that a time shown in UTC where the
/// agent's own time is due would show.
pub const BROWSER_TIME_ZONE: &str = "Asia/Kolkata";

/// How long a condition may take before a test gives up on it.
const DEADLINE: Duration = Duration::from_secs(30);
/// How often a condition is checked again.
const POLL: Duration = Duration::from_millis(100);

/// A running server and the chromedriver that drives a browser at it.
pub struct TestApp {
    port: u16,
    database_url: String,
    widget_dir: PathBuf,
    console_dir: PathBuf,
    /// The server's clock, which tests move instead of waiting.
    pub clock: Arc<ManualClock>,
    server: tokio::sync::Mutex<Option<Running>>,
    pub client: reqwest::Client,
    chromedriver: ChromeDriver,
    /// Holds the database and the browser profile; removed when the test ends.
    dir: TempDir,
}

/// A server task and the switch that stops it.
struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    /// Starts the server with the demo page and the built widget, and chromedriver.
    pub async fn spawn() -> Self {
        let widget_dir = built("PALAVER_WIDGET_DIR", "../../dist", &WIDGET_FILES);
        let console_dir = built("PALAVER_CONSOLE_DIR", "../console/dist", &["index.html"]);
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let channels = CHANNELS.replace("{secret}", MEMBERS_SECRET);
        std::fs::write(dir.path().join("channels.toml"), channels).expect("write the channels");
        let database_url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("palaver.db").display()
        );
        let mut app = Self {
            port: 0,
            database_url,
            widget_dir,
            console_dir,
            clock: Arc::new(ManualClock::new(Utc::now())),
            server: tokio::sync::Mutex::new(None),
            client: reqwest::Client::new(),
            chromedriver: ChromeDriver::start().await,
            dir,
        };
        app.port = app.start_server().await;
        app
    }

    /// Starts the server, on the same port and database when it ran before; answers the port.
    pub async fn start_server(&self) -> u16 {
        let listen = format!("127.0.0.1:{}", self.port);
        let config = Config::try_parse_from([
            "palaver-server",
            "--listen",
            &listen,
            "--database-url",
            &self.database_url,
            "--widget-dir",
            &self.widget_dir.display().to_string(),
            "--console-dir",
            &self.console_dir.display().to_string(),
            "--channels",
            &self.dir.path().join("channels.toml").display().to_string(),
            "--demo",
            "--sweep-interval",
            "50ms",
        ])
        .expect("a valid server configuration");
        let app = Application::build_with_clock(config, self.clock.clone())
            .await
            .expect("build the server");
        let port = app.port();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        *self.server.lock().await = Some(Running { stop, task });
        port
    }

    /// Stops the server as an outage would: open streams drop and the port stops answering.
    pub async fn stop_server(&self) {
        let running = self.server.lock().await.take();
        if let Some(running) = running {
            let _ = running.stop.send(());
            running
                .task
                .await
                .expect("the server task ends")
                .expect("the server stops cleanly");
        }
    }

    /// Moves the server's clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
    }

    /// Signs in the demo agent (created by `--demo`) and returns its token.
    pub async fn agent_token(&self) -> String {
        let login: AgentToken = self
            .client
            .post(self.url("/api/v1/agent/login"))
            .json(&json!({"name": "demo", "password": "demo"}))
            .send()
            .await
            .expect("sign in")
            .json()
            .await
            .expect("a token");
        login.token
    }

    /// Opens a console stream for the agent and makes them available, as a console would;
    /// they stay available while the returned stream is held.
    pub async fn online(
        &self,
        token: &str,
    ) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>
    {
        let url = format!("ws://127.0.0.1:{}/api/v1/agent/events", self.port);
        let (mut socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the agent stream opens");
        for frame in [
            AgentFrame::Auth {
                token: token.to_owned(),
            },
            AgentFrame::Presence { available: true },
        ] {
            let text = serde_json::to_string(&frame).expect("serializes");
            socket
                .send(WsMessage::Text(text.into()))
                .await
                .expect("a frame sent");
        }
        while let Some(Ok(frame)) = socket.next().await {
            if let WsMessage::Text(text) = frame
                && let Ok(AgentEvent::Agent { agent }) = serde_json::from_str(text.as_str())
                && agent.available
            {
                return socket;
            }
        }
        panic!("the server never announced the agent available");
    }

    /// The inbox, as the agent API lists it, newest first.
    pub async fn inbox(&self, token: &str) -> Vec<AgentSession> {
        self.client
            .get(self.url("/api/v1/agent/sessions"))
            .bearer_auth(token)
            .send()
            .await
            .expect("list sessions")
            .json()
            .await
            .expect("sessions")
    }

    /// Every message of a session, as the agent reads it.
    pub async fn transcript(&self, token: &str, session: Uuid) -> Vec<Message> {
        let page: MessagePage = self
            .client
            .get(self.url(&format!(
                "/api/v1/agent/sessions/{session}/messages?limit=200"
            )))
            .bearer_auth(token)
            .send()
            .await
            .expect("read messages")
            .json()
            .await
            .expect("a page");
        page.messages
    }

    /// The agent replies in a session.
    pub async fn reply(&self, token: &str, session: Uuid, body: &str) {
        let response = self
            .client
            .post(self.url(&format!("/api/v1/agent/sessions/{session}/messages")))
            .bearer_auth(token)
            .json(&json!({"client_msg_id": Uuid::new_v4().to_string(), "body": body}))
            .send()
            .await
            .expect("reply");
        assert!(response.status().is_success(), "the reply is accepted");
    }

    /// The agent ends a session.
    pub async fn end_as_agent(&self, token: &str, session: Uuid) {
        let response = self
            .client
            .post(self.url(&format!("/api/v1/agent/sessions/{session}/end")))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await
            .expect("end");
        assert!(response.status().is_success(), "the end is accepted");
    }

    /// The server's URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The URL of the demo members' page with `token` in its embed tag
    /// (`data-identity-token`).
    pub fn signed_in_page(&self, token: &str) -> String {
        self.url(&format!("/demo/signed-in?identity_token={token}"))
    }

    /// Opens a fresh headless Chromium, runs `scenario` in it, closes the browser whatever
    /// happened, then fails the test if the scenario failed.
    pub async fn browse(&self, scenario: impl AsyncFnOnce(&Client) -> Result<()>) {
        let browser = self.open_browser("chromium-profile").await;
        let outcome = scenario(&browser).await;
        let closed = browser.close().await;
        if let Err(error) = outcome {
            panic!("{error:#}");
        }
        closed.expect("close the browser");
    }

    /// Like [`TestApp::browse`] with two browsers of separate profiles, as two devices.
    pub async fn browse_two(&self, scenario: impl AsyncFnOnce(&Client, &Client) -> Result<()>) {
        let laptop = self.open_browser("laptop-profile").await;
        let phone = self.open_browser("phone-profile").await;
        let outcome = scenario(&laptop, &phone).await;
        let closed = (laptop.close().await, phone.close().await);
        if let Err(error) = outcome {
            panic!("{error:#}");
        }
        closed.0.expect("close the first browser");
        closed.1.expect("close the second browser");
    }

    async fn open_browser(&self, profile: &str) -> Client {
        let profile = self.dir.path().join(profile);
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    // Without these Chromium keeps reaching for the internet.
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        })
        .as_object()
        .cloned()
        .expect("the capabilities are a JSON object");
        ClientBuilder::native()
            .capabilities(capabilities)
            .connect(&self.chromedriver.url)
            .await
            .expect("open a Chromium session through chromedriver")
    }

    /// An identity token for `sub` on `demo-members`, signed as its site would, with `extra`
    /// claims replacing the defaults (valid for an hour on the server's clock).
    pub fn identity_token(&self, sub: &str, extra: serde_json::Value) -> String {
        self.identity_token_with(sub, extra, MEMBERS_SECRET.as_bytes())
    }

    /// The same, signed with any secret.
    pub fn identity_token_with(
        &self,
        sub: &str,
        extra: serde_json::Value,
        secret: &[u8],
    ) -> String {
        use palaver_server::clock::Clock;
        let now = self.clock.now();
        let mut claims = json!({
            "sub": sub,
            "name": "Grace Hopper",
            "aud": "palaver",
            "exp": (now + chrono::Duration::hours(1)).timestamp(),
        });
        for (key, value) in extra.as_object().into_iter().flatten() {
            claims[key] = value.clone();
        }
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .expect("sign a token")
    }

    /// The agent puts a conversation aside as waiting.
    pub async fn wait_as_agent(&self, token: &str, session: Uuid) {
        let response = self
            .client
            .post(self.url(&format!("/api/v1/agent/sessions/{session}/wait")))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await
            .expect("wait");
        assert!(response.status().is_success(), "waiting is accepted");
    }
}

/// Polls `check` until it returns `Some`, failing with `what` after [`DEADLINE`].
pub async fn wait_for<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> Result<T> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!("gave up after {DEADLINE:?} waiting for {what}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The files a built widget has.
const WIDGET_FILES: [&str; 4] = [
    "widget.js",
    "palaver-widget.js",
    "palaver-widget_bg.wasm",
    "widget.css",
];

/// A built app's directory: the one `variable` names, or `default` (from this crate's
/// directory), checked to hold `files`.
fn built(variable: &str, default: &str, files: &[&str]) -> PathBuf {
    let dir = std::env::var_os(variable).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(default),
        PathBuf::from,
    );
    for file in files {
        assert!(
            dir.join(file).is_file(),
            "a built file is missing ({} not found); run `cargo xtask test`, which builds the \
             widget and the console before running the tests",
            dir.join(file).display()
        );
    }
    dir
}

/// Debian's chromedriver on a free port, stopped when dropped.
struct ChromeDriver {
    process: Child,
    url: String,
}

impl ChromeDriver {
    async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("find a free port")
            .port();
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .env("TZ", BROWSER_TIME_ZONE)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "start chromedriver; install Chromium and its driver with `cargo xtask test` \
                 (Debian packages chromium and chromium-driver)",
            );
        let driver = Self {
            process,
            url: format!("http://127.0.0.1:{port}"),
        };
        let status = format!("{}/status", driver.url);
        wait_for("chromedriver to accept connections", async || {
            let response = reqwest::get(&status).await.ok()?;
            response.status().is_success().then_some(())
        })
        .await
        .context("starting chromedriver")
        .expect("chromedriver is ready");
        driver
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // Ignored: the process may already have exited; nothing else is left to do.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// What a [`Page`] looks inside: the widget's shadow root, or the whole document (the
/// console).
#[derive(Clone, Copy)]
enum Scope {
    Widget,
    Document,
}

/// A part of a page reached by `data-testid`: the widget or the console.
pub struct Page<'a> {
    browser: &'a Client,
    scope: Scope,
}

/// The widget on the page, reached inside its shadow root.
pub struct Widget<'a>(Page<'a>);

impl<'a> std::ops::Deref for Widget<'a> {
    type Target = Page<'a>;

    fn deref(&self) -> &Page<'a> {
        &self.0
    }
}

impl<'a> Page<'a> {
    /// Runs `body` with `root` bound to the scope (the widget's shadow root, or the
    /// document); `arguments[0]` is `arg`.
    pub async fn query(&self, body: &str, arg: &str) -> Result<serde_json::Value> {
        let prefix = match self.scope {
            Scope::Widget => {
                "const root = document.getElementById('palaver-widget')?.shadowRoot; \
                 if (!root) { return null; }"
            }
            Scope::Document => "const root = document;",
        };
        let script = format!("{prefix} {body}");
        Ok(self.browser.execute(&script, vec![json!(arg)]).await?)
    }

    /// The element with this `data-testid`, once it is shown; a failure carries what the
    /// page showed instead.
    pub async fn find(&self, testid: &str) -> Result<fantoccini::elements::Element> {
        self.find_css(&format!("[data-testid={testid}]")).await
    }

    /// The element this CSS selector picks, once it is shown.
    pub async fn find_css(&self, selector: &str) -> Result<fantoccini::elements::Element> {
        let found = self.find_shown(selector).await;
        if found.is_err() {
            let shown = match self.scope {
                Scope::Widget => self.query("return root.innerHTML;", "").await,
                Scope::Document => self.query("return root.body.innerHTML;", "").await,
            };
            return found.with_context(|| format!("the page showed: {shown:?}"));
        }
        found
    }

    async fn find_shown(&self, selector: &str) -> Result<fantoccini::elements::Element> {
        let locator = fantoccini::Locator::Css(selector);
        wait_for(&format!("{selector} to be shown"), async || {
            let element = match self.scope {
                Scope::Widget => {
                    let host = self
                        .browser
                        .find(fantoccini::Locator::Id("palaver-widget"))
                        .await
                        .ok()?;
                    host.shadow_root().await.ok()?.find(locator).await.ok()?
                }
                Scope::Document => self.browser.find(locator).await.ok()?,
            };
            element.is_displayed().await.ok()?.then_some(element)
        })
        .await
    }

    /// Clicks the element, finding it again if the widget replaced it meanwhile (the
    /// loader's launcher gives way to the widget's own).
    pub async fn click(&self, testid: &str) -> Result<()> {
        wait_for(&format!("a click on [data-testid={testid}]"), async || {
            self.find(testid).await.ok()?.click().await.ok()
        })
        .await
    }

    /// Replaces the text of an input or textarea.
    pub async fn fill(&self, testid: &str, text: &str) -> Result<()> {
        wait_for(&format!("typing into [data-testid={testid}]"), async || {
            let field = self.find(testid).await.ok()?;
            field.clear().await.ok()?;
            field.send_keys(text).await.ok()
        })
        .await
    }

    /// The text of the element with this `data-testid`, or "" when it is absent.
    pub async fn text(&self, testid: &str) -> Result<String> {
        let text = self
            .query(
                "const el = root.querySelector(`[data-testid=${arguments[0]}]`); \
                 return el ? el.textContent.trim() : '';",
                testid,
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// Waits until the element's text is `expected`.
    pub async fn wait_text(&self, testid: &str, expected: &str) -> Result<()> {
        wait_for(
            &format!("[data-testid={testid}] to read {expected:?}"),
            async || (self.text(testid).await.ok()? == expected).then_some(()),
        )
        .await
    }

    /// Whether an element with this `data-testid` is on the page now.
    pub async fn has(&self, testid: &str) -> Result<bool> {
        let found = self
            .query(
                "return !!root.querySelector(`[data-testid=${arguments[0]}]`);",
                testid,
            )
            .await?;
        Ok(found == json!(true))
    }

    /// The conversation as shown: (sender, status, text) per row; the console shows no
    /// status, which reads as "".
    pub async fn messages(&self) -> Result<Vec<(String, String, String)>> {
        let rows = self
            .query(
                "return [...root.querySelectorAll('[data-testid=message]')].map(row => \
                 [row.dataset.sender, row.dataset.status ?? '', \
                  row.querySelector('[data-testid=message-body]').textContent]);",
                "",
            )
            .await?;
        Ok(serde_json::from_value(rows).unwrap_or_default())
    }

    /// Waits until the conversation shows exactly these (sender, status, text) rows.
    pub async fn wait_messages(&self, expected: &[(&str, &str, &str)]) -> Result<()> {
        let expected: Vec<(String, String, String)> = expected
            .iter()
            .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
            .collect();
        let mut last = Vec::new();
        let waited = wait_for("the conversation", async || {
            last = self.messages().await.ok()?;
            (last == expected).then_some(())
        })
        .await;
        waited.with_context(|| format!("expected {expected:?}, the widget shows {last:?}"))
    }
}

/// The agent console, a page of its own.
pub struct Console<'a>(Page<'a>);

impl<'a> std::ops::Deref for Console<'a> {
    type Target = Page<'a>;

    fn deref(&self) -> &Page<'a> {
        &self.0
    }
}

impl<'a> Console<'a> {
    /// Opens the console at its sign-in form.
    pub async fn open(browser: &'a Client, app: &TestApp) -> Result<Self> {
        browser.goto(&app.url("/console/")).await?;
        let console = Self(Page {
            browser,
            scope: Scope::Document,
        });
        console.find("sign-in-form").await?;
        Ok(console)
    }

    /// Opens the console and signs in as the demo agent.
    pub async fn sign_in(browser: &'a Client, app: &TestApp) -> Result<Self> {
        let console = Self::open(browser, app).await?;
        console.submit_credentials("demo", "demo").await?;
        Ok(console)
    }

    /// Fills in the sign-in form and sends it, then waits for the inbox.
    pub async fn submit_credentials(&self, name: &str, password: &str) -> Result<()> {
        self.fill("sign-in-name", name).await?;
        self.fill("sign-in-password", password).await?;
        self.click("sign-in-submit").await?;
        self.find("inbox").await?;
        Ok(())
    }

    /// The inbox row of a session, once it is shown.
    pub async fn row(&self, session: Uuid) -> Result<fantoccini::elements::Element> {
        self.find_css(&row_selector(session)).await
    }

    /// The text of one cell of a session's row, lowercased, or "" when absent.
    pub async fn cell(&self, session: Uuid, cell: &str) -> Result<String> {
        let text = self
            .query(
                &format!(
                    "const cell = root.querySelector('{} [data-testid={cell}]'); \
                     return cell ? cell.textContent.trim().toLowerCase() : '';",
                    row_selector(session)
                ),
                "",
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// Waits until a cell of a session's row contains `expected` (lowercase).
    pub async fn wait_cell(&self, session: Uuid, cell: &str, expected: &str) -> Result<()> {
        let mut last = String::new();
        let waited = wait_for(&format!("{cell} to read {expected:?}"), async || {
            last = self.cell(session, cell).await.ok()?;
            last.contains(expected).then_some(())
        })
        .await;
        waited.with_context(|| format!("{cell} reads {last:?}"))
    }

    /// Opens a session's conversation from its inbox row.
    pub async fn open_session(&self, session: Uuid) -> Result<()> {
        wait_for("a click on the inbox row", async || {
            self.row(session).await.ok()?.click().await.ok()
        })
        .await?;
        self.find_css(&format!(
            "[data-testid=conversation][data-session-id=\"{session}\"]"
        ))
        .await?;
        Ok(())
    }

    /// The value of an input or textarea.
    pub async fn value(&self, testid: &str) -> Result<String> {
        let value = self
            .query(
                "return root.querySelector(`[data-testid=${arguments[0]}]`)?.value ?? '';",
                testid,
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }
}

fn row_selector(session: Uuid) -> String {
    format!("[data-testid=inbox-row][data-session-id=\"{session}\"]")
}

impl<'a> Widget<'a> {
    pub fn new(browser: &'a Client) -> Self {
        Self(Page {
            browser,
            scope: Scope::Widget,
        })
    }

    /// Goes to `url` and opens the chat there, as a visitor would.
    pub async fn visit(browser: &'a Client, url: &str) -> Result<Self> {
        browser.goto(url).await?;
        let widget = Self::new(browser);
        widget.open().await?;
        Ok(widget)
    }

    /// Reloads the page and opens the chat again.
    pub async fn reload(&self) -> Result<()> {
        self.browser.refresh().await?;
        self.open().await
    }

    /// The launcher's accessible label.
    pub async fn launcher_label(&self) -> Result<serde_json::Value> {
        self.query(
            "return root.querySelector('[data-testid=launcher]').getAttribute('aria-label');",
            "",
        )
        .await
    }

    /// Opens the chat with the launcher, as a visitor would.
    pub async fn open(&self) -> Result<()> {
        self.click("launcher").await?;
        wait_for("the panel to open", async || {
            let open = self
                .query(
                    "const panel = root.querySelector('[data-testid=panel]'); \
                     return !!panel && !panel.hidden;",
                    "",
                )
                .await
                .ok()?;
            (open == json!(true)).then_some(())
        })
        .await
    }

    /// Fills in the details form and starts the chat.
    pub async fn start_chat(&self, name: &str, phone: &str) -> Result<()> {
        self.fill("input-name", name).await?;
        self.fill("input-phone", phone).await?;
        self.click("start-chat").await?;
        self.find("composer-input").await?;
        Ok(())
    }

    /// Types a message and presses Enter.
    pub async fn say(&self, text: &str) -> Result<()> {
        self.fill("composer-input", &format!("{text}\u{E007}"))
            .await
    }
}
