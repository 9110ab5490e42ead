//! The agent API, as the console calls it: `/api/v1/agent/…` on the console's own origin,
//! with the agent's bearer token. Every call answers with the server's typed body or a
//! [`palaver_client::ApiFailure`] that says whether the server refused (with its error code)
//! or could not be reached; sending and reading are the client crate's [`fetch`] helpers.
//!
//! The calls are plain functions returning the client's future rather than `async fn`s: an
//! `async fn` per endpoint would wrap it in one more state machine each, which the console's
//! size pays for.

use gloo_net::http::{Request, RequestBuilder};
pub use palaver_client::ApiFailure;
use palaver_client::fetch::{self, bearer, json};
use palaver_protocol::{
    AgentLogin, AgentSession, AgentStatus, AgentToken, ChannelInfo, Message, MessagePage,
    SendMessage, SetRegarding,
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The console's sentence for a server it cannot reach.
const UNREACHABLE: &str = "The server cannot be reached. Check the connection and try again.";

/// A failed call in words for the agent.
pub trait Words {
    /// The server's own sentence when it refused, or its message for `field` when it gave
    /// one; the console's own when it could not be reached.
    fn words(&self, field: &str) -> String;
}

impl Words for ApiFailure {
    fn words(&self, field: &str) -> String {
        self.describe(field, UNREACHABLE)
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
        fetch::socket_url(&self.server, "/api/v1/agent/events")
    }

    /// Signs in: a token for the agent's name and password.
    pub fn login(
        &self,
        login: &AgentLogin,
    ) -> impl Future<Output = Result<AgentToken, ApiFailure>> + use<> {
        self.call(Request::post(&self.url("/login")), json(login))
    }

    /// Signs out: the server forgets the token.
    pub async fn logout(&self) -> Result<(), ApiFailure> {
        let request = self.authorized(Request::post(&self.url("/logout")));
        fetch::send(request, None).await.map(drop)
    }

    /// The signed-in agent's status: capacity, load, availability.
    pub fn me(&self) -> impl Future<Output = Result<AgentStatus, ApiFailure>> + use<> {
        self.call(Request::get(&self.url("/me")), None)
    }

    /// Every agent's status, for the team list and the agent filter.
    pub fn agents(&self) -> impl Future<Output = Result<Vec<AgentStatus>, ApiFailure>> + use<> {
        self.call(Request::get(&self.url("/agents")), None)
    }

    /// The channels (*Configurations*) and their names.
    pub fn channels(&self) -> impl Future<Output = Result<Vec<ChannelInfo>, ApiFailure>> + use<> {
        self.call(Request::get(&self.url("/channels")), None)
    }

    /// The inbox; `query` comes from [`crate::inbox::Filters::query`].
    pub async fn sessions(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<AgentSession>, ApiFailure> {
        let request = Request::get(&self.url("/sessions")).query(query.iter().cloned());
        self.call(request, None).await
    }

    /// One session as it stands.
    pub fn session(
        &self,
        id: Uuid,
    ) -> impl Future<Output = Result<AgentSession, ApiFailure>> + use<> {
        let url = self.url(&format!("/sessions/{id}"));
        self.call(Request::get(&url), None)
    }

    /// A page of a session's messages; `query` is `limit`, with `before` or `after`.
    pub async fn messages(
        &self,
        id: Uuid,
        query: &[(&str, String)],
    ) -> Result<MessagePage, ApiFailure> {
        let url = self.url(&format!("/sessions/{id}/messages"));
        self.call(Request::get(&url).query(query.iter().cloned()), None)
            .await
    }

    /// Sends a reply; a retry with the same client id answers with the original.
    pub fn reply(
        &self,
        id: Uuid,
        message: &SendMessage,
    ) -> impl Future<Output = Result<Message, ApiFailure>> + use<> {
        let url = self.url(&format!("/sessions/{id}/messages"));
        self.call(Request::post(&url), json(message))
    }

    /// `join`, `wait` or `end`: an action on a session that answers with the session.
    pub fn act(
        &self,
        id: Uuid,
        action: Action,
    ) -> impl Future<Output = Result<AgentSession, ApiFailure>> + use<> {
        let url = self.url(&format!("/sessions/{id}/{}", action.path()));
        self.call(Request::post(&url), None)
    }

    /// Sets or clears a session's Regarding; answers with the session.
    pub fn set_regarding(
        &self,
        id: Uuid,
        regarding: Option<String>,
    ) -> impl Future<Output = Result<AgentSession, ApiFailure>> + use<> {
        let url = self.url(&format!("/sessions/{id}/regarding"));
        self.call(Request::put(&url), json(&SetRegarding { regarding }))
    }

    /// Chat History: every session of a contact, newest first.
    pub fn contact_sessions(
        &self,
        contact: Uuid,
    ) -> impl Future<Output = Result<Vec<AgentSession>, ApiFailure>> + use<> {
        let url = self.url(&format!("/contacts/{contact}/sessions"));
        self.call(Request::get(&url), None)
    }

    /// Sends `request` with `body`, with the token when there is one. Not `async` itself, so
    /// that each answer's type adds no state machine of its own around the client's.
    fn call<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        body: Option<String>,
    ) -> impl Future<Output = Result<T, ApiFailure>> + use<T> {
        fetch::call(self.authorized(request), body)
    }

    fn authorized(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(token) => bearer(request, token),
            None => request,
        }
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
