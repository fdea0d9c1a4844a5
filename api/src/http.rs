//! The HTTP boundary: authentication, the GraphQL endpoint, GraphiQL, health and metrics.

use axum::{
    Router,
    body::Body,
    extract::{
        State,
        ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

use crate::{
    context::AppState,
    error::ErrorCode,
    gateway::{Caller, Gateway, Refusal, Reply, Run, Transport},
    pii,
};

/// What every handler shares.
pub type HttpState = Gateway;

/// A connection's place under `max_connections`, shared by its requests so that a WebSocket
/// upgrade can take it over.
#[derive(Clone)]
pub struct ConnectionPermit(std::sync::Arc<std::sync::Mutex<Option<tokio::sync::OwnedSemaphorePermit>>>);

impl ConnectionPermit {
    /// Wraps a connection's permit.
    pub fn new(permit: tokio::sync::OwnedSemaphorePermit) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(Some(permit))))
    }

    /// Takes the permit out (once).
    fn take(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.0.lock().ok().and_then(|mut p| p.take())
    }
}

/// What the HTTP boundary serves beside the API.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// GraphiQL at `GET /graphql` (else a 404 that says how to turn it on).
    pub graphiql: bool,
    /// Browser origins allowed to call the API.
    pub origins: Origins,
    /// `/metrics` on the API's address (development; else on `SINERGI_METRICS_LISTEN`, or not
    /// at all).
    pub metrics: bool,
}

/// Browser origins allowed by CORS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    /// Development: any `http://localhost`, `http://127.0.0.1` or `http://[::1]` origin.
    Localhost,
    /// Exactly these (`scheme://host[:port]`); none when empty.
    List(Vec<String>),
}

impl Default for HttpSettings {
    /// Development: GraphiQL on, localhost origins.
    fn default() -> Self {
        Self { graphiql: true, origins: Origins::Localhost, metrics: true }
    }
}

impl Origins {
    fn allows(&self, origin: &HeaderValue) -> bool {
        let Ok(origin) = origin.to_str() else { return false };
        match self {
            Self::List(list) => list.iter().any(|o| o == origin),
            Self::Localhost => ["http://localhost", "http://127.0.0.1", "http://[::1]"].iter().any(|host| {
                origin.strip_prefix(host).is_some_and(|rest| {
                    rest.is_empty() || rest.strip_prefix(':').is_some_and(|p| p.parse::<u16>().is_ok())
                })
            }),
        }
    }
}

/// CORS for the allowed origins: the methods, the request headers a client sends (token,
/// purpose, request id, idempotency key) and the response headers it may read.
fn cors(origins: Origins) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| origins.allows(origin)))
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            axum::http::HeaderName::from_static("x-purpose"),
            axum::http::HeaderName::from_static(REQUEST_ID),
            axum::http::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([axum::http::HeaderName::from_static(REQUEST_ID), header::WWW_AUTHENTICATE])
        .max_age(std::time::Duration::from_secs(600))
}

/// Headers every response carries: no MIME sniffing, no framing, no referrer; API answers are
/// never cached (they hold personal data) and may load nothing (a JSON body has no business
/// running anything). GraphiQL's page keeps its own needs (scripts, styles).
fn security_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html {
        // API answers hold personal data: never cached. (GraphiQL's assets say otherwise.)
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        // (The field app's service worker says what it may fetch itself.)
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            );
        }
    }
}

/// The gateway's routes.
pub fn router(app: AppState) -> Router {
    let origins = app.http.origins.clone();
    Router::new()
        .route("/graphql", get(graphiql_or_websocket).post(graphql))
        .route("/graphql/ws", get(websocket))
        .route("/schema.graphql", get(schema_sdl))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/graphiql/{version}/{file}", get(graphiql_asset))
        .route("/dashboard", get(|| async { crate::ui::page("dashboard") }))
        .route("/dashboard/", get(|| async { crate::ui::page("dashboard") }))
        // The field app lives under /lapangan/: its service worker's scope.
        .route("/lapangan", get(|| async { axum::response::Redirect::permanent("/lapangan/") }))
        .route("/lapangan/", get(|| async { crate::ui::page("lapangan") }))
        .route(
            "/lapangan/{file}",
            get(|axum::extract::Path(file): axum::extract::Path<String>| async move { crate::ui::field_file(&file) }),
        )
        .route(
            "/ui/assets/{file}",
            get(|axum::extract::Path(file): axum::extract::Path<String>| async move { crate::ui::asset(&file) }),
        )
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            error_response(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, "internal error")
        }))
        // The span names the path only: a GET's query string may carry variables.
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(
            |request: &axum::extract::Request| {
                tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
            },
        ))
        .layer(cors(origins))
        // Outermost: every response counts, CORS preflights and panics included. One layer for
        // the three (a layer of axum's middleware costs a copy of the stack below it per request).
        .layer(axum::middleware::from_fn_with_state(app.metrics.clone(), envelope))
        .with_state(Gateway::new(app))
}

