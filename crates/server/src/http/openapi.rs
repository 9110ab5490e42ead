//! The API described as OpenAPI 3, served at `/api/openapi.json`: every route's parameters,
//! bodies and answers, from the handlers' own annotations.

use axum::Json;
use utoipa::OpenApi;

use crate::http::{agent, site, socket, visitor};

/// The OpenAPI document.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Palaver", description = "Embeddable website chat: the visitor and agent API."),
    paths(
        visitor::channel,
        visitor::start,
        visitor::identify,
        visitor::session,
        visitor::messages,
        visitor::send,
        visitor::end,
        visitor::regarding,
        socket::visitor::upgrade,
        agent::login,
        agent::logout,
        agent::me,
        agent::agents,
        agent::channels,
        agent::list,
        agent::session,
        agent::messages,
        agent::reply,
        agent::join,
        agent::end,
        agent::wait,
        agent::regarding,
        agent::history,
        socket::agent::upgrade,
        site::healthz,
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        for name in ["session_token", "agent_token"] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}
