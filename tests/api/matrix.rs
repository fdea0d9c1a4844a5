//! The authorization matrix, walked by introspection so a new field cannot be forgotten: every
//! query field and mutation names its scope; without it the answer is `FORBIDDEN`, with it (and,
//! for writes, as the owning agency) it is not.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app};

const INTROSPECTION: &str = "{ __schema {
  queryType { name } mutationType { name }
  types { name kind enumValues { name } inputFields { name type { ...T } }
          fields { name description args { name type { ...T } } type { ...T } } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// Fields every valid token may use, with no further scope.
/// `node` and `nodes` answer any token, each record only when the token may read its type (tested
/// in `regions::node_and_nodes_fetch_any_record_the_token_may_see_and_nothing_else`).
const OPEN_TO_ANY_TOKEN: &[&str] = &["me", "regions", "agencies", "node", "nodes"];

fn named(t: &Value) -> &Value {
    if t["name"].is_null() { named(&t["ofType"]) } else { t }
}

/// A value of GraphQL type `t` that parses: enough to get past input coercion to the guards.
fn dummy(t: &Value, types: &BTreeMap<String, Value>) -> Value {
    match t["kind"].as_str() {
        Some("NON_NULL") => dummy(&t["ofType"], types),
        Some("LIST") => json!([]),
        _ => {
            let name = t["name"].as_str().unwrap_or_default();
            match name {
                "UUID" => json!(uuid::Uuid::now_v7()),
                "String" | "ID" => json!("x"),
                "Int" | "Rupiah" => json!(1),
                "Boolean" => json!(false),
                "Date" => json!("2025-01-01"),
                "DateTime" => json!("2025-01-01T00:00:00Z"),
                _ => {
                    let ty = &types[name];
                    match ty["kind"].as_str() {
                        Some("ENUM") => ty["enumValues"][0]["name"].clone(),
                        Some("INPUT_OBJECT") => {
                            let mut object = serde_json::Map::new();
                            for field in ty["inputFields"].as_array().into_iter().flatten() {
                                if field["type"]["kind"] == "NON_NULL" {
                                    object.insert(
                                        field["name"].as_str().unwrap_or_default().to_owned(),
                                        dummy(&field["type"], types),
                                    );
                                }
                            }
                            Value::Object(object)
                        }
                        _ => Value::Null,
                    }
                }
            }
        }
    }
}

/// The agency that owns the record type a mutation description names, if any.
fn owner(description: &str) -> &'static str {
    match description {
        d if d.contains("owns loan-application") || d.contains("owns market-service") => "DISPERINDAGKOP",
        d if d.contains("owns infrastructure-request") => "PUPR",
        _ => "DINSOS",
    }
}

pub struct Call {
    pub root: &'static str,
    pub field: String,
    pub scope: Option<String>,
    /// Every scope the field needs (`scope` is the first).
    pub scopes: Vec<String>,
    pub agency: &'static str,
    pub document: String,
    pub variables: Value,
}

pub async fn calls(app: &TestApp) -> Vec<Call> {
    let body = app.gql(&app.admin(), INTROSPECTION, json!({})).await;
    let types: BTreeMap<String, Value> = body["data"]["__schema"]["types"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (t["name"].as_str().unwrap_or_default().to_owned(), t.clone()))
        .collect();
    let mut calls = Vec::new();
    let roots = [
        (body["data"]["__schema"]["queryType"]["name"].as_str().unwrap_or("Query").to_owned(), "query"),
        (
            body["data"]["__schema"]["mutationType"]["name"].as_str().unwrap_or("Mutation").to_owned(),
            "mutation",
        ),
    ];
    for (root, op) in &roots {
        let (root, op) = (root.as_str(), *op);
        for field in types[root]["fields"].as_array().into_iter().flatten() {
            let name = field["name"].as_str().unwrap_or_default().to_owned();
            let description = field["description"].as_str().unwrap_or_default();
            // "Needs `a:b` and `c:d` (…) and …": every scope named in that sentence.
            let needs = description.split("Needs ").nth(1).unwrap_or_default();
            let needs = needs.split([';', '.']).next().unwrap_or_default();
            let scopes: Vec<String> = needs
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|s| sinergi_api::auth::parse_scopes(s).is_ok_and(|p| p.len() == 1))
                .map(str::to_owned)
                .collect();
            let scope = scopes.first().cloned();
            let (mut params, mut args, mut variables) = (Vec::new(), Vec::new(), serde_json::Map::new());
            for arg in field["args"].as_array().into_iter().flatten() {
                if arg["type"]["kind"] != "NON_NULL" {
                    continue;
                }
                let arg_name = arg["name"].as_str().unwrap_or_default();
                let type_name = named(&arg["type"])["name"].as_str().unwrap_or_default();
                params.push(format!("${arg_name}: {type_name}!"));
                args.push(format!("{arg_name}: ${arg_name}"));
                // A programme year must be one (2000–2100); any other `Int` takes the dummy.
                let value = if arg_name == "year" { json!(2026) } else { dummy(&arg["type"], &types) };
                variables.insert(arg_name.to_owned(), value);
            }
            let params = if params.is_empty() { String::new() } else { format!("({})", params.join(", ")) };
            let args = if args.is_empty() { String::new() } else { format!("({})", args.join(", ")) };
            let leaf = matches!(named(&field["type"])["kind"].as_str(), Some("SCALAR" | "ENUM"));
            let selection = if leaf { String::new() } else { " { __typename }".to_owned() };
            calls.push(Call {
                root: op,
                field: name.clone(),
                scope,
                scopes,
                agency: if op == "mutation" { owner(description) } else { "DINSOS" },
                document: format!("{op} M{params} {{ {name}{args}{selection} }}"),
                variables: Value::Object(variables),
            });
        }
    }
    calls
}

