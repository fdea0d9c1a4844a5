//! The HTTP boundary: authentication, the GraphQL endpoint, GraphiQL, health and metrics.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Instant,
};

use async_graphql::{
    Data, ErrorExtensionValues, ServerError, Value,
    http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource},
};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::{
    Router,
    extract::{
        State,
        ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use tower_http::catch_panic::CatchPanicLayer;

use crate::{
    auth::Actor,
    context::AppState,
    error::coded,
    loaders::Loaders,
    pii::{self, PiiReads},
    schema::SinergiSchema,
};

/// What every handler shares.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    pub schema: SinergiSchema,
}

/// The gateway's routes.
pub fn router(app: AppState) -> Router {
    let schema = crate::schema::build_schema(Some(app.clone()));
    Router::new()
        .route("/graphql", get(graphiql_or_websocket).post(graphql))
        .route("/graphql/ws", get(websocket))
        .route("/schema.graphql", get(schema_sdl))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/.well-known/jwks.json", get(jwks))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            error_response(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error")
        }))
        .with_state(HttpState { app, schema })
}

fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "data": null,
        "errors": [{ "message": message, "extensions": { "code": code } }],
    });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Marks errors that carry no code (parse, validation, input-coercion errors) as `BAD_REQUEST`.
fn ensure_codes(errors: &mut [ServerError]) {
    for error in errors {
        let extensions = error.extensions.get_or_insert_with(ErrorExtensionValues::default);
        if extensions.get("code").is_none() {
            extensions.set("code", Value::from("BAD_REQUEST"));
        }
    }
}

async fn graphql(State(state): State<HttpState>, headers: HeaderMap, request: GraphQLRequest) -> Response {
    let started = Instant::now();
    state.app.metrics.graphql_requests.fetch_add(1, Ordering::Relaxed);
    let request = request.into_inner();
    let operation = request.operation_name.clone().unwrap_or_else(|| "-".into());
    let actor: Actor = match bearer(&headers).map(|token| state.app.keys.verify(token)) {
        Some(Ok(actor)) => actor,
        Some(Err(err)) => {
            tracing::info!(operation, status = 401, reason = %err, "token refused");
            return error_response(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "a valid bearer token is required",
            );
        }
        None => {
            tracing::info!(operation, status = 401, "no bearer token");
            return error_response(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "a valid bearer token is required",
            );
        }
    };
    match state.app.revocations.is_revoked(&state.app.db, &actor.token_id).await {
        Ok(false) => {}
        Ok(true) => {
            tracing::info!(operation, status = 401, token_id = actor.token_id, "revoked token");
            return error_response(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "a valid bearer token is required",
            );
        }
        Err(err) => {
            tracing::error!(error = ?err, "cannot read revocations");
            return error_response(StatusCode::SERVICE_UNAVAILABLE, "INTERNAL", "internal error");
        }
    }
    let agency = actor.agency.clone();
    let loaders = Loaders::new(&state.app.db, &actor);
    let reads = Arc::new(PiiReads::default());
    let mut response =
        state.schema.execute(request.data(actor.clone()).data(loaders).data(reads.clone())).await;
    ensure_codes(&mut response.errors);
    // Unmasked personal data leaves only once its read is on record.
    let purpose = pii::purpose(headers.get("x-purpose").and_then(|v| v.to_str().ok()));
    if let Err(err) = reads.flush(&state.app.db, &actor, &operation, purpose.as_deref()).await {
        tracing::error!(operation, agency, error = ?err, "cannot record personal-data reads; response withheld");
        return error_response(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error");
    }
    tracing::info!(
        operation,
        agency,
        status = 200,
        errors = response.errors.len(),
        duration_ms = started.elapsed().as_millis() as u64,
        "graphql"
    );
    GraphQLResponse::from(response).into_response()
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("Sinergi GraphQL")
            .finish(),
    )
}

/// `GET /graphql`: GraphiQL for a browser, the WebSocket endpoint for a client that upgrades.
async fn graphiql_or_websocket(
    state: State<HttpState>,
    headers: HeaderMap,
    protocol: Result<GraphQLProtocol, StatusCode>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    match (upgrade, protocol) {
        (Ok(upgrade), Ok(protocol)) => serve_websocket(state.0, headers, protocol, upgrade),
        _ => graphiql().await.into_response(),
    }
}

/// `GET /graphql/ws`: subscriptions over `graphql-transport-ws` (and the older `graphql-ws`).
async fn websocket(
    State(state): State<HttpState>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    serve_websocket(state, headers, protocol, upgrade)
}

/// Verifies a token and checks it is not revoked.
async fn authenticate(app: &AppState, token: &str) -> Result<Actor, &'static str> {
    let actor = app.keys.verify(token).map_err(|err| {
        tracing::info!(reason = %err, "token refused");
        "a valid bearer token is required"
    })?;
    match app.revocations.is_revoked(&app.db, &actor.token_id).await {
        Ok(false) => Ok(actor),
        Ok(true) => Err("a valid bearer token is required"),
        Err(err) => {
            tracing::error!(error = ?err, "cannot read revocations");
            Err("internal error")
        }
    }
}

/// The token comes in `connection_init`'s payload (`{"Authorization": "Bearer …"}` or
/// `{"token": "…"}`), or else in the upgrade request's `Authorization` header.
fn serve_websocket(
    state: HttpState,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let header_token = bearer(&headers).map(str::to_owned);
    let app = state.app.clone();
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |socket| {
        GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
            .on_connection_init(move |payload| async move {
                let from_payload = payload
                    .get("Authorization")
                    .or_else(|| payload.get("authorization"))
                    .and_then(|v| v.as_str())
                    .and_then(|v| v.split_once(' ').map(|(_, t)| t.trim().to_owned()))
                    .or_else(|| payload.get("token").and_then(|v| v.as_str()).map(str::to_owned));
                let token = from_payload
                    .or(header_token)
                    .ok_or_else(|| coded("UNAUTHENTICATED", "a valid bearer token is required"))?;
                let actor = authenticate(&app, &token).await.map_err(|m| coded("UNAUTHENTICATED", m))?;
                tracing::info!(agency = actor.agency, client = actor.client, "subscription connection");
                let mut data = Data::default();
                data.insert(Loaders::new(&app.db, &actor));
                data.insert(Arc::new(PiiReads::default()));
                data.insert(actor);
                Ok(data)
            })
            .serve()
    })
}

async fn schema_sdl(State(state): State<HttpState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], state.schema.sdl())
}

async fn readyz(State(state): State<HttpState>) -> impl IntoResponse {
    match state.app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(error = %err, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn jwks(State(state): State<HttpState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], state.app.keys.jwks().to_string())
}

async fn metrics(State(state): State<HttpState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.app.metrics.render())
}
