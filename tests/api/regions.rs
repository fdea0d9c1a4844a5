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
async fn one_of_each(app: &TestApp) -> Vec<(&'static str, String)> {
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
    let nested = "query($id: UUID!) { training(id: $id) { enrollments { id } } }";
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
    let paths: [(&str, usize, String); 6] = [
        ("beneficiary", 0, person.to_owned()),
        ("business", 1, format!("{{ owner {person} }}")),
        ("assistance", 2, format!("{{ beneficiary {person} }}")),
        ("trainingEnrollment", 4, format!("{{ beneficiary {person} }}")),
        ("infrastructureRequest", 5, format!("{{ beneficiary {person} }}")),
        ("referral", 7, format!("{{ beneficiary {person} }}")),
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
