//! One execution path for every GraphQL operation, whichever door it came through: `POST
//! /graphql` and each operation on a WebSocket run `Gateway::run`, so each gets the same checks —
//! a token still valid and not revoked, the limits, introspection rules, a time limit, a
//! response-size cap, masking, and the personal-data log written before the result leaves.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use async_graphql::{
    ErrorExtensionValues, Request, Response, ServerError, Value,
    parser::types::{ExecutableDocument, OperationType},
};
use futures_util::{StreamExt, stream::BoxStream};
use tracing::Instrument;

use crate::{
    auth::{Actor, Scope, refusal},
    context::{AppState, RequestDb},
    error::ErrorCode,
    limits::{
        MAX_DOCUMENT_NODES, MAX_TEXT_NESTING, MAX_TOKEN_LENGTH, SchemaShape, document_nodes, measure,
        scan_text,
    },
    loaders::Loaders,
    pii::PiiReads,
    schema::SinergiSchema,
};

/// The schema with its state, and what the gateway keeps per replica.
#[derive(Clone)]
pub struct Gateway {
    /// Shared, not copied, by each request and subscription.
    pub app: Arc<AppState>,
    pub schema: SinergiSchema,
    /// The same schema, for a document, operation and variables that passed its strict
    /// validation before (see `parsed`).
    validated_schema: SinergiSchema,
    shape: Arc<SchemaShape>,
    /// Open operations per API client on this replica (WebSocket).
    open: Arc<Mutex<HashMap<String, usize>>>,
    /// Documents learnt through APQ on this replica.
    documents: Arc<crate::documents::Documents>,
    /// Documents this replica has parsed (see `parsed`).
    parsed: Arc<crate::parsed::ParsedDocuments>,
    /// Subscriptions that share one execution (see `fanout`).
    groups: Arc<crate::fanout::Groups>,
}

/// Whether `name` is a GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`) of at most 100 characters.
fn is_graphql_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .enumerate()
            .all(|(n, b)| b == b'_' || b.is_ascii_alphabetic() || n > 0 && b.is_ascii_digit())
}

/// What `run` learnt of an operation, for its metrics.
#[derive(Default)]
struct Seen {
    operation: Option<String>,
    kind: Option<OperationType>,
}

/// The door an operation came through: what it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `POST /graphql`: queries and mutations.
    Post,
    /// `GET /graphql?query=…`: queries only (GraphQL over HTTP; a mutation is answered 405).
    Get,
    /// An operation on a WebSocket: subscriptions too.
    WebSocket,
}

/// What a caller is told while the database does not answer.
pub const DATABASE_UNAVAILABLE: &str = "the database is unavailable; retry shortly";

/// Who is calling, and why (the `X-Purpose` they stated).
#[derive(Clone, Debug)]
pub struct Caller {
    /// Shared by the caller's operations and what they keep (a subscription's stream).
    pub actor: Arc<Actor>,
    pub purpose: Option<String>,
    /// The HTTP request's id (`X-Request-Id`), or for a WebSocket operation the socket's id and
    /// the operation's: every log line of the operation carries it.
    pub request_id: String,
    /// The `Idempotency-Key` of an HTTP request (mutations only); its fingerprint is taken in
    /// `run`, from the document as resolved.
    pub idempotency: Option<crate::idempotency::Idempotency>,
}

/// Why a caller is refused before anything runs, or why a result cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No token, a bad one, or one that expired or was revoked (HTTP 401, WebSocket 4401/4403).
    Unauthenticated(&'static str),
    /// The gateway could not check the token or record the personal-data reads (HTTP 500).
    Internal,
    /// The database does not answer (HTTP 503 `UNAVAILABLE`; a socket closes with 1013): retry
    /// shortly — another replica, or this one once the database is back.
    Unavailable,
}

impl Refusal {
    /// The client-facing message.
    pub fn message(&self) -> &'static str {
        match self {
            Self::Unauthenticated(message) => message,
            Self::Internal => "internal error",
            Self::Unavailable => DATABASE_UNAVAILABLE,
        }
    }
}

/// One answer to an operation.
pub enum Reply {
    /// The operation ran: its response as JSON (`data`, and `errors` when fields failed).
    Ran(String),
    /// A request error: nothing of the operation ran — a document that does not parse or
    /// validate, a variable that does not coerce, a limit or a refusal before execution. `errors`
    /// is the JSON array of its errors (the response has no `data` entry), `code` the first
    /// error's code; `retry_after` the seconds to wait when the caller is rate-limited; `status`
    /// the HTTP status it is refused with whatever the media type (429, 409, 422).
    Rejected { errors: String, code: ErrorCode, retry_after: Option<u64>, status: Option<u16> },
    /// The kept response of a mutation run before with the same `Idempotency-Key`.
    Replayed(String),
}

