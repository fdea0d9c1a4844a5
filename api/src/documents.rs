//! Persisted documents: automatic persisted queries (Apollo's APQ protocol) and trusted
//! documents.
//!
//! - **APQ.** A client sends `extensions.persistedQuery.sha256Hash` instead of the document; an
//!   unknown hash is answered `PersistedQueryNotFound`, and the client sends the document with
//!   its hash once, which this replica keeps (a bounded cache: a replica that lost it asks again).
//!   The hash is checked against the text, so no one can store a document under another's hash.
//! - **Trusted documents.** An operator registers a client's documents from a manifest
//!   (`sinergi documents register`; graphql-codegen's `persisted-documents.json`, Apollo's
//!   persisted-query manifest, or `.graphql` files) into `trusted_document`. A client sends a
//!   registered document's `documentId` (GraphQL over HTTP, persisted documents) or APQ hash.
//!   An API client the policy marks `trusted_documents` runs **only** registered documents — the
//!   safe setting for a public front end, whose token anyone can read.
//!
//! Every door resolves references here, inside `Gateway::run`: POST, GET and each WebSocket
//! operation.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

use async_graphql::{Request, Value};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait,
    sea_query::{Alias, Cond, Expr, ExprTrait, OnConflict, Order, Query},
};
use sha2::{Digest, Sha256};

use crate::auth::Actor;

/// Longest `documentId` accepted.
pub const MAX_ID: usize = 200;
/// Bytes of documents one replica keeps for APQ; the least recently used go first.
const APQ_BYTES: usize = 16 << 20;
/// Documents one replica keeps for APQ at most.
const APQ_ENTRIES: usize = 10_000;
/// The client name that registers a document for every API client of an agency.
pub const EVERY_CLIENT: &str = "*";

/// A request's reference to a stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// APQ: `extensions.persistedQuery.sha256Hash` (version 1), lower-case hex.
    Apq(String),
    /// `documentId`: the id a manifest gave the document.
    Id(String),
}

/// Why a request's document could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// An APQ hash this replica does not know (the client then sends the document).
    ApqNotFound,
    /// A `documentId` registered for no document of this API client.
    IdNotFound,
    /// A trusted-documents client sent a document that is not registered for it.
    NotRegistered,
    /// The APQ hash is not the document's SHA-256.
    HashMismatch,
    /// A malformed reference.
    Malformed(String),
    /// The registry could not be read.
    Database(String),
}

impl Refused {
    /// The client-facing message. APQ's not-found message is the protocol's own, which Apollo's
    /// clients answer by sending the document.
    pub fn message(&self) -> String {
        match self {
            Self::ApqNotFound => "PersistedQueryNotFound".into(),
            Self::IdNotFound => "no document is registered under this documentId for this API client".into(),
            Self::NotRegistered => "this API client runs only registered documents (trusted documents): register the operation with `sinergi documents register` and send its documentId".into(),
            Self::HashMismatch => "provided sha does not match query".into(),
            Self::Malformed(why) => why.clone(),
            Self::Database(_) => "internal error".into(),
        }
    }
}

/// Puts a request's top-level `documentId` (which async-graphql's request does not carry) where
/// [`reference`] reads it (and refuses it when it is not a string).
pub fn adopt_document_id(request: &mut Request, document_id: Option<serde_json::Value>) {
    if let Some(id) = document_id.and_then(|id| Value::from_json(id).ok()) {
        request.extensions.insert("documentId".into(), id);
    }
}

/// The top-level `documentId` of a JSON request body.
#[derive(serde::Deserialize)]
struct DocumentId {
    #[serde(rename = "documentId")]
    document_id: Option<serde_json::Value>,
}

/// A GraphQL request from a JSON body, with its top-level `documentId` (read only when the body
/// has no document, so an ordinary request is parsed once).
pub fn request_from_slice(body: &[u8]) -> Result<Request, serde_json::Error> {
    let mut request: Request = serde_json::from_slice(body)?;
    if request.query.trim().is_empty() {
        adopt_document_id(&mut request, serde_json::from_slice::<DocumentId>(body)?.document_id);
    }
    Ok(request)
}

