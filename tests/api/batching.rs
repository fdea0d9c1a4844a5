//! Relations are batched: a nested page costs a fixed number of SQL statements.

use serde_json::json;

use crate::helpers::{CREATE_BUSINESS, spawn_app};

const NESTED: &str = "query($first: Int) {
  beneficiaries(first: $first) {
    nodes { fullName businesses { name loans { product requestedAmount } monitoringVisits { nodes { visitedOn } } } }
  }
}";

#[tokio::test]
async fn a_nested_page_of_fifty_runs_as_few_statements_as_a_page_of_five() {
    let app = spawn_app().await;
    let token = app.admin();
    for _ in 0..50 {
        let person = app.beneficiary(2).await;
        let body = app
            .gql(
                &token,
                CREATE_BUSINESS,
                json!({ "input": { "beneficiaryId": person, "name": "Warung", "sector": "FOOD" } }),
            )
            .await;
        let business = body["data"]["createBusiness"]["business"]["id"].as_str().expect("id").to_owned();
        for _ in 0..2 {
            let q = "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { userErrors { code } } }";
            app.gql(&app.koperasi(), q, json!({ "i": { "businessId": business, "product": "COOPERATIVE", "lender": "Koperasi", "requestedAmount": 1000000, "tenorMonths": 6 } })).await;
        }
    }
    let mut costs = Vec::new();
    for first in [5, 50] {
        let before = app.statements().await;
        let body = app.gql(&token, NESTED, json!({ "first": first })).await;
        let nodes = body["data"]["beneficiaries"]["nodes"].as_array().cloned().unwrap_or_default();
        assert_eq!(nodes.len(), first, "{body}");
        assert_eq!(nodes[first - 1]["businesses"][0]["loans"].as_array().map(Vec::len), Some(2));
        costs.push(app.statements().await - before);
    }
    println!("SQL statements: page of 5 = {}, page of 50 = {}", costs[0], costs[1]);
    // count + page + one batch each for businesses, loans and visits = 5. A batch can split when
    // the machine is very busy, so allow a little slack; one query per row would be 150+.
    assert!(costs.iter().all(|c| *c <= 7), "statements stay few and flat: {costs:?}");
}

/// A new app with a running business visited (RUNNING) on each of `days`, an admin token and
/// the business's id.
async fn business_visited_on(days: &[&str]) -> (crate::helpers::TestApp, String, String) {
    let app = spawn_app().await;
    let token = app.admin();
    let person = app.beneficiary(2).await;
    let business = app.running_business(&person, "2025-01-01").await;
    let record = "mutation($i: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $i) { userErrors { code message } } }";
    for day in days {
        let body = app
            .gql(&token, record, json!({ "i": { "businessId": business, "volunteerName": "Relawan Uji", "visitedOn": day, "observedStatus": "RUNNING", "obstacles": [] } }))
            .await;
        assert_eq!(body["data"]["recordMonitoringVisit"]["userErrors"], json!([]), "{body}");
    }
    (app, token, business)
}

#[tokio::test]
async fn a_nested_connection_pages_with_cursors_orders_and_counts() {
    let (app, token, business) =
        business_visited_on(&["2025-03-01", "2025-02-01", "2025-05-01", "2025-04-01"]).await;
    let page =
        "query($id: UUID!, $after: String) { business(id: $id) { monitoringVisits(first: 3, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { visitedOn } } } }";
    let body = app.gql(&token, page, json!({ "id": business })).await;
    let visits = &body["data"]["business"]["monitoringVisits"];
    assert_eq!(visits["totalCount"], 4, "{body}");
    let days: Vec<&str> =
        visits["nodes"].as_array().into_iter().flatten().filter_map(|v| v["visitedOn"].as_str()).collect();
    assert_eq!(days, ["2025-05-01", "2025-04-01", "2025-03-01"], "newest first: {body}");
    assert_eq!(visits["pageInfo"]["hasNextPage"], true);
    let cursor = visits["pageInfo"]["endCursor"].clone();
    let body = app.gql(&token, page, json!({ "id": business, "after": cursor })).await;
    let visits = &body["data"]["business"]["monitoringVisits"];
    assert_eq!(visits["nodes"], json!([{ "visitedOn": "2025-02-01" }]), "{body}");
    assert_eq!(visits["pageInfo"]["hasNextPage"], false);
    let ascending = "query($id: UUID!) { business(id: $id) { monitoringVisits(orderBy: {field: VISITED_ON}) { nodes { visitedOn } } } }";
    let body = app.gql(&token, ascending, json!({ "id": business })).await;
    assert_eq!(body["data"]["business"]["monitoringVisits"]["nodes"][0]["visitedOn"], "2025-02-01", "{body}");
}

