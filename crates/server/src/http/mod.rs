//! The HTTP surface, the top layer: [`router`] assembles the public visitor API, the agent
//! API, the two event streams, the OpenAPI document and the static files (widget, loader,
//! console, demo pages). Handlers parse the request, call the chat rules and convert their
//! refusals into [`error::ApiError`].
//!
//! - [`visitor`], [`agent`], [`site`], [`console`]: the routes, one module per audience.
//! - [`socket`]: the visitor's and the agent's WebSocket streams.
//! - [`extract`]: bodies, queries and paths with clear rejections, and bearer-token callers.
//! - [`openapi`]: the API described as OpenAPI, at `/api/openapi.json`.
//! - [`error`]: [`error::ApiError`], the boundary's one error type.

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, Method, header},
    routing::{get, post, put},
};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    services::{ServeDir, ServeFile},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use crate::state::AppState;

pub mod agent;
pub mod console;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod site;
pub mod socket;
pub mod visitor;

/// The largest request body accepted: a message is at most
/// [`palaver_protocol::limits::MESSAGE_MAX_CHARS`] characters.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    let widget_dir = state.widget_dir.clone();
    let cors = cors(&state);
    let api = Router::new()
        .route("/channels/{channel}", get(visitor::channel))
        .route("/channels/{channel}/sessions", post(visitor::start))
        .route("/channels/{channel}/identify", post(visitor::identify))
        .route("/session", get(visitor::session))
        .route(
            "/session/messages",
            get(visitor::messages).post(visitor::send),
        )
        .route("/session/end", post(visitor::end))
        .route("/session/regarding", put(visitor::regarding))
        .route("/session/events", get(socket::visitor::upgrade))
        .route("/agent/login", post(agent::login))
        .route("/agent/logout", post(agent::logout))
        .route("/agent/me", get(agent::me))
        .route("/agent/agents", get(agent::agents))
        .route("/agent/channels", get(agent::channels))
        .route("/agent/sessions", get(agent::list))
        .route("/agent/sessions/{id}", get(agent::session))
        .route(
            "/agent/sessions/{id}/messages",
            get(agent::messages).post(agent::reply),
        )
        .route("/agent/sessions/{id}/join", post(agent::join))
        .route("/agent/sessions/{id}/end", post(agent::end))
        .route("/agent/sessions/{id}/wait", post(agent::wait))
        .route("/agent/sessions/{id}/regarding", put(agent::regarding))
        .route("/agent/contacts/{id}/sessions", get(agent::history))
        .route("/agent/events", get(socket::agent::upgrade))
        .fallback(site::api_not_found);

    // The widget's files keep fixed names (the loader imports them by name), so browsers must
    // revalidate them on each load; ServeDir answers with 304 while they are unchanged.
    let widget = Router::new()
        .route_service("/widget.js", ServeFile::new(widget_dir.join("widget.js")))
        .nest_service("/widget", ServeDir::new(widget_dir))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ));
    let mut router = Router::new()
        .nest("/api/v1", api)
        .route("/api/openapi.json", get(openapi::document))
        .route("/healthz", get(site::healthz))
        .merge(widget)
        .merge(console::router(&state.console_dir));
    if state.demo {
        router = router
            .route("/", get(site::demo_page))
            .route("/demo/demo.css", get(site::demo_styles))
            .route("/demo/signed-in", get(site::signed_in_page))
            .route("/demo/identity-token", get(site::demo_identity_token));
    }
    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(cors)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Pages of the channels' allowed origins may call the visitor API and load the widget.
fn cors(state: &AppState) -> CorsLayer {
    let channels = state.channels.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin
                .to_str()
                .is_ok_and(|origin| channels.iter().any(|channel| channel.allows_origin(origin)))
        }))
        .allow_methods([Method::GET, Method::POST, Method::PUT])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
}
