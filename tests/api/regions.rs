//! Region bounds: every record type outside a token's regions is `NOT_FOUND` and absent from
//! lists, counts and nested relations; personal data stays masked wherever a beneficiary appears.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app};

async fn id_of(app: &TestApp, token: &str, query: &str, variables: Value, path: &[&str]) -> String {
    let body = app.gql(token, query, variables).await;
    let mut node = &body["data"];
    for key in path {
        node = &node[*key];
    }
    node.as_str().unwrap_or_else(|| panic!("no id at {path:?}: {body}")).to_owned()
}

/// One record of every type in Samarinda (6472); returns (by-id query field, id) pairs.
pub async fn one_of_each(app: &TestApp) -> Vec<(&'static str, String)> {
    let admin = app.admin();
    let person = app.beneficiary(2).await;
    let business = app.running_business(&person, "2025-01-01").await;
    let assistance = id_of(app, &admin, "mutation($i: CreateAssistanceInput!) { createAssistance(input: $i) { assistance { id } } }",
        json!({ "i": { "beneficiaryId": person, "programme": "BLT", "amount": 600000, "periodStart": "2025-01-01", "fundSource": "APBN" } }),
        &["createAssistance", "assistance", "id"]).await;
    let training = id_of(app, &admin, "mutation($i: CreateTrainingInput!) { createTraining(input: $i) { training { id } } }",
        json!({ "i": { "title": "Bimtek", "topic": "TECHNICAL_GUIDANCE", "regencyCode": "6472", "startsOn": "2026-12-01", "endsOn": "2026-12-02", "capacity": 5 } }),
        &["createTraining", "training", "id"]).await;
    app.gql(
        &admin,
        "mutation($i: StatusChangeInput!) { openTraining(input: $i) { training { id } } }",
        json!({ "i": { "id": training, "expectedVersion": 1 } }),
    )
    .await;
    let enrollment = id_of(
        app,
        &admin,
        "mutation($i: EnrollInTrainingInput!) { enrollInTraining(input: $i) { enrollment { id } } }",
        json!({ "i": { "trainingId": training, "beneficiaryId": person } }),
        &["enrollInTraining", "enrollment", "id"],
    )
    .await;
    let pupr = app.token("PUPR", "infrastructure:write", &["6472"]);
    let infrastructure = id_of(app, &pupr, "mutation($i: CreateInfrastructureRequestInput!) { createInfrastructureRequest(input: $i) { infrastructureRequest { id } } }",
        json!({ "i": { "beneficiaryId": person, "kind": "CLEAN_WATER" } }), &["createInfrastructureRequest", "infrastructureRequest", "id"]).await;
    let loan = id_of(app, &app.koperasi(), "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { loanApplication { id } } }",
        json!({ "i": { "businessId": business, "product": "COOPERATIVE", "lender": "Koperasi", "requestedAmount": 2000000, "tenorMonths": 6 } }),
        &["createLoanApplication", "loanApplication", "id"]).await;
    let referral = id_of(app, &admin, "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id } } }",
        json!({ "i": { "beneficiaryId": person, "businessId": business, "toAgency": "DISPERINDAGKOP", "service": "MARKETING", "reason": "Pasar" } }),
        &["createReferral", "referral", "id"]).await;
    let market = id_of(
        app,
        &app.koperasi(),
        "mutation($i: CreateMarketServiceInput!) { createMarketService(input: $i) { marketService { id } } }",
        json!({ "i": { "businessId": business, "kind": "ECOMMERCE_PLACEMENT", "provider": "Toko daring" } }),
        &["createMarketService", "marketService", "id"],
    )
    .await;
    let relawan = app.token("RELAWAN", "monitoring:write", &["6472"]);
    let visit = id_of(app, &relawan, "mutation($i: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $i) { monitoringVisit { id } } }",
        json!({ "i": { "businessId": business, "volunteerName": "Agus", "visitedOn": "2026-11-01", "observedStatus": "RUNNING" } }),
        &["recordMonitoringVisit", "monitoringVisit", "id"]).await;
    vec![
        ("beneficiary", person),
        ("business", business),
        ("assistance", assistance),
        ("training", training),
        ("trainingEnrollment", enrollment),
        ("infrastructureRequest", infrastructure),
        ("loanApplication", loan),
        ("referral", referral),
        ("monitoringVisit", visit),
        ("marketService", market),
    ]
}