#[tokio::test]
async fn every_field_and_mutation_needs_its_scope() {
    let app = spawn_app().await;
    let all = crate::helpers::all_scopes();
    let calls = calls(&app).await;
    assert!(calls.len() > 60, "the walk found {} fields", calls.len());
    let mut checked = 0;
    for call in &calls {
        let Some(scope) = &call.scope else {
            assert!(
                OPEN_TO_ANY_TOKEN.contains(&call.field.as_str()),
                "{} {} names no scope in its description",
                call.root,
                call.field
            );
            continue;
        };
        for needed in &call.scopes {
            let without: Vec<&str> = all.iter().map(|s| s.as_str()).filter(|s| s != needed).collect();
            let token = app.token(call.agency, &without.join(" "), &["64"]);
            let body = app.gql(&token, &call.document, call.variables.clone()).await;
            assert_eq!(
                error_code(&body).as_deref(),
                Some("FORBIDDEN"),
                "{} {} without {needed}: {body}",
                call.root,
                call.field
            );
        }

        let token = app.token(call.agency, &call.scopes.join(" "), &["64"]);
        let body = app.gql(&token, &call.document, call.variables.clone()).await;
        let code = error_code(&body);
        assert!(
            !matches!(code.as_deref(), Some("FORBIDDEN" | "UNAUTHENTICATED" | "BAD_REQUEST" | "INTERNAL")),
            "{} {} with only {scope} as {}: {body}",
            call.root,
            call.field,
            call.agency
        );
        checked += 1;
    }
    println!("authorization matrix: {checked} fields and mutations checked both ways");
}

/// The code of the first error of an operation's result over a socket (its `next` payload, or
/// an `error` message).
fn socket_code(message: &Value) -> Option<String> {
    let errors = if message["type"] == "error" { &message["payload"] } else { &message["payload"]["errors"] };
    errors[0]["extensions"]["code"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn every_field_and_mutation_needs_its_scope_over_websocket_too() {
    use crate::subscriptions::{WsClient, init};
    let app = spawn_app().await;
    let all = crate::helpers::all_scopes();
    let calls = calls(&app).await;
    let mut checked = 0;
    for call in calls.iter().filter(|c| c.scope.is_some()) {
        let scope = call.scopes.join(" ");
        let mut cases: Vec<(String, bool)> = call
            .scopes
            .iter()
            .map(|needed| {
                let without: Vec<&str> = all.iter().map(|s| s.as_str()).filter(|s| s != needed).collect();
                (without.join(" "), false)
            })
            .collect();
        cases.push((scope.clone(), true));
        for (scopes, allowed) in cases {
            let token = app.token(call.agency, &scopes, &["64"]);
            let mut ws = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
            ws.subscribe("m", &call.document, call.variables.clone()).await;
            let answer = ws.next("m").await;
            let code = socket_code(&answer);
            if allowed {
                assert!(
                    !matches!(
                        code.as_deref(),
                        Some("FORBIDDEN" | "UNAUTHENTICATED" | "BAD_REQUEST" | "INTERNAL")
                    ),
                    "{} {} with only {scope} over a socket: {answer}",
                    call.root,
                    call.field
                );
            } else {
                assert_eq!(
                    code.as_deref(),
                    Some("FORBIDDEN"),
                    "{} {} without {scope}: {answer}",
                    call.root,
                    call.field
                );
            }
        }
        checked += 1;
    }
    println!("authorization matrix over WebSocket: {checked} fields and mutations checked both ways");
}