/// [`request_from_slice`] for a JSON value (a WebSocket `subscribe` payload).
pub fn request_from_value(payload: serde_json::Value) -> Result<Request, serde_json::Error> {
    let document_id = payload.get("documentId").cloned();
    let mut request: Request = serde_json::from_value(payload)?;
    if request.query.trim().is_empty() {
        adopt_document_id(&mut request, document_id);
    }
    Ok(request)
}

/// The document reference a request carries, if any.
pub fn reference(request: &Request) -> Result<Option<Reference>, Refused> {
    let malformed = |why: &str| Refused::Malformed(why.to_owned());
    if let Some(id) = request.extensions.get("documentId") {
        let Value::String(id) = id else {
            return Err(malformed("documentId must be a string"));
        };
        if id.is_empty()
            || id.len() > MAX_ID
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        {
            return Err(malformed("documentId must be 1 to 200 letters, digits, `-`, `_`, `.` or `:`"));
        }
        return Ok(Some(Reference::Id(id.clone())));
    }
    let Some(persisted) = request.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let Value::Object(persisted) = persisted else {
        return Err(malformed("extensions.persistedQuery must be an object"));
    };
    match persisted.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        _ => return Err(malformed("extensions.persistedQuery.version must be 1")),
    }
    match persisted.get("sha256Hash") {
        Some(Value::String(hash)) if is_sha256(hash) => Ok(Some(Reference::Apq(hash.to_ascii_lowercase()))),
        _ => Err(malformed("extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits")),
    }
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A document's SHA-256, lower-case hex.
pub fn sha256(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

/// The documents this replica has learnt through APQ, per agency: a client learns nothing of
/// what another agency's clients ran.
pub struct Documents {
    apq: Mutex<ApqCache>,
}

struct ApqCache {
    entries: lru::LruCache<String, Arc<str>>,
    bytes: usize,
}

impl Default for Documents {
    fn default() -> Self {
        let entries = lru::LruCache::new(NonZeroUsize::new(APQ_ENTRIES).unwrap_or(NonZeroUsize::MIN));
        Self { apq: Mutex::new(ApqCache { entries, bytes: 0 }) }
    }
}

impl std::fmt::Debug for Documents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Documents").finish_non_exhaustive()
    }
}

impl Documents {
    fn learnt(&self, agency: &str, hash: &str) -> Option<Arc<str>> {
        self.apq.lock().ok()?.entries.get(&format!("{agency}\n{hash}")).cloned()
    }

    fn learn(&self, agency: &str, hash: &str, document: &str) {
        let hash = format!("{agency}\n{hash}");
        let Ok(mut cache) = self.apq.lock() else { return };
        if cache.entries.contains(&hash) {
            return;
        }
        cache.bytes += document.len();
        if let Some((_, evicted)) = cache.entries.push(hash, Arc::from(document)) {
            cache.bytes -= evicted.len();
        }
        while cache.bytes > APQ_BYTES {
            match cache.entries.pop_lru() {
                Some((_, evicted)) => cache.bytes -= evicted.len(),
                None => break,
            }
        }
    }