/// A request's id: the client's `X-Request-Id` when it is a short token (1–64 letters, digits,
/// `-`, `_`, `.`), else a new UUID. It is logged with everything the request does and returned in
/// the response's `X-Request-Id`, so a client and an operator can name the same request.
#[derive(Clone)]
pub struct RequestId(pub String);

const REQUEST_ID: &str = "x-request-id";

/// What every response gets: its request's id (see [`RequestId`]), the security headers, and a
/// count in the metrics by method, route and status.
async fn envelope(
    State(metrics): State<std::sync::Arc<crate::metrics::Metrics>>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (method, route) = labels(&request);
    let given = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|v| {
        (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    });
    let id = given.map(str::to_owned).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    request.extensions_mut().insert(RequestId(id.clone()));
    // Everything the request logs — the HTTP trace, refusals, a panic — carries its id.
    let mut response = next.run(request).instrument(tracing::info_span!("http", request_id = %id)).await;
    security_headers(&mut response);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    metrics.count_http(method, route, response.status().as_u16());
    response
}

fn error_response(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    // Refused before any GraphQL ran: no `data` entry.
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code.as_str() } }],
    });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn refused(refusal: &Refusal) -> Response {
    match refusal {
        Refusal::Unauthenticated(message) => {
            let mut response = error_response(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, message);
            response.headers_mut().insert(header::WWW_AUTHENTICATE, www_authenticate(message));
            response
        }
        Refusal::Internal => {
            error_response(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, "internal error")
        }
        Refusal::Unavailable => {
            let mut response = error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                crate::gateway::DATABASE_UNAVAILABLE,
            );
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1));
            response
        }
    }
}

/// The `WWW-Authenticate` challenge of a 401 (RFC 6750): no error code when no token came,
/// `invalid_token` with the reason otherwise.
fn www_authenticate(message: &str) -> HeaderValue {
    let value = if message == crate::auth::refusal::MISSING {
        r#"Bearer realm="sinergi""#.to_owned()
    } else {
        format!(r#"Bearer realm="sinergi", error="invalid_token", error_description="{message}""#)
    };
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(r#"Bearer realm="sinergi""#))
}

/// The caller of an HTTP request, or the refusal to answer with (logged).
async fn authenticated(gateway: &Gateway, headers: &HeaderMap) -> Result<crate::auth::Actor, Box<Response>> {
    gateway.authenticate(bearer(headers)).await.map_err(|refusal| {
        tracing::info!(
            status = if refusal == Refusal::Unavailable { 503 } else { 401 },
            reason = refusal.message(),
            "request refused"
        );
        Box::new(refused(&refusal))
    })
}

/// `POST /graphql`: one JSON GraphQL request. The body limit holds while the body is read (a
/// declared length above it is refused unread); multipart uploads and batches are refused.
async fn graphql(
    State(gateway): State<Gateway>,
    axum::Extension(RequestId(request_id)): axum::Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let media = match Media::of(&headers) {
        Ok(media) => media,
        Err(refusal) => return *refusal,
    };
    let limit = gateway.app.limits.max_body_bytes;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let sent = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if sent != "application/json" {
        let message = if sent.starts_with("multipart/") {
            "multipart requests (file uploads) are not supported; send application/json"
        } else {
            "send the GraphQL request as application/json"
        };
        return error_response(StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::BadRequest, message);
    }
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BadRequest,
            &format!("the request body is larger than {limit} bytes (max_body_bytes)"),
        )
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let actor = match authenticated(&gateway, &headers).await {
        Ok(actor) => actor,
        Err(refusal) => return *refusal,
    };
    // A body must arrive within the request timeout: a client trickling bytes holds nothing long.
    let bytes =
        match tokio::time::timeout(gateway.app.limits.request_timeout, axum::body::to_bytes(body, limit))
            .await
        {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(_)) => return too_large(),
            Err(_) => {
                return error_response(
                    StatusCode::REQUEST_TIMEOUT,
                    ErrorCode::BadRequest,
                    "the request body did not arrive within the request timeout",
                );
            }
        };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "batched requests (a JSON array) are not supported; send one operation per request",
        );
    }
    let request = match crate::documents::request_from_slice(&bytes) {
        Ok(request) => request,
        Err(err) => {
            let message = format!("the body is not a GraphQL request in JSON ({})", err.classify_message());
            return error_response(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, &message);
        }
    };
    let purpose = pii::purpose(headers.get("x-purpose").and_then(|v| v.to_str().ok()));
    let idempotency = match headers.get("idempotency-key") {
        None => None,
        Some(value) => {
            match value
                .to_str()
                .map_err(|e| e.to_string())
                .and_then(crate::idempotency::Idempotency::from_header)
            {
                Ok(idempotency) => Some(idempotency),
                Err(_) => {
                    let message = format!(
                        "Idempotency-Key must be 1 to {} visible ASCII characters",
                        crate::idempotency::MAX_KEY
                    );
                    return error_response(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, &message);
                }
            }
        }
    };
    let caller = Caller { actor: std::sync::Arc::new(actor), purpose, request_id, idempotency };
    execute(gateway, media, caller, request, Transport::Post).await
}

