//! Relations are batched: a nested page costs a fixed number of SQL statements.

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{CREATE_BUSINESS, error_code, postgres, spawn_app};

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
    // The counter counts the whole process's statements, background work (the rate-limit sync,
    // the revocation follower) included: the fewest of three tries is the request's own count.
    let mut costs = Vec::new();
    for first in [5, 50] {
        let mut fewest = u64::MAX;
        for _ in 0..3 {
            let before = app.statements().await;
            let body = app.gql(&token, NESTED, json!({ "first": first })).await;
            let nodes = body["data"]["beneficiaries"]["nodes"].as_array().cloned().unwrap_or_default();
            assert_eq!(nodes.len(), first, "{body}");
            assert_eq!(nodes[first - 1]["businesses"][0]["loans"].as_array().map(Vec::len), Some(2));
            fewest = fewest.min(app.statements().await - before);
        }
        costs.push(fewest);
    }
    println!("SQL statements: page of 5 = {}, page of 50 = {}", costs[0], costs[1]);
    // The page, the personal-data log's entry (fullName), then the businesses with their loans
    // and visits: on PostgreSQL one statement (the relations folded in), elsewhere one each.
    // One query per row would be 150+.
    let most = if postgres() { 3 } else { 5 };
    assert!(costs[0] == costs[1] && costs[1] <= most, "statements stay few and flat: {costs:?}");
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

/// Every field of a business's relations that the row holds.
const RELATIONS: &str = "id name status
  loans { id businessId beneficiaryId regencyCode product lender requestedAmount approvedAmount tenorMonths
          hasCollateral decisionReason status statusReason version createdAt updatedAt }
  marketServices { id kind provider description plannedOn startedOn completedOn result status version createdAt updatedAt }
  monitoringVisits(first: 5) { totalCount nodes { id volunteerName visitedOn observedStatus revenueEstimate notes followUpNeeded
          obstacles version createdAt updatedAt } }
  referrals { id businessId fromAgency toAgency service reason dueBy responseNote status visitId version createdAt updatedAt }";

