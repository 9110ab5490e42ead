//! The public API the widget calls: a channel's details, starting a session, and the
//! caller's own session (always the one its bearer token opens, never another).

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
};
use palaver_protocol::{
    ChannelInfo, EndReason, ErrorBody, ErrorCode, Identified, Identify, Message, MessagePage,
    SendMessage, Session, SessionCreated, SetRegarding, StartSession,
    limits::{PAGE_DEFAULT, PAGE_MAX},
};
use serde::Deserialize;

use crate::{
    bearers::VisitorBearer,
    chat::{
        access::VisitorAccess, conversation::send_verified, error::ChatError, identity, lifecycle,
        live, messages, view::view,
    },
    config::Channel,
    http::{
        error::ApiError,
        extract::{ApiJson, ApiPath, ApiQuery, Visitor, VisitorCaller, VisitorToken},
    },
    state::AppState,
    store::{Author, PageRequest},
};

fn find_channel<'a>(state: &'a AppState, id: &str) -> Result<&'a Channel, ApiError> {
    state
        .channels
        .get(id)
        .ok_or(ApiError::NotFound("No such channel."))
}

/// What the widget shows before the visitor starts: mode, form fields, whether agents are in.
#[utoipa::path(get, path = "/api/v1/channels/{channel}", tag = "visitor",
    params(("channel" = String, Path, description = "The channel id from the embed snippet")),
    responses((status = 200, body = ChannelInfo), (status = 404, body = ErrorBody)))]
pub async fn channel(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChannelInfo>, ApiError> {
    let channel = find_channel(&state, &id)?;
    Ok(Json(channel.info(state.clock.now())))
}

/// Starts a live chat from the visitor's details (rule 1). Every invalid field gets its own
/// message; outside operating hours the answer is a 409 that says when agents are back.
#[utoipa::path(post, path = "/api/v1/channels/{channel}/sessions", tag = "visitor",
    params(("channel" = String, Path, description = "The channel id")),
    request_body = StartSession,
    responses(
        (status = 201, body = SessionCreated),
        (status = 403, body = ErrorBody, description = "The page's origin may not use this channel"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Outside operating hours"),
        (status = 422, body = ErrorBody, description = "Per-field messages in `fields`")))]
pub async fn start(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(details): ApiJson<StartSession>,
) -> Result<(StatusCode, Json<SessionCreated>), ApiError> {
    let channel = allowed_channel(&state, &id, &headers)?;
    let created = live::start_session(&state, channel, details).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The channel, when the calling page's origin may use it.
fn allowed_channel<'a>(
    state: &'a AppState,
    id: &str,
    headers: &HeaderMap,
) -> Result<&'a Channel, ApiError> {
    let channel = find_channel(state, id)?;
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !channel.allows_origin(origin) {
            return Err(ApiError::Forbidden {
                code: ErrorCode::OriginNotAllowed,
                message: format!("This chat can't be used from {origin}."),
            });
        }
    }
    Ok(channel)
}

/// A persistent channel's visitor signs in with the token their site signed (persistent mode
/// rule 1), and gets a bearer token for their conversations that lasts as long as it, with
/// their open conversation when there is one. A refused token changes nothing.
#[utoipa::path(post, path = "/api/v1/channels/{channel}/identify", tag = "visitor",
    params(("channel" = String, Path, description = "The channel id")),
    request_body = Identify,
    responses(
        (status = 200, body = Identified),
        (status = 401, body = ErrorBody, description = "`identity_invalid` (signature, algorithm, issuer, audience, nbf) or `identity_expired`"),
        (status = 403, body = ErrorBody, description = "The page's origin may not use this channel"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`not_persistent`: a live channel"),
        (status = 422, body = ErrorBody, description = "A signed detail is unacceptable")))]
pub async fn identify(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Identify>,
) -> Result<Json<Identified>, ApiError> {
    let channel = allowed_channel(&state, &id, &headers)?;
    Ok(Json(
        identity::identify(&state, channel, &body.identity_token).await?,
    ))
}

