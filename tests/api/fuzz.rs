//! Property tests over the request surface: documents, variables, NIK/KK and other inputs,
//! filters and cursors, generated at random (proptest, shrunk to a minimal case on failure).
//! Whatever comes in, the gateway answers with a clean GraphQL body: never a panic, never a 5xx,
//! never an `INTERNAL` error (an `INTERNAL` would be a defect the input found).

use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// The codes a top-level error may carry when the input, not the gateway, is at fault.
const CLEAN: [&str; 6] =
    ["BAD_REQUEST", "NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED", "RATE_LIMITED", "UNAVAILABLE"];

/// Sends `body` and checks the answer is clean.
fn check(app: &TestApp, token: &str, body: Value) -> Result<Value, TestCaseError> {
    let (status, answer) = tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(async {
            let response = app
                .client
                .post(app.url("/graphql"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("the gateway answers");
            let status = response.status().as_u16();
            let text = response.text().await.expect("a body");
            (status, serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)))
        })
    });
    prop_assert!(status < 500, "status {status} for {body}: {answer}");
    prop_assert!(answer.is_object(), "a JSON object for {body}: {answer}");
    for error in answer["errors"].as_array().into_iter().flatten() {
        let code = error["extensions"]["code"].as_str().unwrap_or("none");
        prop_assert!(CLEAN.contains(&code), "code {code} for {body}: {answer}");
        let message = error["message"].as_str().unwrap_or_default();
        prop_assert!(message.chars().count() <= 320, "a short message: {message}");
    }
    prop_assert!(
        answer.get("data").is_some() || answer.get("errors").is_some(),
        "data or errors for {body}: {answer}"
    );
    Ok(answer)
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        "[0-9]{14,18}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

const LIST: &str = "query($id: UUID!, $first: Int, $after: String, $f: BeneficiaryFilter, $o: BeneficiaryOrderBy) {
  beneficiary(id: $id) { id }
  beneficiaries(first: $first, after: $after, filter: $f, orderBy: $o) { totalCount pageInfo { endCursor } nodes { id decile } }
  caseEvents(first: 5, after: $after) { nodes { sequence } }
}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_document_gets_a_clean_answer() {
    let app = spawn_app().await;
    let token = app.admin();
    let base = "query Look($id: UUID!) { beneficiary(id: $id) { id fullName businesses { id loans { id } } } me { agency } }";
    // A valid document with bytes inserted, deleted or replaced; and free text.
    let mutated = (0..base.len(), 0..3usize, "[ -~]{0,6}").prop_map(move |(at, how, text)| {
        let at = at.min(base.len());
        match how {
            0 => format!("{}{}{}", &base[..at], text, &base[at..]),
            1 => format!("{}{}", &base[..at], &base[(at + text.len()).min(base.len())..]),
            _ => format!("{}{}{}", &base[..at], text, &base[(at + text.len()).min(base.len())..]),
        }
    });
    let documents = prop_oneof![mutated, "[{}()a-z:$!@ .,\\[\\]\"#=0-9]{0,80}".prop_map(String::from)];
    runner(96)
        .run(&(documents, any_json()), |(query, variables)| {
            check(&app, &token, json!({ "query": query, "variables": variables, "operationName": "Look" }))
                .map(|_| ())
        })
        .expect("every document answered cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_variables_filters_and_cursors_get_a_clean_answer() {
    let app = spawn_app().await;
    let token = app.admin();
    app.beneficiary(3).await;
    let variables = (
        prop_oneof![any_json(), Just(json!(uuid::Uuid::now_v7().to_string()))],
        prop_oneof![any_json(), (-5i64..200).prop_map(Value::from)],
        prop_oneof![any_json(), "[A-Za-z0-9+/=_-]{0,40}".prop_map(Value::from)],
        any_json(),
        any_json(),
    );
    runner(96)
        .run(&variables, |(id, first, after, filter, order)| {
            let variables = json!({ "id": id, "first": first, "after": after, "f": filter, "o": order });
            check(&app, &token, json!({ "query": LIST, "variables": variables })).map(|_| ())
        })
        .expect("every variable answered cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_person_gets_a_clean_answer_and_only_a_valid_one_is_registered() {
    let app = spawn_app().await;
    let token = app.admin();
    let create = "mutation($i: CreateBeneficiaryInput!) { createBeneficiary(input: $i) {
      beneficiary { id nik } userErrors { field code message } } }";
    let person = (
        prop_oneof!["[0-9]{16}", "[0-9 a-z]{0,20}", ".{0,20}"],
        prop_oneof!["[0-9]{16}", ".{0,20}"],
        prop_oneof!["[A-Za-z '.-]{1,60}", ".{0,80}"],
        prop_oneof!["[0-9]{4}-[0-9]{2}-[0-9]{2}", ".{0,12}"],
        prop_oneof!["08[0-9]{8,11}", ".{0,20}"],
        prop_oneof!["64[0-9]{2}", ".{0,6}"],
        any::<i8>(),
    );
    runner(96)
        .run(&person, |(nik, kk, name, born, phone, regency, decile)| {
            let input = json!({
                "nik": nik, "kkNumber": kk, "isHeadOfFamily": true, "fullName": name, "birthDate": born,
                "sex": "FEMALE", "phone": phone, "address": "Jl. Uji", "regencyCode": regency,
                "districtCode": format!("{regency}01"), "decile": decile, "decileSource": "DTSEN",
                "decileAssessedOn": crate::helpers::recent_assessment(),
            });
            let answer = check(&app, &token, json!({ "query": create, "variables": { "i": input } }))?;
            let created = &answer["data"]["createBeneficiary"]["beneficiary"];
            if created.is_object() {
                // Only a NIK of sixteen digits is ever registered.
                let stored = created["nik"].as_str().unwrap_or_default();
                prop_assert!(stored.len() == 16 && stored.bytes().all(|b| b.is_ascii_digit()), "{answer}");
                prop_assert_eq!(stored, nik.as_str());
            }
            Ok(())
        })
        .expect("every person answered cleanly");
}