#[tokio::test]
async fn every_record_outside_the_tokens_regions_is_not_found() {
    let app = spawn_app().await;
    let records = one_of_each(&app).await;
    let paser = app.token("DINSOS", "all", &["6401"]);
    let samarinda = app.token("DINSOS", "all", &["6472"]);
    for (field, id) in &records {
        let query = format!("query($id: UUID!) {{ {field}(id: $id) {{ id }} }}");
        let body = app.gql(&paser, &query, json!({ "id": id })).await;
        assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"), "{field} from Paser: {body}");
        let body = app.gql(&samarinda, &query, json!({ "id": id })).await;
        assert_eq!(body["data"][*field]["id"], id.as_str(), "{field} from Samarinda: {body}");
    }
    for list in [
        "beneficiaries",
        "businesses",
        "assistances",
        "trainings",
        "infrastructureRequests",
        "loanApplications",
        "referrals",
        "monitoringVisits",
        "marketServices",
        "caseEvents",
    ] {
        let query = format!("{{ {list} {{ totalCount nodes {{ __typename }} }} }}");
        let body = app.gql(&paser, &query, json!({})).await;
        assert_eq!(body["data"][list]["totalCount"], 0, "{list} from Paser: {body}");
        let body = app.gql(&samarinda, &query, json!({})).await;
        assert!(
            body["data"][list]["totalCount"].as_u64().is_some_and(|n| n > 0),
            "{list} from Samarinda: {body}"
        );
    }
    let nested = "query($id: UUID!) { training(id: $id) { enrollments { nodes { id } } } }";
    let training = &records[3].1;
    let body = app.gql(&paser, nested, json!({ "id": training })).await;
    assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"));
}

#[tokio::test]
async fn personal_data_is_masked_wherever_a_beneficiary_appears() {
    let app = spawn_app().await;
    let records = one_of_each(&app).await;
    let no_pii: Vec<&str> =
        crate::helpers::all_scopes().iter().map(|s| s.as_str()).filter(|s| *s != "pii:read").collect();
    let token = app.token("DINSOS", &no_pii.join(" "), &["64"]);
    let person = "{ nik kkNumber phone address birthDate }";
    let paths: [(&str, usize, String); 7] = [
        ("beneficiary", 0, person.to_owned()),
        ("business", 1, format!("{{ owner {person} }}")),
        ("assistance", 2, format!("{{ beneficiary {person} }}")),
        ("trainingEnrollment", 4, format!("{{ beneficiary {person} }}")),
        ("infrastructureRequest", 5, format!("{{ beneficiary {person} }}")),
        ("referral", 7, format!("{{ beneficiary {person} }}")),
        ("marketService", 9, format!("{{ beneficiary {person} }}")),
    ];
    for (field, index, selection) in paths {
        let query = format!("query($id: UUID!) {{ {field}(id: $id) {selection} }}");
        let body = app.gql(&token, &query, json!({ "id": records[index].1 })).await;
        let text = body["data"].to_string();
        assert!(
            !text.contains("6472011502900001") && !text.contains("081234567890"),
            "{field} leaks: {body}"
        );
        assert!(text.contains("6472**********01"), "{field} shows the masked NIK: {body}");
        assert!(text.contains("\"birthDate\":null"), "{field}: {body}");
    }
}