    /// Fills in the document of a request that references one, and refuses what `trusted` (the
    /// API client runs only registered documents) does not allow. A request without a reference
    /// or text is left as it is (it fails as an empty document).
    pub async fn resolve(
        &self,
        db: &DatabaseConnection,
        actor: &Actor,
        trusted: bool,
        request: &mut Request,
    ) -> Result<(), Refused> {
        let reference = reference(request)?;
        let has_text = !request.query.trim().is_empty();
        if !has_text {
            request.query.clear();
        }
        let found =
            |found: Result<Option<String>, DbErr>| found.map_err(|e| Refused::Database(e.to_string()));
        let learnt = |hash: &str| if trusted { None } else { self.learnt(&actor.agency, hash) };
        match (reference, has_text) {
            (None, false) => Ok(()),
            (None, true) if !trusted => Ok(()),
            (None, true) => match found(registered_text(db, actor, &sha256(&request.query)).await)? {
                Some(_) => Ok(()),
                None => Err(Refused::NotRegistered),
            },
            (Some(Reference::Id(_)), true) => {
                Err(Refused::Malformed("send either a documentId or the document (query), not both".into()))
            }
            (Some(Reference::Apq(hash)), true) => {
                if sha256(&request.query) != hash {
                    return Err(Refused::HashMismatch);
                }
                if trusted {
                    return match found(registered_text(db, actor, &hash).await)? {
                        Some(_) => Ok(()),
                        None => Err(Refused::NotRegistered),
                    };
                }
                self.learn(&actor.agency, &hash, &request.query);
                Ok(())
            }
            // Learnt before (by this agency, its hash checked then): no need to ask the registry.
            (Some(Reference::Apq(hash)), false) if let Some(text) = learnt(&hash) => {
                request.query = text.to_string();
                Ok(())
            }
            (Some(reference), false) => {
                let (id, sha) = match &reference {
                    Reference::Apq(hash) => (hash.as_str(), Some(hash.as_str())),
                    Reference::Id(id) => (id.as_str(), id.strip_prefix("sha256:").filter(|h| is_sha256(h))),
                };
                if let Some(text) = found(registered(db, actor, id, sha).await)? {
                    request.query = text;
                    return Ok(());
                }
                match reference {
                    Reference::Apq(_) => Err(Refused::ApqNotFound),
                    Reference::Id(_) => Err(Refused::IdNotFound),
                }
            }
        }
    }
}

fn table() -> Alias {
    Alias::new("trusted_document")
}

fn col(name: &str) -> Alias {
    Alias::new(name)
}

/// The caller's registered documents (its own and its agency's for every client).
fn of_caller(actor: &Actor) -> Cond {
    Cond::all()
        .add(Expr::col(col("agency")).eq(actor.agency.as_str()))
        .add(Expr::col(col("client")).is_in([actor.client.as_str(), EVERY_CLIENT]))
}

/// The text of the caller's registered document with this id, or with this SHA-256.
async fn registered(
    db: &DatabaseConnection,
    actor: &Actor,
    id: &str,
    sha: Option<&str>,
) -> Result<Option<String>, DbErr> {
    let mut which = Cond::any().add(Expr::col(col("document_id")).eq(id));
    if let Some(sha) = sha {
        which = which.add(Expr::col(col("document_sha256")).eq(sha));
    }
    first_document(db, of_caller(actor).add(which)).await
}

/// The text of the caller's registered document with this SHA-256.
async fn registered_text(db: &DatabaseConnection, actor: &Actor, sha: &str) -> Result<Option<String>, DbErr> {
    first_document(db, of_caller(actor).add(Expr::col(col("document_sha256")).eq(sha))).await
}

/// The first registered document `which` admits: the client's own before its agency's for every
/// client under the same id.
async fn first_document(db: &DatabaseConnection, which: Cond) -> Result<Option<String>, DbErr> {
    let select = Query::select()
        .column(col("document"))
        .from(table())
        .cond_where(which)
        .order_by_expr(Expr::col(col("client")).eq(EVERY_CLIENT), Order::Asc)
        .limit(1)
        .to_owned();
    match db.query_one_raw(db.get_database_backend().build(&select)).await? {
        Some(row) => row.try_get_by_index(0).map(Some),
        None => Ok(None),
    }
}

/// One document of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub id: String,
    pub document: String,
    /// The operation's name, when it has one.
    pub name: Option<String>,
}

