//! The server's REST API, as the widget calls it. Every call answers with the server's typed
//! body or an [`ApiFailure`] (the client crate's, shared with the console) that says whether
//! the server refused (with its error body) or could not be reached. Sending goes through the
//! client crate's [`fetch`] helpers, whose sending half is not generic: one copy serves every
//! endpoint, and only the parsing of each answer is compiled per type. The calls are plain
//! functions returning that future rather than `async fn`s, which would wrap it in one more
//! state machine each and cost the widget's size.

use std::future::Future;

use futures::FutureExt;
use gloo_net::http::{Request, RequestBuilder};
pub use palaver_client::ApiFailure;
use palaver_client::fetch::{self, bearer, json};
use palaver_protocol::{
    ChannelInfo, ErrorCode, Identified, Identify, Message, MessagePage, SendMessage, Session,
    SessionCreated, SetRegarding, StartSession,
};
use serde::de::DeserializeOwned;

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

    pub fn channel(
        &self,
        channel: &str,
    ) -> impl Future<Output = Result<ChannelInfo, ApiFailure>> + use<> {
        call(
            Request::get(&format!("{}/channels/{channel}", self.base)),
            None,
        )
    }

    pub fn start(
        &self,
        channel: &str,
        details: &StartSession,
    ) -> impl Future<Output = Result<SessionCreated, ApiFailure>> + use<> {
        let url = format!("{}/channels/{channel}/sessions", self.base);
        call(Request::post(&url), json(details))
    }

    /// Trades a persistent channel's identity token for a bearer token of the visitor API.
    pub fn identify(
        &self,
        channel: &str,
        identity_token: String,
    ) -> impl Future<Output = Result<Identified, ApiFailure>> + use<> {
        let url = format!("{}/channels/{channel}/identify", self.base);
        call(Request::post(&url), json(&Identify { identity_token }))
    }

    pub fn session(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Session, ApiFailure>> + use<> {
        let request = Request::get(&format!("{}/session", self.base));
        call(bearer(request, token), None)
    }

    /// `query` is `?after=N`, `?before=N&limit=M` and the like.
    pub fn messages(
        &self,
        token: &str,
        query: &str,
    ) -> impl Future<Output = Result<MessagePage, ApiFailure>> + use<> {
        let request = Request::get(&format!("{}/session/messages{query}", self.base));
        call(bearer(request, token), None)
    }

    pub fn send(
        &self,
        token: &str,
        message: &SendMessage,
    ) -> impl Future<Output = Result<Message, ApiFailure>> + use<> {
        let request = Request::post(&format!("{}/session/messages", self.base));
        call(bearer(request, token), json(message))
    }

    pub fn end(&self, token: &str) -> impl Future<Output = Result<Session, ApiFailure>> + use<> {
        let request = Request::post(&format!("{}/session/end", self.base));
        call(bearer(request, token), Some("{}".to_owned()))
    }

    pub fn set_regarding(
        &self,
        token: &str,
        regarding: Option<String>,
    ) -> impl Future<Output = Result<Session, ApiFailure>> + use<> {
        let request = Request::put(&format!("{}/session/regarding", self.base));
        call(bearer(request, token), json(&SetRegarding { regarding }))
    }
}

/// Sends `request` and reads the answer as `T`: the sending and reading are [`answer`], one
/// copy for every endpoint; only the parsing is compiled per type. An answer that cannot be
/// read counts as unreachable, so the call is tried again.
fn call<T: DeserializeOwned>(
    request: RequestBuilder,
    body: Option<String>,
) -> impl Future<Output = Result<T, ApiFailure>> {
    answer(request, body)
        .map(|text| serde_json::from_str(&text?).map_err(|_| ApiFailure::Unreachable))
}

/// The client crate's [`fetch::send`], then the answer's body as text; a refusal reads in
/// the widget's words (see [`in_our_words`]).
async fn answer(request: RequestBuilder, body: Option<String>) -> Result<String, ApiFailure> {
    let response = fetch::send(request, body).await.map_err(in_our_words)?;
    response.text().await.map_err(|_| ApiFailure::Unreachable)
}

/// An answer that was not the server's (a proxy's error page, say) reads that "the chat
/// service" answered, as the widget has always said, rather than the client crate's (and the
/// console's) "the server".
fn in_our_words(failure: ApiFailure) -> ApiFailure {
    match failure {
        ApiFailure::Refused { status, mut body }
            if body.error == ErrorCode::Unknown
                && body.fields.is_empty()
                && body.message == format!("The server answered {status}.") =>
        {
            body.message = format!("The chat service answered {status}.");
            ApiFailure::Refused { status, body }
        }
        failure => failure,
    }
}