#[tokio::test]
async fn a_beneficiary_who_moves_takes_the_whole_case_to_the_new_regency() {
    let app = spawn_app().await;
    let person = app.beneficiary(2).await;
    let business = app.running_business(&person, "2025-01-01").await;
    let update = "mutation($i: UpdateBeneficiaryInput!) { updateBeneficiary(input: $i) { beneficiary { regencyCode } userErrors { code } } }";
    let body = app
        .gql(&app.admin(), update, json!({ "i": { "id": person, "expectedVersion": 1, "regencyCode": "6401", "districtCode": "640101" } }))
        .await;
    assert_eq!(body["data"]["updateBeneficiary"]["beneficiary"]["regencyCode"], "6401", "{body}");
    let samarinda = app.token("DINSOS", "all", &["6472"]);
    let paser = app.token("DINSOS", "all", &["6401"]);
    let query = "query($id: UUID!) { business(id: $id) { regencyCode owner { regencyCode } } }";
    let body = app.gql(&samarinda, query, json!({ "id": business })).await;
    assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"), "the old regency no longer sees it: {body}");
    let body = app.gql(&paser, query, json!({ "id": business })).await;
    assert_eq!(body["data"]["business"]["regencyCode"], "6401", "{body}");
    assert_eq!(body["data"]["business"]["owner"]["regencyCode"], "6401");
    let body = app
        .gql(
            &paser,
            "query($id: UUID!) { beneficiary(id: $id) { businesses { id } } }",
            json!({ "id": person }),
        )
        .await;
    assert_eq!(body["data"]["beneficiary"]["businesses"][0]["id"], business.as_str(), "{body}");
}

/// The record type a mutation acts on, from its name (`approveBusiness` → `business`).
fn target_of(mutation: &str) -> Option<&'static str> {
    let lower = mutation.to_lowercase();
    [
        ("enrollment", "trainingEnrollment"),
        ("enroll", "trainingEnrollment"),
        ("training", "training"),
        ("beneficiary", "beneficiary"),
        ("business", "business"),
        ("assistance", "assistance"),
        ("infrastructure", "infrastructureRequest"),
        ("loan", "loanApplication"),
        ("referral", "referral"),
        ("visit", "monitoringVisit"),
        ("market", "marketService"),
    ]
    .into_iter()
    .find(|(needle, _)| lower.contains(needle))
    .map(|(_, kind)| kind)
}

