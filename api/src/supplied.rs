//! Creates with a client-supplied id: what the first create of an id was asked to write, so a
//! retry of it returns the record and a different create reusing the id is a `CONFLICT`.
//!
//! The mutation stores a digest of its input (as the schema parsed it: field order, defaults and
//! explicit nulls do not matter) beside the record's id in `supplied_id`, in the create's own
//! transaction. A later create naming the same id by the same agency compares digests.

use std::future::Future;

use async_graphql::{InputType, Value};
use sea_orm::{
    ConnectionTrait, DbErr,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A mutation input's id and the digest of the whole input.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Input {
    id: Uuid,
    digest: String,
}

tokio::task_local! {
    static SUPPLIED: Input;
}

/// What a mutation's input supplied: its `id` and digest, when it names an id.
pub struct Supplied(Option<Input>);

impl Supplied {
    /// Reads `input` (before the mutation hands it to its service).
    pub fn of(input: &impl InputType) -> Self {
        Self(of(&input.to_value()))
    }

    /// Runs the mutation's service with the input known to [`store`] and [`differs`].
    pub async fn run<F: Future>(self, service: F) -> F::Output {
        match self.0 {
            Some(input) => SUPPLIED.scope(input, service).await,
            None => service.await,
        }
    }
}

fn of(value: &Value) -> Option<Input> {
    let Value::Object(fields) = value else {
        return None;
    };
    let Some(Value::String(id)) = fields.get("id") else {
        return None;
    };
    let id = Uuid::parse_str(id).ok()?;
    let json = without_nulls(value.clone().into_json().ok()?);
    Some(Input { id, digest: hex::encode(Sha256::digest(json.to_string().as_bytes())) })
}

/// The input without its `null` fields, at every depth: a field omitted and a field sent as
/// `null` are the same input, and a release that adds an optional field to an input does not
/// make a queued retry look like another create.
fn without_nulls(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(fields) => serde_json::Value::Object(
            fields.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect(),
        ),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(without_nulls).collect())
        }
        other => other,
    }
}

/// The digest of the running create when it supplied `id`.
fn current(id: Uuid) -> Option<String> {
    SUPPLIED.try_with(|s| (s.id == id).then(|| s.digest.clone())).ok().flatten()
}

fn table() -> Alias {
    Alias::new("supplied_id")
}

/// Records the running create's input digest for the record `id` it inserted (call in the
/// insert's transaction); nothing when the id was not supplied by the client.
pub async fn store(txn: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    let Some(digest) = current(id) else {
        return Ok(());
    };
    let insert = Query::insert()
        .into_table(table())
        .columns(["entity_id", "input_digest", "created_at"].map(Alias::new))
        .values_panic([id.into(), digest.into(), chrono::Utc::now().into()])
        .to_owned();
    txn.execute_raw(txn.get_database_backend().build(&insert)).await.map(|_| ())
}

/// Whether the running create of `id` asks for something other than the create that made the
/// record: `false` for a true retry; `true` when the record was not made by a create naming
/// this id (the server chose it, or an import or the demo data made the record — or it predates
/// the digests), since such a create cannot be retried. `false` outside a mutation.
pub async fn differs(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    let Some(digest) = current(id) else {
        return Ok(false);
    };
    let select = Query::select()
        .column(Alias::new("input_digest"))
        .from(table())
        .and_where(Expr::col(Alias::new("entity_id")).eq(id))
        .to_owned();
    let Some(row) = db.query_one_raw(db.get_database_backend().build(&select)).await? else {
        return Ok(true);
    };
    let first: String = row.try_get_by_index(0)?;
    Ok(first != digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{Name, indexmap::IndexMap};

    fn input(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (Name::new(k), v.clone())).collect::<IndexMap<_, _>>())
    }

    #[test]
    fn only_an_input_naming_a_uuid_id_is_tracked() {
        let id = Uuid::now_v7();
        assert!(of(&input(&[("name", Value::from("Warung"))])).is_none());
        assert!(of(&input(&[("id", Value::Null), ("name", Value::from("Warung"))])).is_none());
        let a = of(&input(&[("id", Value::from(id.to_string())), ("name", Value::from("Warung"))]))
            .expect("tracked");
        let b = of(&input(&[("id", Value::from(id.to_string())), ("name", Value::from("Warung"))]))
            .expect("tracked");
        let c = of(&input(&[("id", Value::from(id.to_string())), ("name", Value::from("Toko"))]))
            .expect("tracked");
        assert_eq!(a, b);
        assert_eq!(a.id, id);
        assert_ne!(a.digest, c.digest);
        // A field the schema added later (null in the retry) leaves the input the same.
        let later = of(&input(&[
            ("id", Value::from(id.to_string())),
            ("name", Value::from("Warung")),
            ("nib", Value::Null),
        ]))
        .expect("tracked");
        assert_eq!(a.digest, later.digest);
    }
}
