//! The agent API, as the console calls it: `/api/v1/agent/…` on the console's own origin,
//! with the agent's bearer token. Every call answers with the server's typed body or an
//! [`ApiFailure`] that says whether the server refused (with its error body) or could not be
//! reached.

use gloo_net::http::{Request, RequestBuilder, Response};
use palaver_protocol::{
    AgentLogin, AgentSession, AgentStatus, AgentToken, ChannelInfo, ErrorBody, ErrorCode, Message,
    MessagePage, SendMessage, SetRegarding,
};
use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFailure {
    /// The server answered with an error status and body.
    Refused { status: u16, body: ErrorBody },
    /// The server could not be reached (offline, down, restarting).
    Unreachable,
}

impl ApiFailure {
    /// Whether the token is missing, expired or signed out.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Refused { status: 401, .. })
    }

    /// What went wrong, in words for the agent: the server's own sentence when it refused,
    /// or its message for `field` when it gave one.
    pub fn describe(&self, field: &str) -> String {
        match self {
            Self::Refused { body, .. } => body
                .fields
                .get(field)
                .cloned()
                .unwrap_or_else(|| body.message.clone()),
            Self::Unreachable => {
                "The server cannot be reached. Check the connection and try again.".to_owned()
            }
        }
    }
}

/// The agent API of one server, with or without a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    /// The server's origin, empty for the console's own.
    server: String,
    token: Option<String>,
}

impl Api {
    /// The API of `server` (an origin such as `http://127.0.0.1:8080`, or empty for the
    /// origin the console was loaded from).
    pub fn new(server: impl Into<String>) -> Self {
        Self {
            server: server.into(),
            token: None,
        }
    }

    /// The same API, calling with `token`.
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            server: self.server.clone(),
            token: Some(token.to_owned()),
        }
    }

    /// The token calls carry; empty without one.
    pub fn token(&self) -> &str {
        self.token.as_deref().unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/agent{path}", self.server)
    }

    /// The agent event stream's address: the server's, or the page's own host, with `ws:` or
    /// `wss:` matching the page.
    pub fn events_url(&self) -> String {
        if let Some(rest) = self.server.strip_prefix("https://") {
            return format!("wss://{rest}/api/v1/agent/events");
        }
        if let Some(rest) = self.server.strip_prefix("http://") {
            return format!("ws://{rest}/api/v1/agent/events");
        }
        let location = leptos::prelude::window().location();
        let scheme = match location.protocol().as_deref() {
            Ok("https:") => "wss",
            _ => "ws",
        };
        let host = location.host().unwrap_or_default();
        format!("{scheme}://{host}/api/v1/agent/events")
    }

    pub async fn login(&self, login: &AgentLogin) -> Result<AgentToken, ApiFailure> {
        self.call(Request::post(&self.url("/login")), Some(login))
            .await
    }

    pub async fn logout(&self) -> Result<(), ApiFailure> {
        self.send(Request::post(&self.url("/logout")), None::<&()>)
            .await
            .map(drop)
    }

    pub async fn me(&self) -> Result<AgentStatus, ApiFailure> {
        self.call(Request::get(&self.url("/me")), None::<&()>).await
    }

    pub async fn agents(&self) -> Result<Vec<AgentStatus>, ApiFailure> {
        self.call(Request::get(&self.url("/agents")), None::<&()>)
            .await
    }

    pub async fn channels(&self) -> Result<Vec<ChannelInfo>, ApiFailure> {
        self.call(Request::get(&self.url("/channels")), None::<&()>)
            .await
    }

    /// The inbox; `query` comes from [`crate::inbox::Filters::query`].
    pub async fn sessions(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<AgentSession>, ApiFailure> {
        let request = Request::get(&self.url("/sessions")).query(query.iter().cloned());
        self.call(request, None::<&()>).await
    }

    pub async fn session(&self, id: Uuid) -> Result<AgentSession, ApiFailure> {
        let url = self.url(&format!("/sessions/{id}"));
        self.call(Request::get(&url), None::<&()>).await
    }

    /// A page of a session's messages; `query` is `limit`, with `before` or `after`.
    pub async fn messages(
        &self,
        id: Uuid,
        query: &[(&str, String)],
    ) -> Result<MessagePage, ApiFailure> {
        let url = self.url(&format!("/sessions/{id}/messages"));
        self.call(Request::get(&url).query(query.iter().cloned()), None::<&()>)
            .await
    }

    pub async fn reply(&self, id: Uuid, message: &SendMessage) -> Result<Message, ApiFailure> {
        let url = self.url(&format!("/sessions/{id}/messages"));
        self.call(Request::post(&url), Some(message)).await
    }

    /// `join`, `wait` or `end`: an action on a session that answers with the session.
    pub async fn act(&self, id: Uuid, action: Action) -> Result<AgentSession, ApiFailure> {
        let url = self.url(&format!("/sessions/{id}/{}", action.path()));
        self.call(Request::post(&url), None::<&()>).await
    }

    pub async fn set_regarding(
        &self,
        id: Uuid,
        regarding: Option<String>,
    ) -> Result<AgentSession, ApiFailure> {
        let url = self.url(&format!("/sessions/{id}/regarding"));
        self.call(Request::put(&url), Some(&SetRegarding { regarding }))
            .await
    }

    /// Chat History: every session of a contact, newest first.
    pub async fn contact_sessions(&self, contact: Uuid) -> Result<Vec<AgentSession>, ApiFailure> {
        let url = self.url(&format!("/contacts/{contact}/sessions"));
        self.call(Request::get(&url), None::<&()>).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        body: Option<&impl Serialize>,
    ) -> Result<T, ApiFailure> {
        let response = self.send(request, body).await?;
        response.json().await.map_err(|_| ApiFailure::Unreachable)
    }

    /// Sends the request; any status outside 2xx becomes [`ApiFailure::Refused`].
    async fn send(
        &self,
        request: RequestBuilder,
        body: Option<&impl Serialize>,
    ) -> Result<Response, ApiFailure> {
        let request = match &self.token {
            Some(token) => request.header("Authorization", &format!("Bearer {token}")),
            None => request,
        };
        let request = match body {
            Some(body) => request.json(body),
            None => request.build(),
        };
        let response = request
            .map_err(|_| ApiFailure::Unreachable)?
            .send()
            .await
            .map_err(|_| ApiFailure::Unreachable)?;
        if response.ok() {
            return Ok(response);
        }
        let status = response.status();
        // A body that is not the server's (a proxy's page, a crash) has no code this build
        // knows: the status and the sentence still say what happened.
        let body = response.json().await.unwrap_or_else(|_| ErrorBody {
            error: ErrorCode::Unknown,
            message: format!("The server answered {status}."),
            fields: Default::default(),
            end_reason: None,
        });
        Err(ApiFailure::Refused { status, body })
    }
}

/// What an agent can do to a session with one `POST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Join,
    Wait,
    End,
}

impl Action {
    fn path(self) -> &'static str {
        match self {
            Self::Join => "join",
            Self::Wait => "wait",
            Self::End => "end",
        }
    }
}
