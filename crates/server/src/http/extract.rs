//! Extractors: JSON bodies, queries and paths whose rejections are [`ApiError`]s with clear
//! messages, and the callers an `Authorization: Bearer` header names.

use axum::{
    extract::{FromRequest, FromRequestParts},
    http::{header::AUTHORIZATION, request::Parts},
};
use palaver_protocol::AgentRef;

use crate::{
    bearers::VisitorBearer,
    chat::access::{
        VisitorAccess, signed_in_agent, visitor_access, visitor_bearer, visitor_session,
    },
    http::error::ApiError,
    state::AppState,
    store::SessionRecord,
    tokens::hash_token,
};

/// A JSON body whose rejections are [`ApiError`]s with clear messages.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// A query string whose rejections are [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A path parameter whose rejections are [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn visitor_bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    bearer(parts).ok_or(ApiError::Unauthorized(
        "Send the session token as `Authorization: Bearer <token>`.",
    ))
}

/// The caller's open session, from `Authorization: Bearer <session token>`.
pub struct Visitor(pub SessionRecord);

impl FromRequestParts<AppState> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(
            visitor_session(state, visitor_bearer_token(parts)?).await?,
        ))
    }
}

/// The caller's access, for the requests that differ between live and verified visitors.
pub struct VisitorCaller(pub VisitorAccess);

impl FromRequestParts<AppState> for VisitorCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(
            visitor_access(state, visitor_bearer_token(parts)?).await?,
        ))
    }
}

/// What the caller's visitor token opens, without reading the session: for writes, which
/// the store refuses when the session is over.
pub struct VisitorToken(pub VisitorBearer);

impl FromRequestParts<AppState> for VisitorToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(
            visitor_bearer(state, visitor_bearer_token(parts)?).await?,
        ))
    }
}

/// The signed-in agent, from `Authorization: Bearer <agent token>`.
pub struct Agent {
    pub agent: AgentRef,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for Agent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized(
            "Send the agent token as `Authorization: Bearer <token>`.",
        ))?;
        let agent = signed_in_agent(state, token).await?;
        Ok(Self {
            agent,
            token_hash: hash_token(token),
        })
    }
}
