//! DISPERINDAGKOP's market-access and business-development services: records it owns, the
//! referrals they answer, and the market access they give on the graduation ladder.

use serde_json::{Value, json};

use crate::helpers::{spawn_app, user_error};

const CREATE: &str = "mutation($i: CreateMarketServiceInput!) { createMarketService(input: $i) { \
    marketService { id status version } userErrors { code field message } } }";
const START: &str = "mutation($i: StatusChangeInput!) { startMarketService(input: $i) { \
    marketService { status startedOn version } userErrors { code } } }";
const COMPLETE: &str = "mutation($i: CompleteMarketServiceInput!) { completeMarketService(input: $i) { \
    marketService { status result completedOn version } userErrors { code field message } } }";

#[tokio::test]
async fn a_completed_market_service_answers_its_referral_and_gives_market_access() {
    let app = spawn_app().await;
    let admin = app.admin();
    let koperasi = app.token(
        "DISPERINDAGKOP",
        "business:read business:write referral:read referral:write loan:read",
        &["6472"],
    );
    let person = app.beneficiary(2).await;
    let business = app.running_business(&person, "2025-01-01").await;

    // Not for a business that is only proposed.
    let proposed = app.business(&person, "Usulan", "FOOD").await;
    let body =
        app.gql(&koperasi, CREATE, json!({ "i": { "businessId": proposed, "kind": "MARKETING" } })).await;
    assert_eq!(user_error(&body, "createMarketService").as_deref(), Some("NOT_ELIGIBLE"), "{body}");

    // DINSOS refers the business for marketing; DISPERINDAGKOP accepts.
    let body = app
        .gql(
            &admin,
            "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id } } }",
            json!({ "i": { "beneficiaryId": person, "businessId": business, "toAgency": "DISPERINDAGKOP", "service": "MARKETING", "reason": "Perlu pasar" } }),
        )
        .await;
    let referral = body["data"]["createReferral"]["referral"]["id"].as_str().expect("referral").to_owned();
    let body = app
        .gql(
            &koperasi,
            "mutation($i: StatusChangeInput!) { acceptReferral(input: $i) { referral { status } } }",
            json!({ "i": { "id": referral, "expectedVersion": 1 } }),
        )
        .await;
    assert_eq!(body["data"]["acceptReferral"]["referral"]["status"], "ACCEPTED", "{body}");

    // DISPERINDAGKOP places the business in an online shop.
    let body = app
        .gql(
            &koperasi,
            CREATE,
            json!({ "i": { "businessId": business, "kind": "ECOMMERCE_PLACEMENT", "provider": "  Toko daring UMKM Kaltim  ", "plannedOn": "2026-11-01" } }),
        )
        .await;
    let service = body["data"]["createMarketService"]["marketService"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let body = app.gql(&koperasi, START, json!({ "i": { "id": service, "expectedVersion": 1 } })).await;
    assert_eq!(body["data"]["startMarketService"]["marketService"]["status"], "IN_PROGRESS", "{body}");

    // A completion needs its result, and not a day in the future.
    let body = app
        .gql(&koperasi, COMPLETE, json!({ "i": { "id": service, "expectedVersion": 2, "result": "  " } }))
        .await;
    assert_eq!(user_error(&body, "completeMarketService").as_deref(), Some("VALIDATION"), "{body}");
    let body = app
        .gql(&koperasi, COMPLETE, json!({ "i": { "id": service, "expectedVersion": 2, "result": "Toko aktif", "completedOn": "2999-01-01" } }))
        .await;
    assert_eq!(
        body["data"]["completeMarketService"]["userErrors"][0]["field"],
        json!(["completedOn"]),
        "{body}"
    );
    let body = app
        .gql(&koperasi, COMPLETE, json!({ "i": { "id": service, "expectedVersion": 2, "result": "Toko aktif: tokopedia.com/warung-uji" } }))
        .await;
    assert_eq!(body["data"]["completeMarketService"]["marketService"]["status"], "COMPLETED", "{body}");

    // The referral is completed with the service as its outcome, in the same write.
    let body = app
        .gql(
            &admin,
            "query($id: UUID!) { referral(id: $id) { status outcomeType outcome { ... on MarketService { id kind result provider } } } }",
            json!({ "id": referral }),
        )
        .await;
    assert_eq!(
        body["data"]["referral"],
        json!({ "status": "COMPLETED", "outcomeType": "MARKET_SERVICE", "outcome": { "id": service, "kind": "ECOMMERCE_PLACEMENT", "result": "Toko aktif: tokopedia.com/warung-uji", "provider": "Toko daring UMKM Kaltim" } }),
        "{body}"
    );

    // The business has market access on the ladder, shown by the service.
    let body = app
        .gql(
            &admin,
            "query($id: UUID!) { business(id: $id) { marketServices { id status } graduationReadiness { levels { criteria { description met evidenceType evidenceId } } } } }",
            json!({ "id": business }),
        )
        .await;
    let b = &body["data"]["business"];
    assert_eq!(b["marketServices"], json!([{ "id": service, "status": "COMPLETED" }]), "{body}");
    let criteria: Vec<Value> = b["graduationReadiness"]["levels"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|l| l["criteria"].as_array().cloned().unwrap_or_default())
        .collect();
    let access = criteria
        .iter()
        .find(|c| c["description"].as_str().is_some_and(|d| d.starts_with("market access")))
        .unwrap_or_else(|| panic!("no market-access criterion: {body}"));
    assert_eq!(
        (access["met"].clone(), access["evidenceType"].clone(), access["evidenceId"].clone()),
        (json!(true), json!("MARKET_SERVICE"), json!(service)),
        "{body}"
    );

    // Its case events: created, started, completed.
    let body = app
        .gql(&admin, "query($id: UUID!) { caseEvents(filter: {entityId: $id}) { nodes { action toStatus actorAgency } } }", json!({ "id": service }))
        .await;
    let trail: Vec<&str> = body["data"]["caseEvents"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["toStatus"].as_str())
        .collect();
    assert_eq!(trail, ["PLANNED", "IN_PROGRESS", "COMPLETED"], "{body}");
    assert_eq!(body["data"]["caseEvents"]["nodes"][0]["actorAgency"], "DISPERINDAGKOP");

    // A planned service may be called off, with a reason; a finished one is history.
    let body = app
        .gql(&koperasi, CREATE, json!({ "i": { "businessId": business, "kind": "HALAL_CERTIFICATION" } }))
        .await;
    let halal =
        body["data"]["createMarketService"]["marketService"]["id"].as_str().expect("created").to_owned();
    let cancel = "mutation($i: StatusChangeWithReasonInput!) { cancelMarketService(input: $i) { marketService { status statusReason } userErrors { code } } }";
    let body = app
        .gql(
            &koperasi,
            cancel,
            json!({ "i": { "id": halal, "expectedVersion": 1, "reason": "Belum ada dana" } }),
        )
        .await;
    assert_eq!(
        body["data"]["cancelMarketService"]["marketService"],
        json!({ "status": "CANCELLED", "statusReason": "Belum ada dana" }),
        "{body}"
    );
    let body = app
        .gql(&koperasi, CREATE, json!({ "i": { "businessId": business, "kind": "BUSINESS_COACHING" } }))
        .await;
    let coaching =
        body["data"]["createMarketService"]["marketService"]["id"].as_str().expect("created").to_owned();
    let body = app
        .gql(&koperasi, cancel, json!({ "i": { "id": coaching, "expectedVersion": 1, "reason": " " } }))
        .await;
    assert_eq!(
        user_error(&body, "cancelMarketService").as_deref(),
        Some("VALIDATION"),
        "a reason is required: {body}"
    );
    let update =
        "mutation($i: UpdateMarketServiceInput!) { updateMarketService(input: $i) { userErrors { code } } }";
    let body = app
        .gql(&koperasi, update, json!({ "i": { "id": service, "expectedVersion": 3, "provider": "Lain" } }))
        .await;
    assert_eq!(user_error(&body, "updateMarketService").as_deref(), Some("INVALID_TRANSITION"), "{body}");
}

#[tokio::test]
async fn a_registration_or_coaching_is_not_market_access_even_through_a_referral() {
    let app = spawn_app().await;
    let admin = app.admin();
    let koperasi =
        app.token("DISPERINDAGKOP", "business:read business:write referral:read referral:write", &["6472"]);
    let person = app.beneficiary(2).await;
    let business = app.running_business(&person, "2025-01-01").await;
    let body = app
        .gql(
            &admin,
            "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id } } }",
            json!({ "i": { "beneficiaryId": person, "businessId": business, "toAgency": "DISPERINDAGKOP", "service": "BUSINESS_DEVELOPMENT", "reason": "Perizinan" } }),
        )
        .await;
    let referral = body["data"]["createReferral"]["referral"]["id"].as_str().expect("referral").to_owned();
    app.gql(
        &koperasi,
        "mutation($i: StatusChangeInput!) { acceptReferral(input: $i) { referral { status } } }",
        json!({ "i": { "id": referral, "expectedVersion": 1 } }),
    )
    .await;
    let body = app
        .gql(&koperasi, CREATE, json!({ "i": { "businessId": business, "kind": "PRODUCT_REGISTRATION" } }))
        .await;
    let service =
        body["data"]["createMarketService"]["marketService"]["id"].as_str().expect("created").to_owned();
    app.gql(&koperasi, START, json!({ "i": { "id": service, "expectedVersion": 1 } })).await;
    let body = app
        .gql(
            &koperasi,
            COMPLETE,
            json!({ "i": { "id": service, "expectedVersion": 2, "result": "PIRT 2036472010123-30" } }),
        )
        .await;
    assert_eq!(body["data"]["completeMarketService"]["marketService"]["status"], "COMPLETED", "{body}");
    let body = app
        .gql(
            &admin,
            "query($id: UUID!) { referral(id: $id) { status outcomeType } }",
            json!({ "id": referral }),
        )
        .await;
    assert_eq!(
        body["data"]["referral"],
        json!({ "status": "COMPLETED", "outcomeType": "MARKET_SERVICE" }),
        "{body}"
    );
    let body = app
        .gql(&admin, "query($id: UUID!) { business(id: $id) { graduationReadiness { levels { criteria { description met } } } } }", json!({ "id": business }))
        .await;
    let access = body["data"]["business"]["graduationReadiness"]["levels"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|l| l["criteria"].as_array().cloned().unwrap_or_default())
        .find(|c| c["description"].as_str().is_some_and(|d| d.starts_with("market access")));
    assert_eq!(access.map(|c| c["met"].clone()), Some(json!(false)), "{body}");
}