/// Puts the ids of `records` into every id field of `value` that names one: `id` is the
/// mutation's own record, `beneficiaryId` a beneficiary, and so on.
fn with_ids(value: &mut Value, own: Option<&str>, records: &[(&'static str, String)]) {
    let id_of = |kind: &str| records.iter().find(|(k, _)| *k == kind).map(|(_, id)| json!(id));
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                let kind = match key.as_str() {
                    "id" => own,
                    "beneficiaryId" => Some("beneficiary"),
                    "businessId" => Some("business"),
                    "trainingId" => Some("training"),
                    _ => None,
                };
                match kind.and_then(id_of) {
                    Some(id) if field.is_string() => *field = id,
                    _ => with_ids(field, own, records),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| with_ids(item, own, records)),
        _ => {}
    }
}

#[tokio::test]
async fn every_mutation_answers_a_record_outside_the_regions_exactly_as_a_missing_one() {
    let app = spawn_app().await;
    let records = one_of_each(&app).await;
    let calls = crate::matrix::calls(&app).await;
    let mut checked = 0;
    for call in calls.iter().filter(|c| c.root == "mutation") {
        let Some(own) = target_of(&call.field) else { continue };
        let mut outside = call.variables.clone();
        with_ids(&mut outside, Some(own), &records);
        if outside == call.variables {
            continue;
        }
        // Every scope the owning agency may hold, bound to Paser (6401); the records are in 6472.
        let token = app.token(call.agency, "all", &["6401"]);
        let document =
            call.document.replace("{ __typename }", "{ __typename userErrors { field code message } }");
        let events = app.event_count().await;
        let far = app.gql(&token, &document, outside.clone()).await;
        let missing = app.gql(&token, &document, call.variables.clone()).await;
        assert_eq!(app.event_count().await, events, "{}: nothing was written: {far}", call.field);
        assert_eq!(far, missing, "{}: a record in another region answers as a missing one", call.field);
        checked += 1;
    }
    assert!(checked > 30, "only {checked} mutations reached a record");
    println!("cross-region walk: {checked} mutations answer as for a missing record");
}

#[tokio::test]
async fn a_training_in_another_region_cannot_be_enrolled_in_nor_told_apart_from_a_missing_one() {
    let app = spawn_app().await;
    let records = one_of_each(&app).await;
    let training =
        records.iter().find(|(k, _)| *k == "training").map(|(_, id)| id.clone()).expect("training");
    let mut paser = crate::helpers::beneficiary_input("6401011502900077", "6401010101150077", 2);
    paser["regencyCode"] = json!("6401");
    paser["districtCode"] = json!("640101");
    let body = app.gql(&app.admin(), crate::helpers::CREATE_BENEFICIARY, json!({ "input": paser })).await;
    let person = body["data"]["createBeneficiary"]["beneficiary"]["id"].clone();
    let disnaker = app.token("DISNAKERTRANS", "training:read training:write", &["6401"]);
    let enroll = "mutation($i: EnrollInTrainingInput!) { enrollInTraining(input: $i) { enrollment { id } userErrors { field code message } } }";
    let far =
        app.gql(&disnaker, enroll, json!({ "i": { "trainingId": training, "beneficiaryId": person } })).await;
    let missing = app
        .gql(
            &disnaker,
            enroll,
            json!({ "i": { "trainingId": uuid::Uuid::now_v7(), "beneficiaryId": person } }),
        )
        .await;
    assert_eq!(far, missing, "{far}");
    assert_eq!(far["data"]["enrollInTraining"]["userErrors"][0]["message"], "no such training");
    let seats = app
        .gql(
            &app.admin(),
            "query($id: UUID!) { training(id: $id) { seatsTaken } }",
            json!({ "id": training }),
        )
        .await;
    assert_eq!(seats["data"]["training"]["seatsTaken"], 1, "no seat was taken: {seats}");
}

#[tokio::test]
async fn node_and_nodes_fetch_any_record_the_token_may_see_and_nothing_else() {
    let app = crate::helpers::spawn_app().await;
    let person = app.beneficiary(2).await;
    let business = app.equipped_business(&person).await;
    let samarinda = app.token("DINSOS", "beneficiary:read business:read", &["6472"]);
    let balikpapan = app.token("DINSOS", "beneficiary:read business:read", &["6471"]);
    let no_business = app.token("DINSOS", "beneficiary:read", &["6472"]);
    let one = "query($id: ID!) { node(id: $id) { __typename id ... on Business { name status } } }";
    let body = app.gql(&samarinda, one, json!({ "id": business })).await;
    assert_eq!(
        body["data"]["node"],
        json!({ "__typename": "Business", "id": business, "name": "Warung Uji", "status": "EQUIPPED" }),
        "{body}"
    );
    for (token, why) in [(&balikpapan, "outside the regions"), (&no_business, "without business:read")] {
        let body = app.gql(token, one, json!({ "id": business })).await;
        assert!(body["data"]["node"].is_null(), "{why}: {body}");
        assert_eq!(crate::helpers::error_code(&body).as_deref(), Some("NOT_FOUND"), "{why}: {body}");
    }
    let body = app.gql(&samarinda, one, json!({ "id": "not-a-uuid" })).await;
    assert_eq!(crate::helpers::error_code(&body).as_deref(), Some("NOT_FOUND"), "{body}");

    let many = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";
    let missing = uuid::Uuid::now_v7().to_string();
    let body = app.gql(&samarinda, many, json!({ "ids": [business, missing, person, "x"] })).await;
    assert_eq!(
        body["data"]["nodes"],
        json!([{ "__typename": "Business", "id": business }, null, { "__typename": "Beneficiary", "id": person }, null]),
        "in the order asked, null where nothing may be seen: {body}"
    );
    let body = app.gql(&balikpapan, many, json!({ "ids": [business, person] })).await;
    assert_eq!(body["data"]["nodes"], json!([null, null]), "{body}");
    let body = app.gql(&samarinda, many, json!({ "ids": [business, business] })).await;
    assert_eq!(body["data"]["nodes"][1]["id"], business, "an id asked twice is answered twice: {body}");

    // Ids stay unique across record types: a client may not give a loan a beneficiary's id.
    let create = "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { loanApplication { id } userErrors { code field } } }";
    let body = app
        .gql(&app.koperasi(), create, json!({ "i": { "id": person, "businessId": business, "product": "COOPERATIVE", "lender": "Koperasi", "requestedAmount": 1000000, "tenorMonths": 6 } }))
        .await;
    assert_eq!(
        body["data"]["createLoanApplication"]["userErrors"],
        json!([{ "code": "DUPLICATE", "field": ["id"] }]),
        "{body}"
    );
}