/// Reads a manifest: graphql-codegen's persisted documents (`{"<id>": "<document>", …}`),
/// Apollo's persisted-query manifest (`{"format": "apollo-persisted-query-manifest",
/// "operations": [{"id", "name", "body"}, …]}`), or a `.graphql` file (one document; its id is
/// its SHA-256). Every document must parse; an id of 64 hexadecimal digits (or `sha256:` and
/// them) must be the document's SHA-256.
pub fn read_manifest(file_name: &str, text: &str) -> Result<Vec<Registration>, String> {
    let documents = if file_name.ends_with(".graphql") || file_name.ends_with(".gql") {
        vec![Registration { id: sha256(text), document: text.to_owned(), name: None }]
    } else {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a JSON manifest: {e}"))?;
        let object = json.as_object().ok_or("a manifest is a JSON object")?;
        if object.get("format").and_then(|f| f.as_str()) == Some("apollo-persisted-query-manifest") {
            let operations =
                object.get("operations").and_then(|o| o.as_array()).ok_or("`operations` must be a list")?;
            operations
                .iter()
                .map(|op| {
                    let field = |name: &str| op.get(name).and_then(|v| v.as_str()).map(str::to_owned);
                    Ok(Registration {
                        id: field("id").ok_or("each operation needs an `id`")?,
                        document: field("body").ok_or("each operation needs a `body`")?,
                        name: None,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?
        } else {
            object
                .iter()
                .map(|(id, document)| {
                    let document =
                        document.as_str().ok_or_else(|| format!("{id}: the document must be a string"))?;
                    Ok(Registration { id: id.clone(), document: document.to_owned(), name: None })
                })
                .collect::<Result<Vec<_>, String>>()?
        }
    };
    if documents.is_empty() {
        return Err("the manifest holds no document".into());
    }
    documents
        .into_iter()
        .map(|mut registration| {
            let id = &registration.id;
            if id.is_empty()
                || id.len() > MAX_ID
                || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
            {
                return Err(format!(
                    "`{}`: an id is 1 to {MAX_ID} letters, digits, `-`, `_`, `.` or `:`",
                    short(id)
                ));
            }
            let hex = id.strip_prefix("sha256:").unwrap_or(id);
            if is_sha256(hex) && !hex.eq_ignore_ascii_case(&sha256(&registration.document)) {
                return Err(format!(
                    "{id}: the id is not the document's SHA-256 (was the file edited after it was generated?)"
                ));
            }
            let parsed = async_graphql::parser::parse_query(&registration.document)
                .map_err(|e| format!("{id}: the document does not parse: {e}"))?;
            registration.name = crate::limits::sole_operation_name(&parsed);
            Ok(registration)
        })
        .collect()
}

fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Registers `documents` for `agency`'s client `client` ([`EVERY_CLIENT`] for all of them), all
/// or none: a document already registered under its id is replaced. Returns how many.
pub async fn register(
    db: &DatabaseConnection,
    agency: &str,
    client: &str,
    documents: &[Registration],
) -> Result<usize, DbErr> {
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    let now = chrono::Utc::now();
    for registration in documents {
        let insert = Query::insert()
            .into_table(table())
            .columns(
                [
                    "agency",
                    "client",
                    "document_id",
                    "document_sha256",
                    "document",
                    "operation_name",
                    "created_at",
                ]
                .map(col),
            )
            .values_panic([
                agency.into(),
                client.into(),
                registration.id.clone().into(),
                sha256(&registration.document).into(),
                registration.document.clone().into(),
                registration.name.clone().into(),
                now.into(),
            ])
            .on_conflict(
                OnConflict::columns([col("agency"), col("client"), col("document_id")])
                    .update_columns([
                        col("document_sha256"),
                        col("document"),
                        col("operation_name"),
                        col("created_at"),
                    ])
                    .to_owned(),
            )
            .to_owned();
        txn.execute_raw(backend.build(&insert)).await?;
    }
    txn.commit().await?;
    Ok(documents.len())
}

/// One registered document, as `documents list` shows it.
#[derive(Debug, Clone)]
pub struct Registered {
    pub client: String,
    pub id: String,
    pub name: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The documents registered for `agency` (and its client `client`, when given).
pub async fn list(
    db: &DatabaseConnection,
    agency: &str,
    client: Option<&str>,
) -> Result<Vec<Registered>, DbErr> {
    let mut select = Query::select()
        .columns(["client", "document_id", "operation_name", "created_at"].map(col))
        .from(table())
        .and_where(Expr::col(col("agency")).eq(agency))
        .order_by(col("client"), Order::Asc)
        .order_by(col("document_id"), Order::Asc)
        .to_owned();
    if let Some(client) = client {
        select.and_where(Expr::col(col("client")).eq(client));
    }
    let rows = db.query_all_raw(db.get_database_backend().build(&select)).await?;
    rows.iter()
        .map(|row| {
            Ok(Registered {
                client: row.try_get_by_index(0)?,
                id: row.try_get_by_index(1)?,
                name: row.try_get_by_index(2)?,
                created_at: row.try_get_by_index(3)?,
            })
        })
        .collect()
}

/// Removes `agency`'s client's documents with these ids, or all of them when `ids` is empty.
/// Returns how many went.
pub async fn remove(
    db: &DatabaseConnection,
    agency: &str,
    client: &str,
    ids: &[String],
) -> Result<u64, DbErr> {
    let mut delete = Query::delete()
        .from_table(table())
        .and_where(Expr::col(col("agency")).eq(agency))
        .and_where(Expr::col(col("client")).eq(client))
        .to_owned();
    if !ids.is_empty() {
        delete.and_where(Expr::col(col("document_id")).is_in(ids.iter().map(String::as_str)));
    }
    Ok(db.execute_raw(db.get_database_backend().build(&delete)).await?.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_of_codegen_apollo_and_graphql_files_are_read() {
        let doc = "query Me { me { agency } }";
        let codegen = format!(r#"{{"{}": "{doc}", "abc123": "{{ me {{ client }} }}"}}"#, sha256(doc));
        let read = read_manifest("persisted-documents.json", &codegen).expect("codegen manifest");
        assert_eq!(read.len(), 2);
        assert_eq!(
            read.iter().find(|r| r.id == sha256(doc)).and_then(|r| r.name.clone()).as_deref(),
            Some("Me")
        );
        let apollo = format!(
            r#"{{"format":"apollo-persisted-query-manifest","version":1,"operations":[{{"id":"sha256:{}","name":"Me","type":"query","body":"{doc}"}}]}}"#,
            sha256(doc)
        );
        assert_eq!(read_manifest("manifest.json", &apollo).expect("apollo manifest")[0].document, doc);
        assert_eq!(read_manifest("me.graphql", doc).expect("a .graphql file")[0].id, sha256(doc));
    }

    #[test]
    fn a_manifest_that_lies_or_does_not_parse_is_refused() {
        let lie = format!(r#"{{"{}": "{{ me {{ client }} }}"}}"#, sha256("{ me { agency } }"));
        assert!(read_manifest("m.json", &lie).expect_err("a wrong hash").contains("SHA-256"));
        assert!(read_manifest("m.json", r#"{"x": "query {"}"#).expect_err("no parse").contains("parse"));
        assert!(read_manifest("m.json", r#"{}"#).is_err());
        assert!(read_manifest("m.json", r#"{"a b": "{ me { agency } }"}"#).is_err());
    }

    #[test]
    fn references_are_read_strictly() {
        let mut request = Request::new("");
        assert_eq!(reference(&request), Ok(None));
        adopt_document_id(&mut request, Some(serde_json::json!("sha256:abc")));
        assert_eq!(reference(&request), Ok(Some(Reference::Id("sha256:abc".into()))));
        let apq = |value: serde_json::Value| {
            let mut request = Request::new("");
            request.extensions.insert("persistedQuery".into(), Value::from_json(value).expect("value"));
            reference(&request)
        };
        let hash = sha256("{ me { agency } }");
        assert_eq!(
            apq(serde_json::json!({ "version": 1, "sha256Hash": hash.to_uppercase() })),
            Ok(Some(Reference::Apq(hash)))
        );
        assert!(apq(serde_json::json!({ "version": 2, "sha256Hash": sha256("x") })).is_err());
        assert!(apq(serde_json::json!({ "version": 1, "sha256Hash": "short" })).is_err());
    }

    #[test]
    fn the_apq_cache_stays_within_its_bytes() {
        let documents = Documents::default();
        let big = "x".repeat(APQ_BYTES / 3);
        for n in 0..5 {
            documents.learn("DINSOS", &format!("{n}"), &big);
        }
        let cache = documents.apq.lock().expect("lock");
        assert!(cache.bytes <= APQ_BYTES);
        assert_eq!(cache.entries.len(), 3);
    }
}
