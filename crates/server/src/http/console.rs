//! The agent console's files at `/console/`, under a Content-Security-Policy that lets only
//! the console's own scripts run: whatever a visitor typed that slipped past every other
//! guard still could not run as script in front of an agent.

use std::path::{Path, PathBuf};

use axum::{
    Router,
    http::{HeaderValue, header},
    middleware::map_response,
    response::Response,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use sha2::{Digest, Sha256};
use tower_http::{
    services::{ServeDir, ServeFile},
    set_header::SetResponseHeaderLayer,
};

use crate::state::AppState;

/// Serves the built console from `dir`. Any path under `/console/` that is not a file gets
/// index.html, so a reload of a deep link still opens the console.
pub fn router(dir: &Path) -> Router<AppState> {
    let files = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
    let index = dir.join("index.html");
    Router::new()
        .nest_service("/console", files)
        .layer(map_response(move |response| {
            with_policy(index.clone(), response)
        }))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}

/// Adds the policy to the console's page as built now: index.html is read each time the page
/// is sent, so a console rebuilt under a running server gets the hash of its new start-up
/// script. The page's scripts, styles and wasm need no policy of their own.
async fn with_policy(index: PathBuf, mut response: Response) -> Response {
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if !is_page {
        return response;
    }
    let page = tokio::fs::read_to_string(&index).await.unwrap_or_default();
    let policy = HeaderValue::from_str(&policy(&page)).unwrap_or_else(|error| {
        tracing::error!(%error, "the console's security policy is not a header value");
        HeaderValue::from_static("default-src 'none'")
    });
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, policy);
    response
}

/// Scripts from the console's origin and the inline scripts of `index` by hash, WebAssembly
/// compiled, same-origin requests and sockets only, and no framing.
fn policy(index: &str) -> String {
    let hashes: String = inline_scripts(index)
        .map(|script| format!(" 'sha256-{}'", STANDARD.encode(Sha256::digest(script))))
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
}

/// The contents of every `<script>` element without a `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, body) = rest.split_once('>')?;
        let (script, _) = body.split_once("</script>")?;
        (!attributes.contains("src=")).then_some(script)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inline_scripts_are_hashed() {
        let html = "<head><script type=\"module\">start();</script>\
                    <script src=\"/console/app.js\"></script></head>";
        assert_eq!(inline_scripts(html).collect::<Vec<_>>(), ["start();"]);
        let digest = STANDARD.encode(Sha256::digest("start();"));
        assert!(
            policy(html).contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' 'sha256-{digest}';"
            )),
            "{}",
            policy(html)
        );
    }

    #[test]
    fn without_an_index_no_inline_script_may_run() {
        assert!(policy("").contains("script-src 'self' 'wasm-unsafe-eval';"));
    }
}
