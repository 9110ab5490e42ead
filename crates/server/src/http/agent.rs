//! The agent API: sign-in, the inbox, a contact's Chat History, and acting on a session.
//! Every route but `login` needs an agent token. There is deliberately no route that starts
//! a session: only a visitor can open a chat (live mode rule 1).

use axum::{Json, extract::State, http::StatusCode};
use palaver_protocol::{
    AgentLogin, AgentSession, AgentStatus, AgentToken, ChannelInfo, EndReason, ErrorBody, Message,
    MessagePage, SendMessage, SessionState, SetRegarding,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    assignment::status::{status, statuses},
    chat::{
        agents::{sign_in, sign_out},
        assign::{join as join_session, open_session},
        lifecycle, messages,
        view::{agent_view, agent_views},
    },
    http::{
        error::ApiError,
        extract::{Agent, ApiJson, ApiPath, ApiQuery},
        visitor::{PageQuery, page_limit},
    },
    state::AppState,
    store::{AgentFilter, Author, SessionFilter, SessionRecord},
};

/// Signs an agent in with name and password; the token lasts the configured sign-in time.
#[utoipa::path(post, path = "/api/v1/agent/login", tag = "agent", request_body = AgentLogin,
    responses((status = 200, body = AgentToken), (status = 401, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(login): ApiJson<AgentLogin>,
) -> Result<Json<AgentToken>, ApiError> {
    Ok(Json(sign_in(&state, &login.name, &login.password).await?))
}

/// Signs out: the token stops working at once, and the console stream opened with it closes,
/// so routing offers the agent nothing more through it.
#[utoipa::path(post, path = "/api/v1/agent/logout", tag = "agent",
    security(("agent_token" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, agent: Agent) -> Result<StatusCode, ApiError> {
    sign_out(&state, agent.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in agent: capacity, load and whether they take new chats.
#[utoipa::path(get, path = "/api/v1/agent/me", tag = "agent",
    security(("agent_token" = [])),
    responses((status = 200, body = AgentStatus), (status = 401, body = ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    agent: Agent,
) -> Result<Json<AgentStatus>, ApiError> {
    Ok(Json(status(&state, agent.agent.id).await?))
}

/// Every agent with their capacity, load and availability, by name.
#[utoipa::path(get, path = "/api/v1/agent/agents", tag = "agent",
    security(("agent_token" = [])),
    responses((status = 200, body = Vec<AgentStatus>), (status = 401, body = ErrorBody)))]
pub async fn agents(
    State(state): State<AppState>,
    _agent: Agent,
) -> Result<Json<Vec<AgentStatus>>, ApiError> {
    Ok(Json(statuses(&state).await?))
}

/// Every channel (*Configuration*), by name.
#[utoipa::path(get, path = "/api/v1/agent/channels", tag = "agent",
    security(("agent_token" = [])),
    responses((status = 200, body = Vec<ChannelInfo>), (status = 401, body = ErrorBody)))]
pub async fn channels(State(state): State<AppState>, _agent: Agent) -> Json<Vec<ChannelInfo>> {
    let now = state.clock.now();
    let mut channels: Vec<ChannelInfo> = state
        .channels
        .iter()
        .map(|channel| channel.info(now))
        .collect();
    channels.sort_by(|a, b| a.name.cmp(&b.name));
    Json(channels)
}

/// Filters for the inbox.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Only sessions in this state (as of now: a session whose window passed is `ended`).
    state: Option<SessionState>,
    /// Only this channel (*Configuration*).
    channel: Option<String>,
    /// Only this agent's sessions (an agent id), or `none` for sessions nobody has joined.
    agent: Option<String>,
    /// Part of the contact's name or number.
    q: Option<String>,
    /// At most this many (1 to 200, default 50).
    limit: Option<u32>,
    /// The next page: the id of the last session of the previous one. The page holds the
    /// sessions strictly after it in the inbox's order, so none is skipped or repeated; an id
    /// that names no session gives an empty page.
    before: Option<Uuid>,
}

