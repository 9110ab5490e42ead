//! The Palaver server as its clients see it: the REST calls and the two event streams the
//! scenarios use, with the protocol crate's types.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use palaver_protocol::{
    AgentLogin, AgentToken, MessagePage, SendMessage, SessionCreated, SetRegarding, StartSession,
    frames::{AgentEvent, AgentFrame, VisitorEvent, VisitorFrame},
};
use reqwest::{RequestBuilder, Response};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::{
    socket::{self, Socket},
    target::CHANNEL,
};

/// The password of every agent the bench creates.
pub const AGENT_PASSWORD: &str = "bench-password";

/// A client of one server.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    port: u16,
}

/// A visitor's started session.
#[derive(Clone)]
pub struct Visitor {
    pub token: String,
    pub session_id: Uuid,
}

impl Api {
    pub fn new(port: u16) -> Result<Self> {
        let http = reqwest::Client::builder()
            // Loopback answers within seconds even under overload; a stuck request fails.
            .timeout(Duration::from_secs(30))
            .build()
            .context("building the HTTP client")?;
        Ok(Self { http, port })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/api/v1{path}", self.port)
    }

    /// Starts a live session for visitor number `n` (each `n` a contact of its own).
    pub async fn start(&self, n: usize) -> Result<Visitor> {
        let details = StartSession {
            name: format!("Visitor {n}"),
            phone: phone(n),
            email: None,
            regarding: None,
        };
        let created: SessionCreated = json(
            self.http
                .post(self.url(&format!("/channels/{CHANNEL}/sessions")))
                .json(&details),
        )
        .await?;
        Ok(Visitor {
            token: created.token,
            session_id: created.session.id,
        })
    }

    /// Ends the visitor's session.
    pub async fn end(&self, visitor: &Visitor) -> Result<()> {
        ok(self
            .http
            .post(self.url("/session/end"))
            .bearer_auth(&visitor.token)
            .json(&serde_json::json!({})))
        .await
    }

    pub async fn send(&self, visitor: &Visitor, body: String) -> Result<()> {
        let message = SendMessage {
            client_msg_id: Uuid::new_v4().to_string(),
            body,
        };
        ok(self
            .http
            .post(self.url("/session/messages"))
            .bearer_auth(&visitor.token)
            .json(&message))
        .await
    }

    /// One page of the visitor's history: the messages just before `before`.
    pub async fn history_page(&self, visitor: &Visitor, before: i64) -> Result<MessagePage> {
        json(
            self.http
                .get(self.url(&format!("/session/messages?before={before}")))
                .bearer_auth(&visitor.token),
        )
        .await
    }

    pub async fn set_regarding(&self, visitor: &Visitor, regarding: String) -> Result<()> {
        ok(self
            .http
            .put(self.url("/session/regarding"))
            .bearer_auth(&visitor.token)
            .json(&SetRegarding {
                regarding: Some(regarding),
            }))
        .await
    }

    /// Signs an agent in; returns their bearer token.
    pub async fn login(&self, name: &str) -> Result<String> {
        let login = AgentLogin {
            name: name.to_owned(),
            password: AGENT_PASSWORD.to_owned(),
        };
        let token: AgentToken = json(self.http.post(self.url("/agent/login")).json(&login)).await?;
        Ok(token.token)
    }

    pub async fn join(&self, agent: &str, session_id: Uuid) -> Result<()> {
        ok(self
            .http
            .post(self.url(&format!("/agent/sessions/{session_id}/join")))
            .bearer_auth(agent)
            .json(&serde_json::json!({})))
        .await
    }

    pub async fn reply(&self, agent: &str, session_id: Uuid, body: String) -> Result<()> {
        let message = SendMessage {
            client_msg_id: Uuid::new_v4().to_string(),
            body,
        };
        ok(self
            .http
            .post(self.url(&format!("/agent/sessions/{session_id}/messages")))
            .bearer_auth(agent)
            .json(&message))
        .await
    }

    /// The inbox's first page, as the console loads it.
    pub async fn inbox(&self, agent: &str) -> Result<()> {
        ok(self
            .http
            .get(self.url("/agent/sessions"))
            .bearer_auth(agent))
        .await
    }

    /// Opens the visitor's stream and waits for its `ready` frame.
    pub async fn visitor_socket(&self, visitor: &Visitor) -> Result<Socket> {
        let auth = VisitorFrame::Auth {
            token: visitor.token.clone(),
            after_seq: 0,
            session_id: Some(visitor.session_id),
        };
        let mut socket = socket::open(&self.ws_url("/session/events"), &auth).await?;
        socket::until(&mut socket, |event: &VisitorEvent| {
            matches!(event, VisitorEvent::Ready { .. })
        })
        .await?;
        Ok(socket)
    }

    /// Opens an agent's stream and waits for its `ready` frame. The agent stays unavailable:
    /// routing offers them nothing, and they take chats by joining them.
    pub async fn agent_socket(&self, agent: &str) -> Result<Socket> {
        let auth = AgentFrame::Auth {
            token: agent.to_owned(),
        };
        let mut socket = socket::open(&self.ws_url("/agent/events"), &auth).await?;
        socket::until(&mut socket, |event: &AgentEvent| {
            matches!(event, AgentEvent::Ready { .. })
        })
        .await?;
        Ok(socket)
    }

    fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}/api/v1{path}", self.port)
    }
}

/// A valid British mobile number, different for each `n` below a million.
pub fn phone(n: usize) -> String {
    format!("+447400{:06}", n % 1_000_000)
}

async fn checked(request: RequestBuilder) -> Result<Response> {
    let response = request.send().await.context("sending a request")?;
    let status = response.status();
    if !status.is_success() {
        let url = response.url().path().to_owned();
        let body = response.text().await.unwrap_or_default();
        bail!("{url} answered {status}: {body}");
    }
    Ok(response)
}

async fn ok(request: RequestBuilder) -> Result<()> {
    checked(request)
        .await?
        .bytes()
        .await
        .context("reading a response")?;
    Ok(())
}

async fn json<T: DeserializeOwned>(request: RequestBuilder) -> Result<T> {
    checked(request)
        .await?
        .json()
        .await
        .context("decoding a response")
}