/// The caller's session: 401 for an unknown token, 410 once it is over (rules 2 and 3). For
/// a verified visitor, their open conversation, or 404 `no_conversation`.
#[utoipa::path(get, path = "/api/v1/session", tag = "visitor",
    security(("session_token" = [])),
    responses((status = 200, body = Session), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`no_conversation`"),
        (status = 410, body = ErrorBody, description = "Over; `end_reason` says why")))]
pub async fn session(
    State(state): State<AppState>,
    Visitor(record): Visitor,
) -> Result<Json<Session>, ApiError> {
    Ok(Json(view(&state, &record).await?))
}

/// Which page of messages to read: `after` a sequence number (catching up), `before` one
/// (scrolling back), or neither (the newest page).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Messages with a greater `seq`, oldest first.
    after: Option<i64>,
    /// Messages with a smaller `seq`: the page just before it.
    before: Option<i64>,
    /// At most this many (1 to 200, default 50).
    limit: Option<u32>,
}

/// The page size a listing asks for: [`PAGE_DEFAULT`] when unnamed, 1 to [`PAGE_MAX`].
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(PAGE_DEFAULT);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {PAGE_MAX}."
        )));
    }
    Ok(limit)
}

impl PageQuery {
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = page_limit(self.limit)?;
        match (self.after, self.before) {
            (Some(_), Some(_)) => Err(ApiError::BadRequest(
                "Give either after or before, not both.".into(),
            )),
            (Some(after), None) => Ok(PageRequest::After { after, limit }),
            (None, Some(before)) => Ok(PageRequest::Before { before, limit }),
            (None, None) => Ok(PageRequest::Latest { limit }),
        }
    }
}

/// The session's messages, a page at a time, in ascending `seq` order.
#[utoipa::path(get, path = "/api/v1/session/messages", tag = "visitor",
    security(("session_token" = [])), params(PageQuery),
    responses((status = 200, body = MessagePage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    Visitor(record): Visitor,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    Ok(Json(state.store.messages(record.id, query.page()?).await?))
}

/// Sends a visitor message. 201 when new; a retry with the same `client_msg_id` answers 200
/// with the original message and stores nothing. A verified visitor's message goes into
/// their open conversation, bringing it back from waiting, or starts a fresh one.
#[utoipa::path(post, path = "/api/v1/session/messages", tag = "visitor",
    security(("session_token" = [])), request_body = SendMessage,
    responses((status = 201, body = Message), (status = 200, body = Message, description = "A retry"),
        (status = 401, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    VisitorToken(bearer): VisitorToken,
    ApiJson(message): ApiJson<SendMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let appended = match bearer {
        VisitorBearer::Live {
            session_id,
            channel,
        } => messages::send(&state, session_id, &channel, Author::Visitor, message).await?,
        VisitorBearer::Verified(grant) => send_verified(&state, &grant, message).await?,
    };
    let status = if appended.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(appended.message)))
}

/// The host page says what the chat is about (`Palaver.setRegarding`); `null` clears it.
#[utoipa::path(put, path = "/api/v1/session/regarding", tag = "visitor",
    security(("session_token" = [])), request_body = SetRegarding,
    responses((status = 200, body = Session), (status = 401, body = ErrorBody),
        (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn regarding(
    State(state): State<AppState>,
    Visitor(record): Visitor,
    ApiJson(body): ApiJson<SetRegarding>,
) -> Result<Json<Session>, ApiError> {
    let updated = lifecycle::set_regarding(&state, &record, body.regarding).await?;
    Ok(Json(view(&state, &updated).await?))
}

/// The visitor ends the chat (rule 5); it then takes no more messages. Only agents end
/// persistent conversations (403).
#[utoipa::path(post, path = "/api/v1/session/end", tag = "visitor",
    security(("session_token" = [])),
    responses((status = 200, body = Session), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`agent_ends_conversation`"),
        (status = 410, body = ErrorBody)))]
pub async fn end(
    State(state): State<AppState>,
    VisitorCaller(access): VisitorCaller,
) -> Result<Json<Session>, ApiError> {
    let VisitorAccess::Live(record) = access else {
        return Err(ChatError::VisitorCannotEnd.into());
    };
    let ended = lifecycle::end(&state, &record, EndReason::Visitor, None).await?;
    Ok(Json(view(&state, &ended).await?))
}