/// The inbox: sessions with their contact, newest first, a page at a time (`before`).
#[utoipa::path(get, path = "/api/v1/agent/sessions", tag = "agent",
    security(("agent_token" = [])), params(ListQuery),
    responses((status = 200, body = Vec<AgentSession>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _agent: Agent,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Vec<AgentSession>>, ApiError> {
    let limit = page_limit(query.limit)?;
    let agent = match query.agent.as_deref() {
        None => None,
        Some("none") => Some(AgentFilter::Unassigned),
        Some(id) => Some(AgentFilter::Agent(Uuid::parse_str(id).map_err(|_| {
            ApiError::BadRequest("agent must be an agent id or `none`.".into())
        })?)),
    };
    let filter = SessionFilter {
        state: query.state,
        channel: query.channel,
        agent,
        search: query
            .q
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty()),
        before: query.before,
        limit,
    };
    let rows = state
        .store
        .list_sessions(&filter, state.clock.now())
        .await?;
    Ok(Json(agent_views(&state, rows).await?))
}

async fn find(state: &AppState, id: Uuid) -> Result<SessionRecord, ApiError> {
    state
        .store
        .session(id)
        .await?
        .ok_or(ApiError::NotFound("No such session."))
}

/// One session with its contact, open or over.
#[utoipa::path(get, path = "/api/v1/agent/sessions/{id}", tag = "agent",
    security(("agent_token" = [])), params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, body = AgentSession), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn session(
    State(state): State<AppState>,
    _agent: Agent,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AgentSession>, ApiError> {
    let record = find(&state, id).await?;
    Ok(Json(agent_view(&state, &record).await?))
}

/// A session's messages, open or over, a page at a time.
#[utoipa::path(get, path = "/api/v1/agent/sessions/{id}/messages", tag = "agent",
    security(("agent_token" = [])),
    params(("id" = Uuid, Path, description = "Session id"), PageQuery),
    responses((status = 200, body = MessagePage), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    _agent: Agent,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    let record = find(&state, id).await?;
    Ok(Json(state.store.messages(record.id, query.page()?).await?))
}

/// Replies in a session, joining it first when nobody has; 409 when another agent has it.
#[utoipa::path(post, path = "/api/v1/agent/sessions/{id}/messages", tag = "agent",
    security(("agent_token" = [])), params(("id" = Uuid, Path, description = "Session id")),
    request_body = SendMessage,
    responses((status = 201, body = Message), (status = 200, body = Message, description = "A retry"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn reply(
    State(state): State<AppState>,
    agent: Agent,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(message): ApiJson<SendMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let record = open_session(&state, id).await?;
    let record = match &record.agent {
        Some(current) if current.id == agent.agent.id => record,
        _ => join_session(&state, &record, &agent.agent).await?,
    };
    let appended = messages::send(
        &state,
        record.id,
        &record.channel,
        Author::Agent(agent.agent.clone()),
        message,
    )
    .await?;
    let status = if appended.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(appended.message)))
}

/// Joins a queued session; the visitor is told and leaves the queue.
#[utoipa::path(post, path = "/api/v1/agent/sessions/{id}/join", tag = "agent",
    security(("agent_token" = [])), params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, body = AgentSession), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 410, body = ErrorBody)))]
pub async fn join(
    State(state): State<AppState>,
    agent: Agent,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AgentSession>, ApiError> {
    let record = open_session(&state, id).await?;
    let joined = join_session(&state, &record, &agent.agent).await?;
    Ok(Json(agent_view(&state, &joined).await?))
}

/// Ends a session (rule 5); the visitor is told and can start a new one.
#[utoipa::path(post, path = "/api/v1/agent/sessions/{id}/end", tag = "agent",
    security(("agent_token" = [])), params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, body = AgentSession), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn end(
    State(state): State<AppState>,
    agent: Agent,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AgentSession>, ApiError> {
    let record = open_session(&state, id).await?;
    let ended = lifecycle::end(&state, &record, EndReason::Agent, Some(&agent.agent)).await?;
    Ok(Json(agent_view(&state, &ended).await?))
}

/// Sets a persistent conversation aside until the visitor writes again (persistent mode
/// rule 4), freeing the agent; the visitor's next message brings it back, to this agent
/// first when the channel has agent affinity.
#[utoipa::path(post, path = "/api/v1/agent/sessions/{id}/wait", tag = "agent",
    security(("agent_token" = [])), params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, body = AgentSession), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "A live chat, or another agent's"),
        (status = 410, body = ErrorBody)))]
pub async fn wait(
    State(state): State<AppState>,
    agent: Agent,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AgentSession>, ApiError> {
    let record = open_session(&state, id).await?;
    let waiting = lifecycle::set_waiting(&state, &record, &agent.agent).await?;
    Ok(Json(agent_view(&state, &waiting).await?))
}

/// Sets or clears the record the session is about (*Regarding*), open or over.
#[utoipa::path(put, path = "/api/v1/agent/sessions/{id}/regarding", tag = "agent",
    security(("agent_token" = [])), params(("id" = Uuid, Path, description = "Session id")),
    request_body = SetRegarding,
    responses((status = 200, body = AgentSession), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn regarding(
    State(state): State<AppState>,
    _agent: Agent,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SetRegarding>,
) -> Result<Json<AgentSession>, ApiError> {
    let record = find(&state, id).await?;
    let updated = lifecycle::set_regarding(&state, &record, body.regarding).await?;
    Ok(Json(agent_view(&state, &updated).await?))
}

/// Chat History: every session of a contact, newest first.
#[utoipa::path(get, path = "/api/v1/agent/contacts/{id}/sessions", tag = "agent",
    security(("agent_token" = [])), params(("id" = Uuid, Path, description = "Contact id")),
    responses((status = 200, body = Vec<AgentSession>), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    _agent: Agent,
    ApiPath(contact_id): ApiPath<Uuid>,
) -> Result<Json<Vec<AgentSession>>, ApiError> {
    let to = state
        .store
        .contact(contact_id)
        .await?
        .ok_or(ApiError::NotFound("No such contact."))?;
    let rows = state.store.contact_sessions(contact_id).await?;
    let rows = rows
        .into_iter()
        .map(|record| (record, to.clone()))
        .collect();
    Ok(Json(agent_views(&state, rows).await?))
}