/// Runs an HTTP request's operation and answers it.
async fn execute(
    gateway: Gateway,
    media: Media,
    caller: Caller,
    request: async_graphql::Request,
    transport: Transport,
) -> Response {
    // Its own task: an operation runs to its end (commit or rollback, within `request_timeout`)
    // even when the client goes away — a mutation is not cut off halfway, and its
    // Idempotency-Key gets the answer a retry will receive.
    let tasks = gateway.app.tasks.clone();
    let run = tasks.spawn(
        async move { gateway.run(&caller, request, transport).await }.instrument(tracing::Span::current()),
    );
    match run.await.unwrap_or(Err(Refusal::Internal)) {
        Ok(Run::Single(reply)) => answer(media, reply),
        Ok(Run::Stream(_)) => error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "subscriptions run over WebSocket at /graphql/ws",
        ),
        Err(refusal) => refused(&refusal),
    }
}

/// The media type of a GraphQL response (GraphQL over HTTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    /// `application/json`: every well-formed request is answered 200, request errors too.
    Json,
    /// `application/graphql-response+json`: a request error is answered 4xx/5xx.
    GraphqlResponse,
}

impl Media {
    /// The media type an `Accept` header prefers among those the endpoint answers in: the highest
    /// quality, a named type before a wildcard, and `application/json` for `*/*`,
    /// `application/*` or no header (what clients written before the GraphQL-over-HTTP
    /// specification expect). `None` when it accepts neither (answered 406).
    fn accepted(accept: Option<&str>) -> Option<Self> {
        let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else { return Some(Self::Json) };
        let mut best: Option<(u16, u8, Self)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .and_then(|(_, v)| v.trim().parse::<f32>().ok())
                .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16);
            let (specific, media) = match media.as_str() {
                "application/graphql-response+json" => (2, Self::GraphqlResponse),
                "application/json" => (2, Self::Json),
                "application/*" | "*/*" => (1, Self::Json),
                _ => continue,
            };
            if quality == 0 {
                continue;
            }
            if best.is_none_or(|(q, s, _)| (quality, specific) > (q, s)) {
                best = Some((quality, specific, media));
            }
        }
        best.map(|(_, _, media)| media)
    }

    /// The media type a request's `Accept` asks for, or the 406 to answer.
    fn of(headers: &HeaderMap) -> Result<Self, Box<Response>> {
        Self::accepted(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())).ok_or_else(|| {
            Box::new(error_response(
                StatusCode::NOT_ACCEPTABLE,
                ErrorCode::BadRequest,
                "Accept names no media type this endpoint answers in: accept application/graphql-response+json or application/json",
            ))
        })
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::GraphqlResponse => "application/graphql-response+json",
        }
    }
}

