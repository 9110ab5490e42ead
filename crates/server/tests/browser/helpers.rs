//! The browser tests' harness: [`TestApp`] runs the server in-process on port 0 with a fresh
//! SQLite file, the demo page and the built widget, and starts chromedriver for a headless
//! Chromium with a fresh profile.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use fantoccini::{Client, ClientBuilder};
use palaver_server::{Application, Config};
use serde_json::json;
use tempfile::TempDir;

/// How long a condition may take before a test gives up on it.
const DEADLINE: Duration = Duration::from_secs(20);
/// How often a condition is checked again.
const POLL: Duration = Duration::from_millis(100);

/// A running server and the chromedriver that drives a browser at it.
pub struct TestApp {
    port: u16,
    chromedriver: ChromeDriver,
    /// Holds the database and the browser profile; removed when the test ends.
    dir: TempDir,
}

impl TestApp {
    /// Starts the server with the demo page and the built widget, and chromedriver.
    pub async fn spawn() -> Self {
        let widget_dir = widget_dir();
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let database_url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("palaver.db").display()
        );
        let config = Config::try_parse_from([
            "palaver-server",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &database_url,
            "--widget-dir",
            &widget_dir.display().to_string(),
            "--demo",
        ])
        .expect("a valid server configuration");
        let app = Application::build(config).await.expect("build the server");
        let port = app.port();
        tokio::spawn(app.run_until_stopped());

        let chromedriver = ChromeDriver::start().await;
        Self {
            port,
            chromedriver,
            dir,
        }
    }

    /// The server's URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Opens a fresh headless Chromium, runs `scenario` in it, closes the browser whatever
    /// happened, then fails the test if the scenario failed.
    pub async fn browse(&self, scenario: impl AsyncFnOnce(&Client) -> Result<()>) {
        let profile = self.dir.path().join("chromium-profile");
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
        let browser = ClientBuilder::native()
            .capabilities(capabilities)
            .connect(&self.chromedriver.url)
            .await
            .expect("open a Chromium session through chromedriver");
        let outcome = scenario(&browser).await;
        let closed = browser.close().await;
        if let Err(error) = outcome {
            panic!("{error:#}");
        }
        closed.expect("close the browser");
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

/// The built widget: `PALAVER_WIDGET_DIR`, or `dist/` at the repository root.
fn widget_dir() -> PathBuf {
    let dir = std::env::var_os("PALAVER_WIDGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist"),
        PathBuf::from,
    );
    for file in [
        "widget.js",
        "palaver-widget.js",
        "palaver-widget_bg.wasm",
        "widget.css",
    ] {
        assert!(
            dir.join(file).is_file(),
            "the built widget is missing ({} not found); run `cargo xtask test`, which builds \
             it before running the tests",
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
