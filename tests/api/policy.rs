//! The access policy at work: owners write their record types; others are refused.

use serde_json::json;

use crate::helpers::{CREATE_BENEFICIARY, beneficiary_input, error_code, spawn_app, user_error};

#[tokio::test]
async fn an_agency_that_does_not_own_a_record_type_cannot_write_it() {
    let app = spawn_app().await;
    let person = app.beneficiary(2).await;
    let business = app.running_business(&person, "2025-01-01").await;
    // Tokens minted past the policy (as if an operator had granted too much) still cannot write
    // records their agency does not own.
    let dinsos = app.token("DINSOS", "loan:write infrastructure:write", &["64"]);
    let q = "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { userErrors { code } } }";
    let body = app.gql(&dinsos, q, json!({ "i": { "businessId": business, "product": "KUR_MICRO", "lender": "Bank", "requestedAmount": 1000000, "tenorMonths": 12 } })).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    let q = "mutation($i: CreateInfrastructureRequestInput!) { createInfrastructureRequest(input: $i) { userErrors { code } } }";
    let body = app.gql(&dinsos, q, json!({ "i": { "beneficiaryId": person, "kind": "SANITATION" } })).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
    // DINSOS holds `business:write` for its businesses, but market services are DISPERINDAGKOP's.
    let dinsos = app.token("DINSOS", "business:read business:write", &["64"]);
    let q =
        "mutation($i: CreateMarketServiceInput!) { createMarketService(input: $i) { userErrors { code } } }";
    let body = app.gql(&dinsos, q, json!({ "i": { "businessId": business, "kind": "MARKETING" } })).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    let pupr = app.token("PUPR", "beneficiary:write", &["64"]);
    let (nik, kk) = app.identity();
    let body = app.gql(&pupr, CREATE_BENEFICIARY, json!({ "input": beneficiary_input(&nik, &kk, 2) })).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
    // The person, the business, its package (granted, disbursed) and three moves.
    assert_eq!(app.event_count().await, 1 + 1 + 2 + 3, "only the set-up writes happened");
}

#[tokio::test]
async fn disperindagkop_changes_only_a_businesss_development_fields() {
    let app = spawn_app().await;
    let person = app.beneficiary(2).await;
    let business = app.running_business(&person, "2025-01-01").await;
    let update = "mutation($i: UpdateBusinessInput!) { updateBusiness(input: $i) { business { nib workers name version } userErrors { code } } }";
    let koperasi = app.koperasi();
    let body = app
        .gql(&koperasi, update, json!({ "i": { "id": business, "expectedVersion": 4, "name": "Renamed" } }))
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    let body = app
        .gql(
            &koperasi,
            update,
            json!({ "i": { "id": business, "expectedVersion": 4, "nib": "1234567890123", "workers": 2 } }),
        )
        .await;
    assert_eq!(body["data"]["updateBusiness"]["business"]["nib"], "1234567890123", "{body}");
    assert_eq!(body["data"]["updateBusiness"]["business"]["version"], 5);
    let q = "mutation($i: StatusChangeInput!) { stallBusiness(input: $i) { userErrors { code } } }";
    let body = app.gql(&koperasi, q, json!({ "i": { "id": business, "expectedVersion": 5 } })).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "only DINSOS moves a business: {body}");
}

#[tokio::test]
async fn only_the_organiser_manages_a_training_and_its_enrollments() {
    let app = spawn_app().await;
    let person = app.beneficiary(2).await;
    let q = "mutation($i: CreateTrainingInput!) { createTraining(input: $i) { training { id } } }";
    let body = app.gql(&app.admin(), q, json!({ "i": { "title": "Bimtek", "topic": "TECHNICAL_GUIDANCE", "regencyCode": "6472", "startsOn": "2026-12-01", "endsOn": "2026-12-02", "capacity": 5 } })).await;
    let training = body["data"]["createTraining"]["training"]["id"].as_str().expect("id").to_owned();
    let disnaker = app.token("DISNAKERTRANS", "training:read training:write", &["64"]);
    let open = "mutation($i: StatusChangeInput!) { openTraining(input: $i) { training { status } userErrors { code } } }";
    let body = app.gql(&disnaker, open, json!({ "i": { "id": training, "expectedVersion": 1 } })).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    let body = app.gql(&app.admin(), open, json!({ "i": { "id": training, "expectedVersion": 1 } })).await;
    assert_eq!(body["data"]["openTraining"]["training"]["status"], "OPEN", "{body}");
    let enroll = "mutation($i: EnrollInTrainingInput!) { enrollInTraining(input: $i) { enrollment { id } userErrors { code } } }";
    let body =
        app.gql(&disnaker, enroll, json!({ "i": { "trainingId": training, "beneficiaryId": person } })).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    let body = app
        .gql(&app.admin(), enroll, json!({ "i": { "trainingId": training, "beneficiaryId": person } }))
        .await;
    assert!(user_error(&body, "enrollInTraining").is_none(), "{body}");
}

#[tokio::test]
async fn agencies_come_from_the_policy() {
    let app = spawn_app().await;
    let body = app.gql(&app.admin(), "{ agencies { code owns } }", json!({})).await;
    let agencies = body["data"]["agencies"].as_array().cloned().unwrap_or_default();
    let codes: Vec<&str> = agencies.iter().filter_map(|a| a["code"].as_str()).collect();
    assert_eq!(codes, ["BAPPEDA", "DINSOS", "DISNAKERTRANS", "DISPERINDAGKOP", "PUPR", "RELAWAN"]);
    let pupr = agencies.iter().find(|a| a["code"] == "PUPR").cloned().unwrap_or_default();
    assert_eq!(pupr["owns"], json!(["INFRASTRUCTURE_REQUEST"]));
}