#[tokio::test]
async fn a_page_reads_a_businesss_relations_exactly_as_the_business_alone_does() {
    let app = spawn_app().await;
    let (admin, koperasi) = (app.admin(), app.koperasi());
    let person = app.beneficiary(2).await;
    let business = app.running_business(&person, "2025-01-01").await;
    let writes = [
        (
            &koperasi,
            "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { userErrors { code } } }",
            json!({ "businessId": business, "product": "COOPERATIVE", "lender": "Koperasi Maju", "requestedAmount": 10000000, "tenorMonths": 12, "hasCollateral": true }),
        ),
        (
            &koperasi,
            "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { userErrors { code } } }",
            json!({ "businessId": business, "product": "KUR_MICRO", "lender": "Bank Kaltimtara", "requestedAmount": 25000000, "tenorMonths": 24 }),
        ),
        (
            &koperasi,
            "mutation($i: CreateMarketServiceInput!) { createMarketService(input: $i) { userErrors { code } } }",
            json!({ "businessId": business, "kind": "MARKETING", "provider": "Dinas", "plannedOn": "2025-06-01" }),
        ),
        (
            &admin,
            "mutation($i: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $i) { userErrors { code } } }",
            json!({ "businessId": business, "volunteerName": "Relawan Uji", "visitedOn": "2025-03-01", "observedStatus": "RUNNING", "obstacles": ["CAPITAL"], "revenueEstimate": 1500000, "notes": "Ramai" }),
        ),
        (
            &admin,
            "mutation($i: CreateReferralInput!) { createReferral(input: $i) { userErrors { code } } }",
            json!({ "beneficiaryId": person, "businessId": business, "toAgency": "DISPERINDAGKOP", "service": "CAPITAL_ACCESS", "reason": "Modal usaha", "dueBy": "2025-09-30" }),
        ),
    ];
    for (token, mutation, input) in writes {
        let body = app.gql(token, mutation, json!({ "i": input })).await;
        let answer = body["data"].as_object().and_then(|d| d.values().next()).cloned().unwrap_or_default();
        assert_eq!(answer["userErrors"], json!([]), "{body}");
    }
    let page = format!("{{ beneficiaries(first: 5) {{ nodes {{ id businesses {{ {RELATIONS} }} }} }} }}");
    let alone = format!("query($id: UUID!) {{ business(id: $id) {{ {RELATIONS} }} }}");
    let listed = app.gql(&admin, &page, json!({})).await;
    let node = listed["data"]["beneficiaries"]["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|n| n["id"] == person.as_str()))
        .cloned()
        .unwrap_or_else(|| panic!("the person is listed: {listed}"));
    let single = app.gql(&admin, &alone, json!({ "id": business })).await;
    assert_eq!(single["data"]["business"]["loans"].as_array().map(Vec::len), Some(2), "{single}");
    assert_eq!(single["data"]["business"]["referrals"].as_array().map(Vec::len), Some(1), "{single}");
    assert_eq!(
        node["businesses"],
        json!([single["data"]["business"]]),
        "every field, every relation, in order"
    );

    // A token without loan:read is refused the loans, at their path, and still gets the rest.
    let no_loans =
        app.token("DINSOS", "beneficiary:read business:read monitoring:read referral:read", &["64"]);
    let body = app.gql(&no_loans, &page, json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    assert_eq!(
        body["errors"][0]["path"].as_array().and_then(|p| p.last()).cloned(),
        Some(json!("loans")),
        "{body}"
    );
    let without_loans = RELATIONS.split_once("marketServices").map(|(_, rest)| rest).unwrap_or_default();
    let page = format!(
        "{{ beneficiaries(first: 5) {{ nodes {{ id businesses {{ id marketServices{without_loans} }} }} }} }}"
    );
    let body = app.gql(&no_loans, &page, json!({})).await;
    assert_eq!(body["errors"], serde_json::Value::Null, "{body}");
    let node = body["data"]["beneficiaries"]["nodes"][0]["businesses"][0].clone();
    assert_eq!(node["marketServices"], single["data"]["business"]["marketServices"], "{body}");
    assert_eq!(node["referrals"], single["data"]["business"]["referrals"], "{body}");
    assert_eq!(node["monitoringVisits"], single["data"]["business"]["monitoringVisits"], "{body}");

    // A token of the person's regency reads the same (its reads are narrowed to the regency at
    // every level); another regency's sees neither the person nor anything below.
    let samarinda = app.token("DINSOS", "all", &["6472"]);
    let body = app.gql(&samarinda, &page, json!({})).await;
    assert_eq!(body["data"]["beneficiaries"]["nodes"][0]["businesses"][0], node, "{body}");
    // A row below the business in another regency (the register does not make one, but a
    // regency's token must not see it however it got there): every level is narrowed, folded or
    // not.
    let moved = "UPDATE loan_application SET regency_code = '6471' WHERE product = 'KUR_MICRO'";
    app.db.execute_unprepared(moved).await.expect("move a loan");
    let full = format!("{{ beneficiaries(first: 5) {{ nodes {{ id businesses {{ {RELATIONS} }} }} }} }}");
    let listed = app.gql(&samarinda, &full, json!({})).await;
    let alone = app.gql(&samarinda, &alone, json!({ "id": business })).await;
    let loans = &listed["data"]["beneficiaries"]["nodes"][0]["businesses"][0]["loans"];
    assert_eq!(loans.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(*loans, alone["data"]["business"]["loans"], "{alone}");
    let listed = app.gql(&admin, &full, json!({})).await;
    let loans = &listed["data"]["beneficiaries"]["nodes"][0]["businesses"][0]["loans"];
    assert_eq!(loans.as_array().map(Vec::len), Some(2), "the province's token sees both: {listed}");
    let balikpapan = app.token("DINSOS", "all", &["6471"]);
    let body = app.gql(&balikpapan, &page, json!({})).await;
    assert_eq!(body["data"]["beneficiaries"]["nodes"], json!([]), "{body}");
}