/// The HTTP response for an operation's answer. A request error has no `data` entry (the
/// GraphQL specification: execution never began); it is answered 200 as `application/json` and
/// with its code's status as `application/graphql-response+json`.
fn answer(media: Media, reply: Reply) -> Response {
    let (status, body) = match reply {
        Reply::Ran(body) => (StatusCode::OK, body),
        Reply::Replayed(body) => {
            let mut response = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()))],
                body,
            )
                .into_response();
            response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            return response;
        }
        // Refused as HTTP whatever the media type: rate limited (429 and Retry-After), an
        // Idempotency-Key in use (409) or used for another request (422).
        Reply::Rejected { errors, retry_after, status: Some(status), .. } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            let mut response = (
                status,
                [(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()))],
                format!(r#"{{"errors":{errors}}}"#),
            )
                .into_response();
            if let Some(seconds) = retry_after {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            if status == StatusCode::METHOD_NOT_ALLOWED {
                response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
            }
            return response;
        }
        Reply::Rejected { errors, code, .. } => {
            let status = match media {
                Media::Json => StatusCode::OK,
                Media::GraphqlResponse => status_of(code),
            };
            let mut response = (
                status,
                [(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()))],
                format!(r#"{{"errors":{errors}}}"#),
            )
                .into_response();
            if status == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="sinergi", error="invalid_token""#),
                );
            }
            return response;
        }
    };
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()))], body).into_response()
}

/// The HTTP status a request error's code stands for.
fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Short, safe wording of a JSON parse failure: what kind, and where — never the input.
trait ClassifyMessage {
    fn classify_message(&self) -> String;
}

impl ClassifyMessage for serde_json::Error {
    fn classify_message(&self) -> String {
        let kind = match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "malformed JSON",
            serde_json::error::Category::Data => {
                "not the shape {\"query\", \"variables\", \"operationName\"}"
            }
            serde_json::error::Category::Eof => "the JSON ends early",
        };
        format!("{kind} at line {} column {}", self.line(), self.column())
    }
}

/// GraphiQL's page: its scripts and styles come from this server (built into the binary,
/// pinned versions), so it works without a network beyond the gateway.
async fn graphiql() -> Html<&'static str> {
    Html(include_str!("../assets/graphiql/index.html"))
}

/// The version of GraphiQL built in; its assets are served under `/graphiql/<version>/`.
const GRAPHIQL_VERSION: &str = "3.9.0";

