//! The HTTP listener (`http_addr`): `GET /health` for load balancers and
//! orchestrators, `GET /metrics` for Prometheus, and the management API under
//! `/api/v1/` — the admin port's views as JSON and its actions as POST — described by
//! the OpenAPI document at `/api/v1/openapi.json` (`openapi`).
//!
//! The same listener serves the web console at `/` (`console`).
//!
//! `/health`, `/metrics` and the OpenAPI document need no credential. Everything else
//! under `/api/v1/` takes HTTP basic authentication against the same accounts as the
//! MySQL ports, with the admin privilege (views show statement texts, which may hold
//! data; actions change the node); so does the console's page. Failed attempts count
//! towards the address's failed-login block like failed MySQL logins.

pub mod console;
pub mod openapi;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use strata_protocol::MysqlError;

use crate::admin::command::View;
use crate::admin::{actions, is_admin, views};
use crate::context::ServerContext;
use crate::shutdown::Shutdown;

/// Shared with every handler.
type Ctx = State<Arc<ServerContext>>;

/// The API's routes, `(method, path)`, as the OpenAPI document must list them.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/metrics"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/{view}"),
    ("post", "/api/v1/offline"),
    ("post", "/api/v1/online"),
    ("post", "/api/v1/reload"),
    ("post", "/api/v1/kill"),
    ("post", "/api/v1/switch"),
    ("post", "/api/v1/reset_digests"),
];

/// The router over `ctx`.
pub fn router(ctx: Arc<ServerContext>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi_document))
        .route("/api/v1/{view}", get(view))
        .route("/api/v1/offline", post(offline))
        .route("/api/v1/online", post(online))
        .route("/api/v1/reload", post(reload))
        .route("/api/v1/kill", post(kill))
        .route("/api/v1/switch", post(switch))
        .route("/api/v1/reset_digests", post(reset_digests))
        .merge(console::router())
        .with_state(ctx)
}

/// Serves HTTP on `listener` until shutdown.
pub async fn serve(listener: TcpListener, ctx: Arc<ServerContext>, mut shutdown: Shutdown) {
    let sessions = Arc::clone(&ctx);
    let app = router(ctx).into_make_service_with_connect_info::<SocketAddr>();
    // The port keeps answering while sessions drain (`/health` says offline then), so a
    // load balancer sees the node leave before its connections are refused; it closes
    // when the last session has ended or the deadline for statements has passed.
    let stop = async move {
        let deadline = shutdown.triggered().await;
        while sessions.session_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::warn!(error = %e, "HTTP listener failed");
    }
}

/// The `WWW-Authenticate` challenge of the API and the console (one realm, so a
/// browser that signed in to the console sends the same credential to the API).
const CHALLENGE: &str = "Basic realm=\"strata\"";

/// An API error: an HTTP status and a JSON body `{"error": {"code", "message"}}`
/// (`code` is the MySQL error code where there is one).
struct ApiError {
    status: StatusCode,
    code: u16,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn mysql(status: StatusCode, e: &MysqlError) -> ApiError {
        ApiError::new(status, e.code, e.message.clone())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": {"code": self.code, "message": self.message}}));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(CHALLENGE),
            );
        }
        response
    }
}

async fn health(State(ctx): Ctx) -> Response {
    if ctx.is_rejoining() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "offline", "reason": "rejoining the cluster"})),
        )
            .into_response()
    } else if ctx.is_offline() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "offline"})),
        )
            .into_response()
    } else {
        (StatusCode::OK, Json(json!({"status": "online"}))).into_response()
    }
}

async fn metrics(State(ctx): Ctx) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(&ctx),
    )
        .into_response()
}

async fn openapi_document() -> Json<Value> {
    Json(openapi::document())
}

