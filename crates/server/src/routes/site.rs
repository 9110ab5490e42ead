//! What is not the JSON API proper: health, the OpenAPI document, the demo host page, and a
//! JSON 404 for unknown API paths.

use axum::{Json, http::Uri, response::Html};
use utoipa::OpenApi;

use super::ApiDoc;
use crate::error::ApiError;

/// Answers 200 while the server runs.
#[utoipa::path(get, path = "/healthz", tag = "site", responses((status = 200, body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// A host page that embeds the widget with its one script tag, as a site owner would.
pub async fn demo_page() -> Html<&'static str> {
    Html(include_str!("../../assets/demo.html"))
}

pub async fn api_not_found(uri: Uri) -> ApiError {
    tracing::debug!(%uri, "unknown API path");
    ApiError::NotFound("There is no such API endpoint.")
}