/// `GET /graphiql/<version>/<file>`: GraphiQL's assets, cached for good (the path names the
/// version). Not served when GraphiQL is off.
async fn graphiql_asset(
    State(gateway): State<Gateway>,
    axum::extract::Path((version, file)): axum::extract::Path<(String, String)>,
) -> Response {
    let asset: Option<(&'static [u8], &'static str)> = match file.as_str() {
        "graphiql.min.js" => Some((include_bytes!("../assets/graphiql/graphiql.min.js"), "text/javascript")),
        "graphiql.min.css" => Some((include_bytes!("../assets/graphiql/graphiql.min.css"), "text/css")),
        "react.production.min.js" => {
            Some((include_bytes!("../assets/graphiql/react.production.min.js"), "text/javascript"))
        }
        "react-dom.production.min.js" => {
            Some((include_bytes!("../assets/graphiql/react-dom.production.min.js"), "text/javascript"))
        }
        "LICENSES.txt" => {
            Some((include_bytes!("../assets/graphiql/LICENSES.txt"), "text/plain; charset=utf-8"))
        }
        _ => None,
    };
    match asset {
        Some((bytes, media)) if gateway.app.http.graphiql && version == GRAPHIQL_VERSION => (
            [(header::CONTENT_TYPE, media), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")],
            bytes,
        )
            .into_response(),
        _ => error_response(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such file"),
    }
}

/// `GET /graphql`: GraphiQL for a browser, the WebSocket endpoint for a client that upgrades.
async fn graphiql_or_websocket(
    state: State<Gateway>,
    axum::Extension(id): axum::Extension<RequestId>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    permit: Option<axum::Extension<ConnectionPermit>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    match upgrade {
        Ok(upgrade) => serve_websocket(state.0, id, headers, permit.map(|p| p.0), upgrade),
        Err(_) if query.as_deref().is_some_and(names_an_operation) => {
            graphql_get(state.0, id, headers, query.unwrap_or_default()).await
        }
        Err(_) if state.app.http.graphiql => graphiql().await.into_response(),
        Err(_) => error_response(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "GraphiQL is off (production); POST GraphQL requests here, or set SINERGI_GRAPHIQL=true",
        ),
    }
}

/// Whether a GET's query string asks for an operation (else GET serves GraphiQL): it names one
/// of the GraphQL parameters, or does not even decode (answered 400).
fn names_an_operation(query: &str) -> bool {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).map_or(true, |pairs| {
        pairs.iter().any(|(name, _)| {
            matches!(name.as_str(), "query" | "documentId" | "extensions" | "operationName" | "variables")
        })
    })
}

/// A GET request's parameters (GraphQL over HTTP): `variables` and `extensions` are JSON.
#[derive(serde::Deserialize)]
struct GetParams {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
    #[serde(rename = "documentId")]
    document_id: Option<String>,
}

impl GetParams {
    fn into_request(self) -> Result<async_graphql::Request, String> {
        let json = |what: &str, text: Option<String>| -> Result<Option<serde_json::Value>, String> {
            text.map(|t| serde_json::from_str::<serde_json::Value>(&t))
                .transpose()
                .map_err(|e| format!("the `{what}` parameter is not JSON ({})", e.classify_message()))
        };
        let mut request = async_graphql::Request::new(self.query);
        request.operation_name = self.operation_name.filter(|name| !name.is_empty());
        if let Some(variables) = json("variables", self.variables)? {
            if !variables.is_object() {
                return Err("the `variables` parameter must be a JSON object".into());
            }
            request.variables = async_graphql::Variables::from_json(variables);
        }
        if let Some(extensions) = json("extensions", self.extensions)? {
            let serde_json::Value::Object(extensions) = extensions else {
                return Err("the `extensions` parameter must be a JSON object".into());
            };
            for (key, value) in extensions {
                let value = async_graphql::Value::from_json(value).map_err(|_| {
                    "the `extensions` parameter holds a value GraphQL cannot carry".to_owned()
                })?;
                request.extensions.insert(key, value);
            }
        }
        if request.query.trim().is_empty() {
            crate::documents::adopt_document_id(
                &mut request,
                self.document_id.map(serde_json::Value::String),
            );
        }
        Ok(request)
    }
}

/// `GET /graphql?query=…` (GraphQL over HTTP): a query — by its text, an APQ hash or a
/// registered `documentId` — with the same checks as a POST. A mutation is answered 405.
async fn graphql_get(
    gateway: Gateway,
    RequestId(request_id): RequestId,
    headers: HeaderMap,
    query: String,
) -> Response {
    let media = match Media::of(&headers) {
        Ok(media) => media,
        Err(refusal) => return *refusal,
    };
    let actor = match authenticated(&gateway, &headers).await {
        Ok(actor) => actor,
        Err(refusal) => return *refusal,
    };
    let request = match serde_urlencoded::from_str::<GetParams>(&query)
        .map_err(|_| "the query string is not valid form encoding".to_owned())
        .and_then(GetParams::into_request)
    {
        Ok(request) => request,
        Err(message) => return error_response(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, &message),
    };
    let purpose = pii::purpose(headers.get("x-purpose").and_then(|v| v.to_str().ok()));
    let caller = Caller { actor: std::sync::Arc::new(actor), purpose, request_id, idempotency: None };
    execute(gateway, media, caller, request, Transport::Get).await
}

/// `GET /graphql/ws`: GraphQL over `graphql-transport-ws`.
async fn websocket(
    State(state): State<Gateway>,
    axum::Extension(id): axum::Extension<RequestId>,
    headers: HeaderMap,
    permit: Option<axum::Extension<ConnectionPermit>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    serve_websocket(state, id, headers, permit.map(|p| p.0), upgrade)
}

/// Upgrades to `graphql-transport-ws`; a client that does not offer the subprotocol is refused.
/// The token comes in `connection_init`'s payload, or else in the upgrade request's header.
fn serve_websocket(
    gateway: Gateway,
    RequestId(socket_id): RequestId,
    headers: HeaderMap,
    permit: Option<ConnectionPermit>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(crate::ws::PROTOCOL));
    if !offered {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "offer the graphql-transport-ws subprotocol (Sec-WebSocket-Protocol)",
        );
    }
    // The socket outlives its HTTP connection: it takes over the connection's permit (or, when
    // served without `serve`'s accept loop, one of its own).
    let permit = permit
        .and_then(|p| p.take())
        .map(Ok)
        .unwrap_or_else(|| gateway.app.connections.clone().try_acquire_owned());
    let Ok(permit) = permit else {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::BadRequest,
            "the gateway serves as many connections as it may (max_connections); try again later",
        );
    };
    let header_token = bearer(&headers).map(str::to_owned);
    let purpose = pii::purpose(headers.get("x-purpose").and_then(|v| v.to_str().ok()));
    let limit = gateway.app.limits.max_body_bytes;
    let span = tracing::info_span!("socket", socket_id = %socket_id);
    upgrade
        .protocols([crate::ws::PROTOCOL])
        .max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(crate::ws::READ_BUFFER)
        .on_upgrade(move |socket| {
            async move {
                let _permit = permit;
                crate::ws::serve(socket, gateway, header_token, purpose, socket_id).await;
            }
            .instrument(span)
        })
}