/// Checks HTTP basic credentials against the accounts; the account must have the
/// admin privilege.
async fn authorize(
    ctx: &Arc<ServerContext>,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    use crate::metrics::RefusedReason;
    let ip = peer.ip();
    ctx.admit(Some(ip), &ip.to_string())
        .map_err(|e| ApiError::mysql(StatusCode::FORBIDDEN, &e))?;
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            1045,
            "HTTP basic authentication with an admin account is required",
        )
    };
    let (user, password) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
        })
        .ok_or_else(unauthorized)?;
    let account = ctx.login_account(&user, ip);
    // SHA-256 crypt takes a while: keep it off the runtime's threads.
    let verified = match account {
        Some(account) => tokio::task::spawn_blocking(move || {
            account
                .credential
                .verify_clear(password.as_bytes())
                .then_some(account)
        })
        .await
        .ok()
        .flatten(),
        None => None,
    };
    let Some(account) = verified else {
        ctx.metrics.connection_refused(RefusedReason::AuthFailed);
        let delay = ctx.login_failed(Some(ip));
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            1045,
            format!("Access denied for user '{user}'@'{ip}'"),
        ));
    };
    ctx.login_succeeded(Some(ip));
    if !is_admin(&account) {
        ctx.metrics.connection_refused(RefusedReason::NotAdmin);
        return Err(ApiError::mysql(
            StatusCode::FORBIDDEN,
            &crate::admin::admin_denied(),
        ));
    }
    Ok(())
}

async fn view(
    State(ctx): Ctx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&ctx, peer, &headers).await?;
    let view = View::from_api_name(&name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            1064,
            format!("Unknown API view '{name}'; /api/v1/openapi.json lists them"),
        )
    })?;
    Ok(Json(views::view(&ctx, view).to_json()))
}

async fn offline(
    State(ctx): Ctx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&ctx, peer, &headers).await?;
    let changed = actions::set_offline(&ctx, true);
    Ok(Json(json!({"state": "offline", "changed": changed})))
}

async fn online(
    State(ctx): Ctx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&ctx, peer, &headers).await?;
    let changed = actions::set_offline(&ctx, false);
    Ok(Json(json!({"state": "online", "changed": changed})))
}

async fn reload(
    State(ctx): Ctx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&ctx, peer, &headers).await?;
    let table = actions::reload_config(&ctx)
        .map_err(|e| ApiError::mysql(StatusCode::UNPROCESSABLE_ENTITY, &e))?;
    Ok(Json(json!({"changes": table.to_json()})))
}

async fn reset_digests(
    State(ctx): Ctx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&ctx, peer, &headers).await?;
    ctx.stats.reset_digests(&ctx.metrics);
    Ok(Json(json!({"reset": true})))
}

/// The body of `POST /api/v1/switch`: `SWITCH @@DATASOURCE dnid [TO 'target']`.
#[derive(Debug, Deserialize)]
struct SwitchRequest {
    dnid: u32,
    /// `host:port` of the replica to promote; absent: the best one.
    #[serde(default)]
    target: Option<String>,
}

async fn switch(
    State(ctx): Ctx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&ctx, peer, &headers).await?;
    let bad = |why: String| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            1064,
            format!("the body must be {{\"dnid\": n, \"target\": \"host:port\"}} (target optional): {why}"),
        )
    };
    let request: SwitchRequest = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    let target = match &request.target {
        None => None,
        Some(t) => {
            let parsed = t
                .rsplit_once(':')
                .and_then(|(host, port)| Some((host.to_string(), port.parse::<u16>().ok()?)))
                .filter(|(host, port)| !host.is_empty() && *port > 0);
            Some(parsed.ok_or_else(|| bad(format!("bad target '{t}'")))?)
        }
    };
    let primary = actions::switch_datasource(&ctx, request.dnid, target)
        .await
        .map_err(|e| ApiError::mysql(StatusCode::CONFLICT, &e))?;
    Ok(Json(json!({"dnid": request.dnid, "primary": primary})))
}

/// The body of `POST /api/v1/kill`.
#[derive(Debug, Deserialize)]
struct KillRequest {
    ids: Vec<u32>,
}

async fn kill(
    State(ctx): Ctx,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&ctx, peer, &headers).await?;
    let request: KillRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            1064,
            format!("the body must be {{\"ids\": [connection ids]}}: {e}"),
        )
    })?;
    if request.ids.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            1064,
            "\"ids\" lists no connection",
        ));
    }
    let killed = actions::kill_connections(&ctx, &request.ids)
        .await
        .map_err(|e| ApiError::mysql(StatusCode::NOT_FOUND, &e))?;
    Ok(Json(json!({"killed": killed})))
}
