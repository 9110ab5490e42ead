//! What is not the JSON API proper: health, the demo host pages and their identity tokens,
//! and a JSON 404 for unknown API paths.

use axum::{
    extract::State,
    http::{Uri, header},
    response::{Html, IntoResponse},
};
use serde::Deserialize;

use crate::{
    http::{error::ApiError, extract::ApiQuery},
    identity::Claims,
    state::AppState,
};

/// How long the demo's identity tokens last: short, as a site's should be, so the widget's
/// refresh through `Palaver.setIdentityProvider` is seen working.
const DEMO_TOKEN_MINUTES: i64 = 10;

/// Answers 200 while the server runs.
#[utoipa::path(get, path = "/healthz", tag = "site", responses((status = 200, body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// A host page that embeds the widget with its one script tag, as a site owner would.
pub async fn demo_page() -> Html<&'static str> {
    Html(include_str!("../../assets/demo.html"))
}

pub async fn api_not_found(uri: Uri) -> ApiError {
    tracing::debug!(%uri, "unknown API path");
    ApiError::NotFound("There is no such API endpoint.")
}

/// The look both demo pages share.
pub async fn demo_styles() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../assets/demo.css"),
    )
}

/// A host page with a signed-in visitor, for persistent mode.
pub async fn signed_in_page() -> Html<&'static str> {
    Html(include_str!("../../assets/signed-in.html"))
}

/// Who the demo's host page signs in.
#[derive(Debug, Deserialize)]
pub struct DemoUser {
    channel: String,
    sub: String,
    name: Option<String>,
    email: Option<String>,
}

/// The demo playing the host site: signs an identity token for any user of a persistent
/// channel with a shared secret. Served only with `--demo`, since it lets anyone sign in as
/// anyone.
pub async fn demo_identity_token(
    State(state): State<AppState>,
    ApiQuery(user): ApiQuery<DemoUser>,
) -> Result<impl IntoResponse, ApiError> {
    let key = state
        .channels
        .get(&user.channel)
        .and_then(|channel| channel.identity.as_ref())
        .ok_or(ApiError::NotFound("No persistent channel by that id."))?;
    let now = state.clock.now();
    let blank_to_none = |text: Option<String>| text.filter(|text| !text.trim().is_empty());
    let claims = Claims {
        sub: Some(user.sub),
        exp: Some((now + chrono::Duration::minutes(DEMO_TOKEN_MINUTES)).timestamp() as f64),
        nbf: None,
        name: blank_to_none(user.name),
        email: blank_to_none(user.email),
        phone: None,
        iss: None,
        aud: None,
    };
    let token = key.sign(claims).ok_or(ApiError::NotFound(
        "That channel's key is a public key; only its site can sign.",
    ))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], token))
}