async fn schema_sdl(State(state): State<HttpState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], state.schema.sdl())
}

/// How long `/readyz` waits for the database: a load balancer's health check must get its
/// answer well within its own timeout, not after the pool's (10 s).
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

async fn readyz(State(state): State<HttpState>) -> impl IntoResponse {
    if state.app.lifecycle.is_draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    match tokio::time::timeout(READY_WITHIN, state.app.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!("database did not answer within a second");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn jwks(State(state): State<HttpState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], state.app.keys.jwks().to_string())
}

/// A request's method and route as the metrics label them.
fn labels(request: &axum::extract::Request) -> (&'static str, &'static str) {
    let method = match request.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "OPTIONS" => "OPTIONS",
        "HEAD" => "HEAD",
        _ => "other",
    };
    let path = request.uri().path();
    let route = match path {
        "/graphql" => "/graphql",
        "/graphql/ws" => "/graphql/ws",
        "/schema.graphql" => "/schema.graphql",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        "/.well-known/jwks.json" => "/.well-known/jwks.json",
        "/dashboard" | "/dashboard/" => "/dashboard",
        "/lapangan" | "/lapangan/" => "/lapangan/",
        _ if path.starts_with("/lapangan/") => "/lapangan/{file}",
        _ if path.starts_with("/graphiql/") => "/graphiql/{version}/{file}",
        _ if path.starts_with("/ui/assets/") => "/ui/assets/{file}",
        _ => "unmatched",
    };
    (method, route)
}

/// OpenMetrics text, as Prometheus asks for it.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

async fn metrics(State(state): State<HttpState>) -> Response {
    if !state.app.http.metrics {
        return error_response(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "metrics are served on SINERGI_METRICS_LISTEN's address, not here",
        );
    }
    ([(header::CONTENT_TYPE, OPENMETRICS)], metrics_text(&state.app).await).into_response()
}

/// The metrics, with the gauges read now: the database pools and the webhooks' backlog.
pub async fn metrics_text(app: &AppState) -> String {
    // On PostgreSQL (and SQLite in memory) queries read through the writer's own pool: counted
    // once, as the writer.
    let separate =
        |a: &sea_orm::DatabaseConnection, b: &sea_orm::DatabaseConnection| match a.get_database_backend() {
            sea_orm::DbBackend::Sqlite => !std::sync::Arc::ptr_eq(
                &a.get_sqlite_connection_pool().connect_options(),
                &b.get_sqlite_connection_pool().connect_options(),
            ),
            _ => false,
        };
    let mut pools = vec![("writer", &app.db)];
    if separate(&app.db, &app.reader) {
        pools.push(("reader", &app.reader));
    }
    for (name, db) in pools {
        let (size, idle) = match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle() as u32)
            }
            sea_orm::DbBackend::Sqlite => {
                let pool = db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle() as u32)
            }
            _ => (0, 0),
        };
        let gauge = |state: &str| crate::metrics::PoolLabels { pool: name.into(), state: state.into() };
        app.metrics.pool.get_or_create(&gauge("idle")).set(i64::from(idle));
        app.metrics.pool.get_or_create(&gauge("busy")).set(i64::from(size.saturating_sub(idle)));
    }
    match tokio::time::timeout(READY_WITHIN, crate::webhooks::backlog(&app.reader)).await {
        Ok(Ok(backlog)) => {
            app.metrics.webhook_backlog.set(backlog);
        }
        Ok(Err(err)) => tracing::warn!(error = %err, "cannot read the webhooks' backlog"),
        Err(_) => tracing::warn!("the webhooks' backlog did not come within a second"),
    }
    app.metrics.render()
}

/// The router of `SINERGI_METRICS_LISTEN`: `/metrics` alone.
pub fn metrics_router(app: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(app): State<AppState>| async move {
                ([(header::CONTENT_TYPE, OPENMETRICS)], metrics_text(&app).await)
            }),
        )
        .with_state(app)
}