#[tokio::test]
async fn referral_outcomes_load_in_one_batch_for_a_whole_page() {
    let app = spawn_app().await;
    let dinsos = app.token("DINSOS", "referral:read referral:write", &["64"]);
    let koperasi = app.token("DISPERINDAGKOP", "referral:read referral:write loan:read loan:write", &["64"]);
    for _ in 0..6 {
        let person = app.beneficiary(2).await;
        let business = app.running_business(&person, "2025-01-01").await;
        let loan = app
            .gql(
                &koperasi,
                "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { loanApplication { id } } }",
                json!({ "i": { "businessId": business, "product": "COOPERATIVE", "lender": "Koperasi", "requestedAmount": 2000000, "tenorMonths": 6 } }),
            )
            .await;
        let loan = loan["data"]["createLoanApplication"]["loanApplication"]["id"].clone();
        let body = app
            .gql(
                &dinsos,
                "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id } } }",
                json!({ "i": { "beneficiaryId": person, "businessId": business, "toAgency": "DISPERINDAGKOP", "service": "CAPITAL_ACCESS", "reason": "Modal usaha" } }),
            )
            .await;
        let id = body["data"]["createReferral"]["referral"]["id"].clone();
        let accept = "mutation($i: StatusChangeInput!) { acceptReferral(input: $i) { userErrors { code } } }";
        app.gql(&koperasi, accept, json!({ "i": { "id": id, "expectedVersion": 1 } })).await;
        let complete = "mutation($i: CompleteReferralInput!) { completeReferral(input: $i) { referral { status } userErrors { code message } } }";
        let body = app
            .gql(&koperasi, complete, json!({ "i": { "id": id, "expectedVersion": 2, "outcomeType": "LOAN_APPLICATION", "outcomeId": loan } }))
            .await;
        assert_eq!(body["data"]["completeReferral"]["referral"]["status"], "COMPLETED", "{body}");
    }
    let page = "query($first: Int) { referrals(first: $first) { nodes { outcome { __typename ... on LoanApplication { id requestedAmount } } } } }";
    let mut costs = Vec::new();
    for first in [2, 6] {
        let before = app.statements().await;
        let body = app.gql(&koperasi, page, json!({ "first": first })).await;
        let nodes = body["data"]["referrals"]["nodes"].as_array().cloned().unwrap_or_default();
        assert_eq!(nodes.len(), first, "{body}");
        assert!(nodes.iter().all(|n| n["outcome"]["__typename"] == "LoanApplication"), "{body}");
        costs.push(app.statements().await - before);
    }
    // the page + one batch of outcomes; a batch can split when the machine is very busy.
    assert!(
        costs[1] <= costs[0] + 1 && costs[1] <= 4,
        "outcomes are batched, not one query per referral: {costs:?}"
    );
}

#[tokio::test]
async fn a_nested_connection_orders_ties_exactly_like_the_list() {
    let (app, token, business) =
        business_visited_on(&["2025-03-01", "2025-03-01", "2025-02-01", "2025-03-01"]).await;
    let ids = |body: &serde_json::Value, path: &[&str]| -> Vec<String> {
        let mut node = body;
        for p in path {
            node = &node[*p];
        }
        node["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["id"].as_str().map(str::to_owned))
            .collect()
    };
    for direction in ["ASC", "DESC"] {
        let order = format!("orderBy: {{field: VISITED_ON, direction: {direction}}}");
        let list = format!(
            "query($id: UUID!) {{ monitoringVisits(filter: {{businessId: $id}}, {order}) {{ nodes {{ id }} }} }}"
        );
        let nested = format!(
            "query($id: UUID!) {{ business(id: $id) {{ monitoringVisits({order}) {{ nodes {{ id }} }} }} }}"
        );
        let from_sql =
            ids(&app.gql(&token, &list, json!({ "id": business })).await, &["data", "monitoringVisits"]);
        let in_memory = ids(
            &app.gql(&token, &nested, json!({ "id": business })).await,
            &["data", "business", "monitoringVisits"],
        );
        assert_eq!(from_sql.len(), 4, "{direction}: {from_sql:?}");
        assert_eq!(from_sql, in_memory, "{direction}: the database and the in-memory pager agree on ties");
    }
}

#[tokio::test]
async fn a_mutations_later_fields_read_its_earlier_writes() {
    let app = spawn_app().await;
    let person = app.beneficiary(2).await;
    let q = "mutation($p: UUID!) {
      a: createBusiness(input: {beneficiaryId: $p, name: \"Warung A\", sector: FOOD}) { business { owner { businesses { name } } } }
      b: createBusiness(input: {beneficiaryId: $p, name: \"Warung B\", sector: FOOD}) { business { owner { businesses { name } } } }
    }";
    let body = app.gql(&app.admin(), q, json!({ "p": person })).await;
    let names = |field: &str| body["data"][field]["business"]["owner"]["businesses"].as_array().map(Vec::len);
    assert_eq!(names("a"), Some(1), "{body}");
    assert_eq!(
        names("b"),
        Some(2),
        "the second field reads the first one's business, not a cached list: {body}"
    );
}