/// What an operation produced: one answer, or a stream of them (a subscription).
pub enum Run {
    Single(Reply),
    Stream(BoxStream<'static, Result<Reply, Refusal>>),
}

/// Whether a response is a request error: no data, and no error at a path (every field error
/// has one), so execution never began.
/// The codes of `errors` (`INTERNAL` for one without a known code).
fn codes_of(errors: &[ServerError]) -> Vec<ErrorCode> {
    use strum::VariantArray;
    errors
        .iter()
        .map(|error| match error.extensions.as_ref().and_then(|e| e.get("code")) {
            Some(Value::String(code)) => ErrorCode::VARIANTS
                .iter()
                .find(|c| c.as_str() == code)
                .copied()
                .unwrap_or(ErrorCode::Internal),
            _ => ErrorCode::Internal,
        })
        .collect()
}

fn is_request_error(response: &Response) -> bool {
    matches!(response.data, Value::Null)
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// The result that ends a shared subscription's member that fell behind: the error its own
/// execution would have given (see `events::behind`).
fn behind(root: &crate::fanout::Root, last: i64) -> Response {
    let mut error = ServerError::new(crate::events::behind_message(last), Some(root.pos));
    error.path = vec![async_graphql::PathSegment::Field(root.key.to_string())];
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", Value::from(ErrorCode::RateLimited.as_str()));
    extensions.set("lastSequence", Value::from(last.to_string()));
    error.extensions = Some(extensions);
    Response::from_errors(vec![error])
}

/// A request error's answer.
fn rejected(errors: &[ServerError], code: ErrorCode) -> Reply {
    let errors = serde_json::to_string(errors)
        .unwrap_or_else(|_| r#"[{"message":"internal error","extensions":{"code":"INTERNAL"}}]"#.into());
    Reply::Rejected { errors, code, retry_after: None, status: None }
}

/// A request error refused with HTTP `status`.
fn refused_with(status: u16, code: ErrorCode, message: &str) -> Reply {
    match rejected(&error_response(code, message).errors, code) {
        Reply::Rejected { errors, code, retry_after, .. } => {
            Reply::Rejected { errors, code, retry_after, status: Some(status) }
        }
        other => other,
    }
}

/// A slot of an API client's open operations; given back when dropped.
pub struct Slot {
    open: Arc<Mutex<HashMap<String, usize>>>,
    key: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock()
            && let Some(n) = open.get_mut(&self.key)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// A GraphQL error with a code from docs/design.md.
pub fn error_response(code: ErrorCode, message: impl Into<String>) -> Response {
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", Value::from(code.as_str()));
    error.extensions = Some(extensions);
    Response::from_errors(vec![error])
}

/// Longest error message sent; parse and validation messages may quote the input.
const MAX_ERROR_MESSAGE: usize = 300;
/// Most errors one response carries.
const MAX_ERRORS: usize = 20;

/// A message cut to `MAX_ERROR_MESSAGE` characters.
fn clip(message: &str) -> String {
    match message.char_indices().nth(MAX_ERROR_MESSAGE) {
        Some((at, _)) => format!("{}… (cut)", &message[..at]),
        None => message.to_owned(),
    }
}

/// Gives every error its code, keeps at most `MAX_ERRORS` and cuts long messages: an error never
/// echoes megabytes. Errors async-graphql raises about the request itself — parsing, validation,
/// input coercion — are `BAD_REQUEST`. Any other error without a code came from inside (a `?`
/// on an error the service layer did not map): it leaves as an opaque `INTERNAL`, its text only
/// in the log, so no database text can reach a client.
fn ensure_codes(errors: &mut Vec<ServerError>, operation: &str) {
    if errors.len() > MAX_ERRORS {
        let more = errors.len() - MAX_ERRORS;
        errors.truncate(MAX_ERRORS);
        errors.push(ServerError::new(format!("… and {more} more errors"), None));
    }
    for error in errors.iter_mut() {
        let has_code = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
        if !has_code {
            // An argument that fails to coerce: "Failed to parse …", or "Expected input type …"
            // for an explicit null given to a non-null argument that has a default.
            let about_the_request = error.path.is_empty()
                || error.message.starts_with("Failed to parse \"")
                || error.message.starts_with("Expected input type \"");
            let code = if about_the_request {
                ErrorCode::BadRequest
            } else {
                tracing::error!(operation, path = ?error.path, error = %error.message, "an error without a code reached the boundary");
                error.message = "internal error".into();
                ErrorCode::Internal
            };
            error.extensions.get_or_insert_with(ErrorExtensionValues::default).set("code", code.as_str());
        }
        error.message = clip(&error.message);
    }
}

impl Gateway {
    /// The gateway over `app`, with the schema built once.
    pub fn new(app: AppState) -> Self {
        let schema = crate::schema::build_schema(Some(app.clone()));
        let validated_schema =
            crate::schema::build_schema_validating(Some(app.clone()), async_graphql::ValidationMode::Fast);
        let shape = Arc::new(SchemaShape::from_sdl(&schema.sdl()));
        Self {
            app: Arc::new(app),
            schema,
            validated_schema,
            shape,
            open: Arc::default(),
            documents: Arc::default(),
            parsed: Arc::default(),
            groups: Arc::default(),
        }
    }

    /// Verifies a bearer token: signature and claims, the policy in force now, revocation.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Actor, Refusal> {
        // While the database is down nothing can be checked or served: say so at once rather
        // than after the pool's wait.
        if self.app.lifecycle.database_down() {
            return Err(Refusal::Unavailable);
        }
        let token = token.ok_or(Refusal::Unauthenticated(refusal::MISSING))?;
        let mut actor = self.app.keys.verify(token).map_err(|err| {
            // The log names an unknown `kid` (escaped, cut short): a client holding a token of a
            // retired or foreign key. The client is told only that the token is not valid here.
            tracing::info!(reason = %err, "token refused");
            Refusal::Unauthenticated(err.client_message())
        })?;
        self.app.policy.vet(&mut actor, &self.app.regions).map_err(|why| {
            tracing::info!(
                agency = actor.agency,
                client = actor.client,
                reason = why,
                "token refused by the policy"
            );
            Refusal::Unauthenticated(refusal::NOT_ALLOWED)
        })?;
        self.recheck(&actor).await?;
        Ok(actor)
    }

    /// What can change while a token is in use: it expires, or it is revoked. Checked before
    /// every operation and subscription result, and on a WebSocket when its token expires or
    /// the revoked set changes.
    pub async fn recheck(&self, actor: &Actor) -> Result<(), Refusal> {
        if self.app.lifecycle.database_down() {
            return Err(Refusal::Unavailable);
        }
        // Verification allows 30 s of clock leeway on `exp`; an open socket gets the same.
        if chrono::Utc::now().timestamp() > actor.expires_at.saturating_add(30) {
            return Err(Refusal::Unauthenticated(refusal::EXPIRED));
        }
        match self
            .app
            .revocations
            .is_refused(&self.app.reader, &actor.token_id, &actor.agency, &actor.client)
            .await
        {
            Ok(false) => Ok(()),
            Ok(true) => Err(Refusal::Unauthenticated(refusal::REVOKED)),
            Err(err) if crate::error::is_unavailable(&err) => {
                tracing::warn!(error = %err, "cannot read revocations: the database is unavailable");
                Err(Refusal::Unavailable)
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot read revocations");
                Err(Refusal::Internal)
            }
        }
    }

    /// How long the caller must wait when its API client has used its rate; takes one request
    /// of it otherwise.
    fn rate_limited(&self, actor: &Actor) -> Option<std::time::Duration> {
        if !self.app.rate_limits {
            return None;
        }
        let limit = self.app.policy.rate_limit(&actor.agency, &actor.client)?;
        let key = format!("{}/{}", actor.agency, actor.client);
        let wait = self.app.rate_limiter.take(&key, limit).err()?;
        self.app.metrics.count_rate_limited();
        tracing::info!(agency = actor.agency, client = actor.client, "rate limited");
        Some(wait)
    }

    /// Takes a slot for one more open operation of the caller's client, if it has one left.
    pub fn open_slot(&self, actor: &Actor) -> Option<Slot> {
        let key = format!("{}/{}", actor.agency, actor.client);
        let mut open = self.open.lock().ok()?;
        let n = open.entry(key.clone()).or_default();
        if *n >= self.app.limits.max_subscriptions_per_client {
            return None;
        }
        *n += 1;
        Some(Slot { open: self.open.clone(), key })
    }

    /// Runs one operation for `caller`, come through `transport`, and counts it in the metrics.
    pub async fn run(&self, caller: &Caller, request: Request, transport: Transport) -> Result<Run, Refusal> {
        let started = Instant::now();
        let mut seen = Seen::default();
        let result = self.run_inner(caller, request, transport, &mut seen).await;
        let outcome = match &result {
            Ok(Run::Single(Reply::Ran(_))) => "ok",
            Ok(Run::Single(Reply::Replayed(_))) => "replayed",
            Ok(Run::Single(Reply::Rejected { code, .. })) => {
                self.app.metrics.count_error(code.as_str());
                code.as_str()
            }
            Ok(Run::Stream(_)) => "subscribed",
            Err(Refusal::Unauthenticated(_)) => ErrorCode::Unauthenticated.as_str(),
            Err(Refusal::Internal) => ErrorCode::Internal.as_str(),
            Err(Refusal::Unavailable) => ErrorCode::Unavailable.as_str(),
        };
        let kind = match seen.kind {
            Some(OperationType::Query) => "query",
            Some(OperationType::Mutation) => "mutation",
            Some(OperationType::Subscription) => "subscription",
            None => "-",
        };
        let elapsed = started.elapsed();
        self.app.metrics.count_operation(
            seen.operation.as_deref(),
            kind,
            &caller.actor.agency,
            outcome,
            elapsed.as_secs_f64(),
        );
        // The access log: who ran what, how it ended and how long it took — never the document,
        // its variables or the token.
        tracing::info!(
            request_id = %caller.request_id,
            operation = seen.operation.as_deref().unwrap_or("-"),
            r#type = kind,
            agency = %caller.actor.agency,
            client = %caller.actor.client,
            outcome,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "operation"
        );
        result
    }

    /// Counts the errors of a response that ran, by code (one of [`ErrorCode`]'s).
    fn count_errors(&self, errors: &[ServerError]) {
        self.count_codes(&codes_of(errors));
    }

    fn count_codes(&self, codes: &[ErrorCode]) {
        for code in codes {
            self.app.metrics.count_error(code.as_str());
        }
    }

    /// Scans and parses a document `agency`'s client sent, and keeps it parsed; `Err` says why
    /// it is refused: too deep, a name too long, not GraphQL, too many nodes.
    fn parse(&self, agency: &str, text: &str) -> Result<Arc<crate::parsed::Parsed>, String> {
        let scan = scan_text(text);
        if scan.nesting > MAX_TEXT_NESTING {
            return Err(format!("the document nests deeper than {MAX_TEXT_NESTING} brackets"));
        }
        if scan.longest_token > MAX_TOKEN_LENGTH {
            return Err(format!(
                "the document holds a name or number longer than {MAX_TOKEN_LENGTH} characters"
            ));
        }
        // Worded as the executor words it: where the text breaks, never the text itself.
        let document = async_graphql::parser::parse_query(text).map_err(|err| err.to_string())?;
        if document_nodes(&document) > MAX_DOCUMENT_NODES {
            return Err(format!(
                "the document holds more than {MAX_DOCUMENT_NODES} fields, arguments and directives"
            ));
        }
        Ok(self.parsed.keep(agency, text, document))
    }

    async fn run_inner(
        &self,
        caller: &Caller,
        mut request: Request,
        transport: Transport,
        seen: &mut Seen,
    ) -> Result<Run, Refusal> {
        self.recheck(&caller.actor).await?;
        if let Some(wait) = self.rate_limited(&caller.actor) {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            let mut response = error_response(
                ErrorCode::RateLimited,
                format!(
                    "this API client has used its rate ({}); retry in {seconds} s",
                    self.app
                        .policy
                        .rate_limit(&caller.actor.agency, &caller.actor.client)
                        .map(|l| format!("{} requests a minute, {} at once", l.per_minute, l.burst))
                        .unwrap_or_default()
                ),
            );
            if let Some(extensions) = response.errors[0].extensions.as_mut() {
                extensions.set("retryAfter", seconds);
            }
            let Reply::Rejected { errors, code, .. } = rejected(&response.errors, ErrorCode::RateLimited)
            else {
                unreachable!("rejected() makes a rejection")
            };
            return Ok(Run::Single(Reply::Rejected {
                errors,
                code,
                retry_after: Some(seconds),
                status: Some(429),
            }));
        }
        let limits = self.app.limits.clone();
        let refuse = |code, message: String| {
            Ok(Run::Single(rejected(&error_response(code, clip(&message)).errors, code)))
        };
        // A persisted document's reference becomes its text; a trusted-documents client runs
        // nothing else.
        let trusted = self.app.policy.trusted_documents(&caller.actor.agency, &caller.actor.client);
        if let Err(refused) =
            self.documents.resolve(&self.app.reader, &caller.actor, trusted, &mut request).await
        {
            use crate::documents::Refused;
            return match refused {
                Refused::Database(err) => {
                    tracing::error!(error = %err, "cannot read the registered documents");
                    refuse(ErrorCode::Internal, "internal error".into())
                }
                Refused::NotRegistered => {
                    tracing::info!(
                        agency = caller.actor.agency,
                        client = caller.actor.client,
                        "unregistered document refused"
                    );
                    refuse(ErrorCode::Forbidden, refused.message())
                }
                other => refuse(ErrorCode::BadRequest, other.message()),
            };
        }
        // The fingerprint of what runs: the resolved document, not the reference to it.
        let idempotency = caller.idempotency.as_ref().map(|key| key.of_request(&request));
        let kept = match self.parsed.get(&caller.actor.agency, &request.query) {
            Some(kept) => kept,
            None => match self.parse(&caller.actor.agency, &request.query) {
                Ok(kept) => kept,
                Err(why) => return refuse(ErrorCode::BadRequest, why),
            },
        };
        // The request runs its own copy; the gateway's checks read the kept one.
        request.set_parsed_query(ExecutableDocument::clone(&kept.document));
        let operation = request.operation_name.clone();
        let named = operation.clone().or_else(|| kept.sole_operation.clone());
        // Kept to complete the result with (see `complete`).
        let document = kept.document.clone();
        let doc = &*document;
        // The root field of a subscription that may share its execution (see `fanout`).
        let shareable = crate::fanout::shareable(doc, operation.as_deref());
        let parsed = measure(doc, operation.as_deref(), &request.variables, &self.shape).and_then(|m| {
            let selected = crate::limits::select_operation(doc, operation.as_deref());
            if let Some(selected) = selected {
                crate::variables::check(doc, selected, &request.variables, &self.shape)?;
            }
            Ok((m, selected.map(|op| op.ty)))
        });
        let (measured, kind) = match parsed {
            Ok(found) => found,
            Err(why) => return refuse(ErrorCode::BadRequest, why),
        };
        let complete = {
            let (shape, name) = (self.shape.clone(), operation.clone());
            move |response: &mut Response| {
                if let Some(operation) = crate::limits::select_operation(&document, name.as_deref()) {
                    crate::complete::complete(&document, operation, &shape, response);
                }
            }
        };
        if let Err(why) = limits.check(&measured) {
            return refuse(ErrorCode::BadRequest, why);
        }
        if measured.introspection && !limits.allows_introspection(caller.actor.has(Scope::Admin)) {
            return refuse(
                ErrorCode::Forbidden,
                "introspection is not enabled for this token; the schema is published at /schema.graphql"
                    .into(),
            );
        }
        if !limits.allows_introspection(caller.actor.has(Scope::Admin)) {
            request = request.disable_introspection();
        }
        let kind = kind.unwrap_or(OperationType::Query);
        // A name the client sent that is no GraphQL name (it names nothing in the document) is
        // neither a metrics label nor a log field.
        let named = named.filter(|name| is_graphql_name(name));
        seen.kind = Some(kind);
        seen.operation = named.clone();
        if kind == OperationType::Subscription && transport != Transport::WebSocket {
            return refuse(ErrorCode::BadRequest, "subscriptions run over WebSocket at /graphql/ws".into());
        }
        if kind == OperationType::Mutation && transport == Transport::Get {
            return Ok(Run::Single(refused_with(
                405,
                ErrorCode::BadRequest,
                "a mutation cannot be sent with GET; POST it",
            )));
        }
        let db = if kind == OperationType::Mutation { self.app.db.clone() } else { self.app.reader.clone() };
        let reads = Arc::new(PiiReads::default());
        let mut request = request;
        if let Some(volunteer) = caller.actor.volunteer {
            // A volunteer's token sees personal data only of its cases, as they are now.
            match crate::volunteer::service::cases_of(&db, volunteer).await {
                Ok(Some(cases)) => request = request.data(crate::pii::VolunteerCases(cases)),
                Ok(None) => {
                    return refuse(ErrorCode::Unauthenticated, "the token's volunteer is not active".into());
                }
                Err(err) => {
                    tracing::error!(error = %err, "cannot read a volunteer's cases");
                    return refuse(ErrorCode::Internal, "internal error".into());
                }
            }
        }
        // The caller's one copy, shared by the request's resolvers, its loaders and (a
        // subscription) its event stream.
        let actor = caller.actor.clone();
        let request = request
            .data(actor.clone())
            // Cached relations only for a query: a mutation's later fields must see its earlier
            // writes, and a subscription lives too long to keep what it read.
            .data(Loaders::new(&db, actor, kind == OperationType::Query))
            .data(reads.clone())
            .data(RequestDb(db));
        let name = named.unwrap_or_else(|| "-".into());
        // Everything the operation logs — a database error's cause chain included — carries the
        // operation and caller, inside the span that names the request's id (`http` for a
        // request, `op` for a socket's operation).
        let span = tracing::info_span!(
            "request",
            operation = %name,
            agency = %caller.actor.agency,
            client = %caller.actor.client,
        );
        if kind == OperationType::Subscription {
            let gateway = self.clone();
            // Shared with each result's delivery rather than copied for it.
            let (caller, name) = (Arc::new(caller.clone()), Arc::<str>::from(name));
            let key = shareable.and_then(|root| {
                let key = crate::fanout::Key::of(
                    &caller.actor,
                    &request.query,
                    request.operation_name.as_deref(),
                    &request.variables,
                )?;
                Some((root, key))
            });
            // A shared execution starts from the feed's head, which means something once the
            // feed runs (else the subscription runs on its own, and says why it cannot start).
            let feed = self.app.feed.clone();
            if let Some((root, key)) = key
                && Box::pin(feed.start(&self.app.reader)).await.is_ok()
            {
                let (group, group_name) = (self.clone(), name.clone());
                let running = crate::metrics::Held::new(&self.app.metrics.shared_subscriptions);
                let start = move |after: i64| {
                    let event = Arc::new(std::sync::atomic::AtomicI64::new(crate::fanout::NO_EVENT));
                    let request = request.data(crate::fanout::Start { after, event: event.clone() });
                    let schema = group.schema.clone();
                    schema.execute_stream(request).map(move |mut response| {
                        complete(&mut response);
                        let seq = event.swap(crate::fanout::NO_EVENT, std::sync::atomic::Ordering::AcqRel);
                        crate::fanout::Frame {
                            event: (seq != crate::fanout::NO_EVENT).then_some(seq),
                            outcome: group.prepare(response, &reads, &group_name),
                        }
                    })
                };
                let member = self.groups.join(
                    key,
                    crate::fanout::Execution {
                        buffer: crate::events::FEED_BUFFER,
                        head: || feed.head(),
                        start,
                        running,
                        // Its own span: it outlives the subscription that started it.
                        span: tracing::info_span!(
                            parent: None,
                            "shared subscription",
                            operation = %name,
                            agency = %caller.actor.agency,
                            client = %caller.actor.client,
                        ),
                    },
                );
                let stream = member
                    .frames()
                    .then(move |frame| {
                        let (gateway, caller, name, root) =
                            (gateway.clone(), caller.clone(), name.clone(), root.clone());
                        // Boxed: the stream keeps room for this future between events otherwise.
                        Box::pin(
                            async move {
                                match frame {
                                    Ok(frame) => gateway.hand_over(&caller, &frame.outcome, &name).await,
                                    Err(crate::fanout::Left::Behind { last }) => {
                                        gateway.recheck(&caller.actor).await?;
                                        gateway.count_codes(&[ErrorCode::RateLimited]);
                                        Ok(Some(Reply::Ran(gateway.encode(&behind(&root, last)))))
                                    }
                                }
                            }
                            .instrument(span.clone()),
                        )
                    })
                    .filter_map(|handed| std::future::ready(handed.transpose()));
                return Ok(Run::Stream(stream.boxed()));
            }
            let stream = self
                .schema
                .execute_stream(request)
                .then(move |mut response| {
                    complete(&mut response);
                    let outcome = gateway.prepare(response, &reads, &name);
                    let (gateway, caller, name) = (gateway.clone(), caller.clone(), name.clone());
                    // Boxed: the stream keeps room for this future between events otherwise.
                    Box::pin(
                        async move { gateway.hand_over(&caller, &outcome, &name).await }
                            .instrument(span.clone()),
                    )
                })
                .filter_map(|handed| std::future::ready(handed.transpose()));
            return Ok(Run::Stream(stream.boxed()));
        }
        // A mutation with an Idempotency-Key runs once; a retry gets the kept response.
        let client_key = format!("{}/{}", caller.actor.agency, caller.actor.client);
        let idempotency = idempotency
            .as_ref()
            .filter(|_| kind == OperationType::Mutation)
            .map(|i| i.for_actor(&caller.actor));
        let idempotency = idempotency.as_ref();
        if let Some(idempotency) = idempotency {
            use crate::idempotency::Claim;
            let ttl =
                chrono::Duration::from_std(limits.idempotency_ttl).unwrap_or(chrono::Duration::hours(24));
            let abandoned = chrono::Duration::from_std(limits.request_timeout).unwrap_or_default()
                + chrono::Duration::minutes(1);
            let claim =
                crate::idempotency::claim(&self.app.db, &client_key, idempotency, ttl, abandoned).await;
            let refuse =
                |status, message: &str| Ok(Run::Single(refused_with(status, ErrorCode::BadRequest, message)));
            match claim {
                Ok(Claim::Fresh) => {}
                Ok(Claim::Replay { response, reads }) => {
                    let replayed = PiiReads::restore(&reads);
                    if let Err(err) =
                        replayed.flush(&self.app.db, &caller.actor, &name, caller.purpose.as_deref()).await
                    {
                        tracing::error!(error = %err, "cannot record the personal-data reads of a replay");
                        return Err(Refusal::Internal);
                    }
                    tracing::info!(operation = %name, "idempotent replay");
                    return Ok(Run::Single(Reply::Replayed(response)));
                }
                Ok(Claim::OtherGrant) => {
                    return Ok(Run::Single(refused_with(
                        403,
                        ErrorCode::Forbidden,
                        "this Idempotency-Key's request ran under a token with another grant (scopes, regions or volunteer); its answer is shown only to such a token — the change was made: read it, do not send it again",
                    )));
                }
                Ok(Claim::Mismatch) => {
                    return refuse(
                        422,
                        "this Idempotency-Key was used with another request; use a new key for a new request",
                    );
                }
                Ok(Claim::Running) => {
                    return refuse(
                        409,
                        "a request with this Idempotency-Key is still running; retry in a moment",
                    );
                }
                Ok(Claim::Unfinished) => {
                    return refuse(
                        409,
                        "the first request with this Idempotency-Key did not finish, so its outcome is unknown: read the records it would have changed, then retry with a new key",
                    );
                }
                Err(err) => {
                    tracing::error!(error = %err, "cannot claim an idempotency key");
                    return Ok(Run::Single(refused_with(500, ErrorCode::Internal, "internal error")));
                }
            }
        }
        let body = async {
            let started = Instant::now();
            // Unconstrained: one poll of the executor visits every sibling field of a level, so a
            // level's DataLoader keys all arrive before its batch is fetched (tokio's cooperative
            // budget would otherwise yield halfway and split the batch when the machine is busy).
            // A document that passed the strict checks with this operation and these variables
            // before passes them again: it runs on the schema that skips them.
            let validation = self.parsed.validation(request.operation_name.as_deref(), &request.variables);
            let validated = validation.is_some_and(|validation| kept.validated(validation));
            let schema = if validated { &self.validated_schema } else { &self.schema };
            let execution = tokio::task::unconstrained(schema.execute(request));
            let outcome = tokio::time::timeout(limits.request_timeout, execution).await;
            if let (Ok(response), Some(validation), false) = (&outcome, validation, validated)
                && !is_request_error(response)
            {
                // It ran, so it was valid.
                kept.passed(validation);
            }
            let mut response = match outcome {
                Ok(mut response) if is_request_error(&response) => {
                    ensure_codes(&mut response.errors, &name);
                    if let Some(idempotency) = idempotency
                        && let Err(err) =
                            crate::idempotency::release(&self.app.db, &client_key, &idempotency.key).await
                    {
                        tracing::error!(error = %err, "cannot give an idempotency key back");
                    }
                    return Ok(rejected(&response.errors, ErrorCode::BadRequest));
                }
                Ok(mut response) => {
                    complete(&mut response);
                    response
                }
                Err(_) => {
                    tracing::warn!("operation timed out");
                    error_response(
                        ErrorCode::BadRequest,
                        format!(
                            "the operation ran longer than {} s (request_timeout) and was stopped; writes it had not committed were rolled back, but a mutation may have finished some of its changes: read the records again before you retry",
                            limits.request_timeout.as_secs()
                        ),
                    )
                }
            };
            ensure_codes(&mut response.errors, &name);
            self.count_errors(&response.errors);
            let mut snapshot = idempotency.map(|_| String::from("{}"));
            let body = self.deliver(caller, &response, &reads, &name, snapshot.as_mut()).await?;
            if let (Some(idempotency), Some(snapshot)) = (idempotency, snapshot)
                && let Err(err) =
                    crate::idempotency::complete(&self.app.db, &client_key, &idempotency.key, &body, &snapshot)
                        .await
            {
                // The answer still leaves; a retry will be told the outcome is unknown.
                tracing::error!(error = %err, "cannot keep an idempotent response");
            }
            tracing::info!(
                errors = response.errors.len(),
                duration_ms = started.elapsed().as_millis() as u64,
                "graphql"
            );
            Ok::<Reply, Refusal>(Reply::Ran(body))
        }
        .instrument(span)
        .await?;
        Ok(Run::Single(body))
    }

    /// Encodes a result within the response-size cap, then records its unmasked personal-data
    /// reads; only once they are on record may the result leave. A result over the cap is
    /// replaced by an error and its reads are not recorded: nothing of it is sent.
    async fn deliver(
        &self,
        caller: &Caller,
        response: &Response,
        reads: &PiiReads,
        operation: &str,
        snapshot: Option<&mut String>,
    ) -> Result<String, Refusal> {
        let body = match self.encode_capped(response) {
            Some(Ok(body)) => body,
            Some(Err(too_large)) => {
                reads.discard();
                return Ok(self.encode(&too_large));
            }
            None => return Err(Refusal::Internal),
        };
        // What is logged now is what a replay of this answer will log again.
        if let Some(snapshot) = snapshot {
            *snapshot = reads.snapshot();
        }
        if let Err(err) = reads.flush(&self.app.db, &caller.actor, operation, caller.purpose.as_deref()).await
        {
            tracing::error!(operation, agency = caller.actor.agency, error = %err, "cannot record personal-data reads; response withheld");
            return Err(Refusal::Internal);
        }
        Ok(body)
    }

    /// A subscription's result made ready to send to any subscriber that may be sent it: its
    /// errors coded (and counted by each delivery), its size capped, the personal data it read
    /// taken from `reads` (each delivery logs it under its own token).
    fn prepare(&self, mut response: Response, reads: &PiiReads, operation: &str) -> crate::fanout::Outcome {
        use crate::fanout::Outcome;
        let request_error = is_request_error(&response);
        ensure_codes(&mut response.errors, operation);
        let codes: Arc<[ErrorCode]> = codes_of(&response.errors).into();
        if request_error {
            reads.discard();
            let Reply::Rejected { errors, code, .. } = rejected(&response.errors, ErrorCode::BadRequest)
            else {
                unreachable!("rejected() makes a rejection")
            };
            return Outcome::Rejected { errors: errors.into(), code, codes };
        }
        let body = match self.encode_capped(&response) {
            Some(Ok(body)) => body,
            Some(Err(too_large)) => {
                reads.discard();
                let codes = codes_of(&too_large.errors).into();
                return Outcome::Result { body: self.encode(&too_large).into(), reads: None, codes };
            }
            None => {
                reads.discard();
                return Outcome::Failed;
            }
        };
        match reads.take() {
            Ok(reads) => Outcome::Result { body: body.into(), reads: reads.map(Arc::from), codes },
            Err(err) => {
                tracing::error!(
                    operation,
                    error = %err,
                    "cannot take the personal-data reads of a result; result withheld"
                );
                Outcome::Failed
            }
        }
    }

    /// Hands a subscription's prepared result to one subscriber: nothing more leaves for a token
    /// that expired or was revoked meanwhile, and the personal data it read is logged under the
    /// subscriber's token before it leaves. `None` when the subscription ended.
    async fn hand_over(
        &self,
        caller: &Caller,
        outcome: &crate::fanout::Outcome,
        operation: &str,
    ) -> Result<Option<Reply>, Refusal> {
        use crate::fanout::Outcome;
        match outcome {
            Outcome::End => return Ok(None),
            Outcome::Failed => return Err(Refusal::Internal),
            _ => {}
        }
        self.recheck(&caller.actor).await?;
        match outcome {
            Outcome::End => Ok(None),
            Outcome::Failed => Err(Refusal::Internal),
            Outcome::Rejected { errors, code, codes } => {
                self.count_codes(codes);
                Ok(Some(Reply::Rejected {
                    errors: errors.to_string(),
                    code: *code,
                    retry_after: None,
                    status: None,
                }))
            }
            Outcome::Result { body, reads, codes } => {
                self.count_codes(codes);
                if let Some(reads) = reads {
                    let logged = match PiiReads::parse(reads) {
                        Ok(reads) => {
                            reads
                                .flush(&self.app.db, &caller.actor, operation, caller.purpose.as_deref())
                                .await
                        }
                        Err(err) => {
                            Err(sea_orm::DbErr::Custom(format!("personal-data reads unreadable: {err}")))
                        }
                    };
                    if let Err(err) = logged {
                        tracing::error!(operation, agency = caller.actor.agency, error = %err, "cannot record personal-data reads; response withheld");
                        return Err(Refusal::Internal);
                    }
                }
                Ok(Some(Reply::Ran(body.to_string())))
            }
        }
    }

    /// `response` as JSON; `Err` with the error response to send instead when it exceeds
    /// `max_response_bytes`; `None` when it cannot be encoded (logged).
    fn encode_capped(&self, response: &Response) -> Option<Result<String, Response>> {
        match serde_json::to_string(response) {
            Ok(body) if body.len() <= self.app.limits.max_response_bytes => Some(Ok(body)),
            Ok(_) => Some(Err(error_response(
                ErrorCode::BadRequest,
                format!(
                    "the response would exceed {} bytes (max_response_bytes); ask for fewer records or fields",
                    self.app.limits.max_response_bytes
                ),
            ))),
            Err(err) => {
                tracing::error!(error = %err, "cannot encode a response");
                None
            }
        }
    }

    /// A small response the gateway made itself.
    fn encode(&self, response: &Response) -> String {
        serde_json::to_string(response).unwrap_or_else(|_| {
            r#"{"data":null,"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#.into()
        })
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{PathSegment, ServerError};

    use super::ensure_codes;

    fn code(error: &ServerError) -> Option<String> {
        error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .map(|v| v.to_string().trim_matches('"').to_owned())
    }

    #[test]
    fn an_error_without_a_code_from_inside_leaves_as_internal_without_its_text() {
        let mut inside =
            ServerError::new("error returned from database: relation \"x\" does not exist", None);
        inside.path = vec![PathSegment::Field("beneficiaries".into())];
        let mut coercion = ServerError::new("Failed to parse \"String\": the chars length is 17", None);
        coercion.path = vec![PathSegment::Field("createBeneficiary".into())];
        let validation = ServerError::new("Unknown field \"x\" on type \"Query\"", None);
        let mut null = ServerError::new("Expected input type \"Boolean\", found null.", None);
        null.path = vec![PathSegment::Field("eligibleCandidates".into())];
        let mut errors = vec![inside, coercion, validation, null];
        ensure_codes(&mut errors, "test");
        assert_eq!(code(&errors[3]).as_deref(), Some("BAD_REQUEST"), "a null for a non-null argument");
        assert_eq!(code(&errors[0]).as_deref(), Some("INTERNAL"));
        assert_eq!(errors[0].message, "internal error", "no database text leaves");
        assert_eq!(code(&errors[1]).as_deref(), Some("BAD_REQUEST"));
        assert_eq!(code(&errors[2]).as_deref(), Some("BAD_REQUEST"));
    }

    #[test]
    fn errors_are_few_and_short() {
        let mut errors: Vec<ServerError> =
            (0..50).map(|_| ServerError::new("x".repeat(10_000), None)).collect();
        ensure_codes(&mut errors, "test");
        assert_eq!(errors.len(), 21);
        assert!(errors.iter().all(|e| e.message.chars().count() < 320));
    }
}
