//! The server's REST API, as the widget calls it. Every call answers with the server's typed
//! body or an [`ApiFailure`] (the client crate's, shared with the console) that says whether the server refused (with its error body) or
//! could not be reached.

use gloo_net::http::{Request, RequestBuilder, Response};
pub use palaver_client::ApiFailure;
use palaver_protocol::{
    ChannelInfo, ErrorBody, ErrorCode, Identified, Identify, Message, MessagePage, SendMessage,
    Session, SessionCreated, SetRegarding, StartSession,
};
use serde::{Serialize, de::DeserializeOwned};

/// The API of one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    base: String,
}

impl Api {
    pub fn new(server: &str) -> Self {
        Self {
            base: format!("{server}/api/v1"),
        }
    }

    pub fn events_url(&self) -> String {
        let url = format!("{}/session/events", self.base);
        match url.strip_prefix("https://") {
            Some(rest) => format!("wss://{rest}"),
            None => url.replacen("http://", "ws://", 1),
        }
    }

    pub async fn channel(&self, channel: &str) -> Result<ChannelInfo, ApiFailure> {
        call(
            Request::get(&format!("{}/channels/{channel}", self.base)),
            None::<&()>,
        )
        .await
    }

    pub async fn start(
        &self,
        channel: &str,
        details: &StartSession,
    ) -> Result<SessionCreated, ApiFailure> {
        let url = format!("{}/channels/{channel}/sessions", self.base);
        call(Request::post(&url), Some(details)).await
    }

    /// Trades a persistent channel's identity token for a bearer token of the visitor API.
    pub async fn identify(
        &self,
        channel: &str,
        identity_token: String,
    ) -> Result<Identified, ApiFailure> {
        let url = format!("{}/channels/{channel}/identify", self.base);
        call(Request::post(&url), Some(&Identify { identity_token })).await
    }

    pub async fn session(&self, token: &str) -> Result<Session, ApiFailure> {
        let request = Request::get(&format!("{}/session", self.base));
        call(authorized(request, token), None::<&()>).await
    }

    /// `query` is `?after=N`, `?before=N&limit=M` and the like.
    pub async fn messages(&self, token: &str, query: &str) -> Result<MessagePage, ApiFailure> {
        let request = Request::get(&format!("{}/session/messages{query}", self.base));
        call(authorized(request, token), None::<&()>).await
    }

    pub async fn send(&self, token: &str, message: &SendMessage) -> Result<Message, ApiFailure> {
        let request = Request::post(&format!("{}/session/messages", self.base));
        call(authorized(request, token), Some(message)).await
    }

    pub async fn end(&self, token: &str) -> Result<Session, ApiFailure> {
        let request = Request::post(&format!("{}/session/end", self.base));
        call(authorized(request, token), Some(&serde_json::json!({}))).await
    }

    pub async fn set_regarding(
        &self,
        token: &str,
        regarding: Option<String>,
    ) -> Result<Session, ApiFailure> {
        let request = Request::put(&format!("{}/session/regarding", self.base));
        call(
            authorized(request, token),
            Some(&SetRegarding { regarding }),
        )
        .await
    }
}

fn authorized(request: RequestBuilder, token: &str) -> RequestBuilder {
    request.header("Authorization", &format!("Bearer {token}"))
}

async fn call<T: DeserializeOwned>(
    request: RequestBuilder,
    body: Option<&impl Serialize>,
) -> Result<T, ApiFailure> {
    let sent = match body {
        Some(body) => {
            request
                .json(body)
                .map_err(|_| ApiFailure::Unreachable)?
                .send()
                .await
        }
        None => request.send().await,
    };
    let response = sent.map_err(|_| ApiFailure::Unreachable)?;
    if response.ok() {
        return response.json().await.map_err(|_| ApiFailure::Unreachable);
    }
    Err(refused(response).await)
}

async fn refused(response: Response) -> ApiFailure {
    let status = response.status();
    let body = response.json().await.unwrap_or_else(|_| ErrorBody {
        // Not one of the server's own answers (a proxy's page, say): only its status is known.
        error: ErrorCode::Unknown,
        message: format!("The chat service answered {status}."),
        fields: Default::default(),
        end_reason: None,
    });
    ApiFailure::Refused { status, body }
}
