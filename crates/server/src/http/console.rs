//! The web console: a static page (`GET /`) with its script and styles
//! (`/console/app.js`, `/console/console.css`), embedded in the binary. The page itself
//! holds no data: its script reads `/metrics` and the JSON views under `/api/v1/` of
//! this compute node every few seconds and draws topology, throughput and latency
//! charts, sessions, statements, XA, tables and jobs. No CDN, no library, no build step.
//!
//! `GET /` takes the same HTTP basic credential as the API (an account with SUPER): the
//! browser asks for it once, and sends it again with the page's own requests to
//! `/api/v1/` (same origin, same realm). The script and styles are code without data
//! and need no credential. Every response forbids framing and loading anything from
//! elsewhere (a Content-Security-Policy of `'self'` only).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::{authorize, Ctx};
use crate::context::ServerContext;

/// The page.
const INDEX_HTML: &str = include_str!("console/index.html");
/// Its script.
const APP_JS: &str = include_str!("console/app.js");
/// Its styles.
const CONSOLE_CSS: &str = include_str!("console/console.css");

/// What a browser shows when it has no (valid) credential for the console.
const SIGN_IN_HTML: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Strata console: sign in</title></head><body><h1>Strata console</h1>\
<p>Sign in with an account that has the SUPER privilege (the same accounts as the \
MySQL ports). Reload the page to be asked again.</p></body></html>";

/// Nothing but this origin; no inline script or style, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";

/// The console's routes, `(method, path)`; they serve HTML, JS and CSS, not the API.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/"),
    ("get", "/console/app.js"),
    ("get", "/console/console.css"),
];

/// The console's routes over `ctx`.
pub fn router() -> Router<Arc<ServerContext>> {
    Router::new()
        .route("/", get(index))
        .route("/console/app.js", get(app_js))
        .route("/console/console.css", get(console_css))
}

/// A static asset with its content type; `no-cache` so a new binary's console is
/// picked up at once.
fn asset(status: StatusCode, content_type: &'static str, body: &'static str) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn index(
    State(ctx): Ctx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    match authorize(&ctx, peer, &headers).await {
        Ok(()) => asset(StatusCode::OK, "text/html; charset=utf-8", INDEX_HTML),
        Err(e) => {
            let mut response = asset(e.status, "text/html; charset=utf-8", SIGN_IN_HTML);
            if e.status == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(super::CHALLENGE),
                );
            }
            response
        }
    }
}

async fn app_js() -> Response {
    asset(StatusCode::OK, "text/javascript; charset=utf-8", APP_JS)
}

async fn console_css() -> Response {
    asset(StatusCode::OK, "text/css; charset=utf-8", CONSOLE_CSS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_its_own_assets() {
        for (_, path) in ROUTES.iter().filter(|(_, p)| *p != "/") {
            assert!(INDEX_HTML.contains(&format!("\"{path}\"")), "{path}");
        }
        assert!(!INDEX_HTML.contains("src=\"http") && !INDEX_HTML.contains("href=\"http"));
        for text in [INDEX_HTML, APP_JS, CONSOLE_CSS] {
            assert!(!text.contains("https://"), "no external resource");
            assert!(!text.contains("@import"));
        }
        // No inline script: the Content-Security-Policy would refuse it.
        assert!(!INDEX_HTML.contains("<script>"));
        assert!(!INDEX_HTML.contains(" style="));
    }
}
