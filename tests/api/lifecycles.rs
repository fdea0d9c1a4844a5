//! Every lifecycle: legal moves succeed with their events, illegal ones are `INVALID_TRANSITION`.

use serde_json::{Value, json};

use crate::helpers::{CREATE_BUSINESS, TestApp, open_ladder, spawn_app, spawn_app_with, user_error};

/// Runs `mutation(input: $i)` selecting the payload's record `field` status and user errors.
async fn mv(
    app: &TestApp,
    token: &str,
    mutation: &str,
    input_type: &str,
    field: &str,
    input: Value,
) -> Value {
    let q = format!(
        "mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ {field} {{ status version }} userErrors {{ field code message }} }} }}"
    );
    app.gql(token, &q, json!({ "i": input })).await
}

fn status(body: &Value, mutation: &str, field: &str) -> String {
    body["data"][mutation][field]["status"].as_str().unwrap_or_else(|| panic!("no status: {body}")).to_owned()
}

#[tokio::test]
async fn business_moves_along_its_lifecycle_only() {
    // Graduation's own criteria are tested in `programme`; here every business meets them.
    let app = spawn_app_with(open_ladder()).await;
    let token = app.admin();
    let person = app.beneficiary(2).await;
    let body = app.gql(&token, CREATE_BUSINESS, json!({ "input": { "beneficiaryId": person, "name": "Gorengan Bu Siti", "sector": "FRIED_SNACKS" } })).await;
    let id = body["data"]["createBusiness"]["business"]["id"].as_str().expect("id").to_owned();
    assert_eq!(body["data"]["createBusiness"]["business"]["status"], "PROPOSED");
    app.disbursed_package(&person, &id).await;

    let illegal = mv(
        &app,
        &token,
        "stallBusiness",
        "StatusChangeInput",
        "business",
        json!({ "id": id, "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(user_error(&illegal, "stallBusiness").as_deref(), Some("INVALID_TRANSITION"), "{illegal}");
    let illegal = mv(
        &app,
        &token,
        "startBusiness",
        "StartBusinessInput",
        "business",
        json!({ "id": id, "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(user_error(&illegal, "startBusiness").as_deref(), Some("INVALID_TRANSITION"));

    let path = [
        ("approveBusiness", "StatusChangeInput", "APPROVED"),
        ("equipBusiness", "StatusChangeInput", "EQUIPPED"),
        ("startBusiness", "StartBusinessInput", "RUNNING"),
        ("stallBusiness", "StatusChangeInput", "STALLED"),
        ("resumeBusiness", "StatusChangeInput", "RUNNING"),
        ("graduateBusiness", "StatusChangeInput", "GRADUATED"),
    ];
    for (version, (mutation, input_type, expected)) in path.into_iter().enumerate() {
        let body = mv(
            &app,
            &token,
            mutation,
            input_type,
            "business",
            json!({ "id": id, "expectedVersion": version + 1 }),
        )
        .await;
        assert_eq!(status(&body, mutation, "business"), expected, "{mutation}");
    }
    // A graduated business may relapse (stall or close) but is not resumed or graduated again
    // from GRADUATED.
    let body = mv(
        &app,
        &token,
        "resumeBusiness",
        "StatusChangeInput",
        "business",
        json!({ "id": id, "expectedVersion": 7 }),
    )
    .await;
    assert_eq!(
        user_error(&body, "resumeBusiness").as_deref(),
        Some("INVALID_TRANSITION"),
        "only a stalled business resumes"
    );
    assert_eq!(
        app.event_count().await,
        1 + 1 + 2 + 6 + 1,
        "beneficiary, business, its package (granted, disbursed), six moves, and its level (0 → 1 once approved)"
    );

    let body = app
        .gql(
            &token,
            CREATE_BUSINESS,
            json!({ "input": { "beneficiaryId": person, "name": "Kue", "sector": "CAKES" } }),
        )
        .await;
    let other = body["data"]["createBusiness"]["business"]["id"].as_str().expect("id").to_owned();
    let body = mv(
        &app,
        &token,
        "rejectBusiness",
        "StatusChangeWithReasonInput",
        "business",
        json!({ "id": other, "expectedVersion": 1, "reason": "Alasan pengujian" }),
    )
    .await;
    assert_eq!(status(&body, "rejectBusiness", "business"), "REJECTED");
}

#[tokio::test]
async fn assistance_is_planned_then_disbursed_or_cancelled() {
    let app = spawn_app().await;
    let token = app.admin();
    let person = app.beneficiary(2).await;
    let create = "mutation($i: CreateAssistanceInput!) { createAssistance(input: $i) { assistance { id status decileAtDecision } userErrors { code } } }";
    let input = |programme: &str, start: &str| json!({ "i": { "beneficiaryId": person, "programme": programme, "amount": 600000, "periodStart": start, "fundSource": "APBD" } });
    let a = app.gql(&token, create, input("BLT", "2025-01-01")).await;
    let a_id = a["data"]["createAssistance"]["assistance"]["id"].as_str().expect("id").to_owned();
    let b = app.gql(&token, create, input("SEMBAKO", "2025-02-01")).await;
    let b_id = b["data"]["createAssistance"]["assistance"]["id"].as_str().expect("id").to_owned();

    let body = mv(
        &app,
        &token,
        "disburseAssistance",
        "DisburseAssistanceInput",
        "assistance",
        json!({ "id": a_id, "expectedVersion": 1, "disbursedOn": "2025-01-10" }),
    )
    .await;
    assert_eq!(status(&body, "disburseAssistance", "assistance"), "DISBURSED");
    let body = mv(
        &app,
        &token,
        "cancelAssistance",
        "StatusChangeWithReasonInput",
        "assistance",
        json!({ "id": a_id, "expectedVersion": 2, "reason": "Alasan pengujian" }),
    )
    .await;
    assert_eq!(user_error(&body, "cancelAssistance").as_deref(), Some("INVALID_TRANSITION"));
    let body = mv(
        &app,
        &token,
        "cancelAssistance",
        "StatusChangeWithReasonInput",
        "assistance",
        json!({ "id": b_id, "expectedVersion": 1, "reason": "Alasan pengujian" }),
    )
    .await;
    assert_eq!(status(&body, "cancelAssistance", "assistance"), "CANCELLED");
}

#[tokio::test]
async fn training_and_enrollment_lifecycles() {
    let app = spawn_app().await;
    let token = app.admin();
    let person = app.beneficiary(2).await;
    let body = app
        .gql(&token, "mutation($i: CreateTrainingInput!) { createTraining(input: $i) { training { id status } userErrors { code field } } }",
            json!({ "i": { "title": "Pengemasan", "topic": "PACKAGING", "regencyCode": "6472", "startsOn": "2026-12-01", "endsOn": "2026-12-03", "capacity": 10 } }))
        .await;
    let training = body["data"]["createTraining"]["training"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let enroll = "mutation($i: EnrollInTrainingInput!) { enrollInTraining(input: $i) { enrollment { id status } userErrors { code field } } }";
    let body =
        app.gql(&token, enroll, json!({ "i": { "trainingId": training, "beneficiaryId": person } })).await;
    assert_eq!(
        body["data"]["enrollInTraining"]["userErrors"][0]["field"][0], "trainingId",
        "not OPEN yet: {body}"
    );

    let body = mv(
        &app,
        &token,
        "startTraining",
        "StatusChangeInput",
        "training",
        json!({ "id": training, "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(user_error(&body, "startTraining").as_deref(), Some("INVALID_TRANSITION"));
    let body = mv(
        &app,
        &token,
        "openTraining",
        "StatusChangeInput",
        "training",
        json!({ "id": training, "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(status(&body, "openTraining", "training"), "OPEN");

    let body =
        app.gql(&token, enroll, json!({ "i": { "trainingId": training, "beneficiaryId": person } })).await;
    let enrollment = body["data"]["enrollInTraining"]["enrollment"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let body =
        app.gql(&token, enroll, json!({ "i": { "trainingId": training, "beneficiaryId": person } })).await;
    assert_eq!(user_error(&body, "enrollInTraining").as_deref(), Some("DUPLICATE"));

    let body = mv(
        &app,
        &token,
        "completeEnrollment",
        "CompleteEnrollmentInput",
        "enrollment",
        json!({ "id": enrollment, "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(
        user_error(&body, "completeEnrollment").as_deref(),
        Some("INVALID_TRANSITION"),
        "must attend first"
    );
    let body = mv(
        &app,
        &token,
        "markEnrollmentAttended",
        "StatusChangeInput",
        "enrollment",
        json!({ "id": enrollment, "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(status(&body, "markEnrollmentAttended", "enrollment"), "ATTENDED");
    let body = mv(
        &app,
        &token,
        "completeEnrollment",
        "CompleteEnrollmentInput",
        "enrollment",
        json!({ "id": enrollment, "expectedVersion": 2, "certificateNo": "SERT/1" }),
    )
    .await;
    assert_eq!(status(&body, "completeEnrollment", "enrollment"), "COMPLETED");

    for (version, (mutation, expected)) in
        [("startTraining", "ONGOING"), ("completeTraining", "COMPLETED")].into_iter().enumerate()
    {
        let body = mv(
            &app,
            &token,
            mutation,
            "StatusChangeInput",
            "training",
            json!({ "id": training, "expectedVersion": version + 2 }),
        )
        .await;
        assert_eq!(status(&body, mutation, "training"), expected);
    }
    let body = mv(
        &app,
        &token,
        "cancelTraining",
        "StatusChangeWithReasonInput",
        "training",
        json!({ "id": training, "expectedVersion": 4, "reason": "Alasan pengujian" }),
    )
    .await;
    assert_eq!(user_error(&body, "cancelTraining").as_deref(), Some("INVALID_TRANSITION"));
}

#[tokio::test]
async fn infrastructure_request_lifecycle_and_rtlh_gates() {
    let app = spawn_app().await;
    let token = app.token("PUPR", "infrastructure:read infrastructure:write", &["6472"]);
    let person = app.beneficiary(1).await;
    let create = "mutation($i: CreateInfrastructureRequestInput!) { createInfrastructureRequest(input: $i) { infrastructureRequest { id status } userErrors { code } } }";
    let body = app
        .gql(
            &token,
            create,
            json!({ "i": { "beneficiaryId": person, "kind": "LIVABLE_HOUSING", "estimatedCost": 20000000 } }),
        )
        .await;
    let id = body["data"]["createInfrastructureRequest"]["infrastructureRequest"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let f = "infrastructureRequest";

    let body = mv(
        &app,
        &token,
        "approveInfrastructureRequest",
        "StatusChangeInput",
        f,
        json!({ "id": id, "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(
        user_error(&body, "approveInfrastructureRequest").as_deref(),
        Some("INVALID_TRANSITION"),
        "survey first"
    );
    let body = mv(&app, &token, "surveyInfrastructureRequest", "SurveyInfrastructureRequestInput", f,
        json!({ "id": id, "expectedVersion": 1, "surveyNotes": "Atap bocor", "hasLandProof": true, "isOnlyHouse": true, "housingAidLast10Years": true })).await;
    assert_eq!(status(&body, "surveyInfrastructureRequest", f), "SURVEYED");
    let body = mv(
        &app,
        &token,
        "approveInfrastructureRequest",
        "StatusChangeInput",
        f,
        json!({ "id": id, "expectedVersion": 2 }),
    )
    .await;
    assert_eq!(
        user_error(&body, "approveInfrastructureRequest").as_deref(),
        Some("NOT_ELIGIBLE"),
        "aid in the last 10 years: {body}"
    );
    let body = mv(
        &app,
        &token,
        "rejectInfrastructureRequest",
        "StatusChangeWithReasonInput",
        f,
        json!({ "id": id, "expectedVersion": 2, "reason": "Sudah menerima bantuan 2019" }),
    )
    .await;
    assert_eq!(status(&body, "rejectInfrastructureRequest", f), "REJECTED");

    let body =
        app.gql(&token, create, json!({ "i": { "beneficiaryId": person, "kind": "SANITATION" } })).await;
    let id = body["data"]["createInfrastructureRequest"]["infrastructureRequest"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let body = mv(
        &app,
        &token,
        "surveyInfrastructureRequest",
        "SurveyInfrastructureRequestInput",
        f,
        json!({ "id": id, "expectedVersion": 1, "surveyNotes": "Tidak ada jamban" }),
    )
    .await;
    assert_eq!(status(&body, "surveyInfrastructureRequest", f), "SURVEYED");
    for (i, (mutation, expected)) in [
        ("approveInfrastructureRequest", "APPROVED"),
        ("startInfrastructureWork", "IN_PROGRESS"),
        ("completeInfrastructureRequest", "COMPLETED"),
    ]
    .into_iter()
    .enumerate()
    {
        let body =
            mv(&app, &token, mutation, "StatusChangeInput", f, json!({ "id": id, "expectedVersion": i + 2 }))
                .await;
        assert_eq!(status(&body, mutation, f), expected, "{body}");
    }
}

#[tokio::test]
async fn loan_lifecycle_from_draft_to_disbursed() {
    let app = spawn_app().await;
    let token = app.token("DISPERINDAGKOP", "loan:read loan:write business:read", &["64"]);
    let person = app.beneficiary(3).await;
    let business = app.running_business(&person, "2025-01-15").await;
    let create = "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { loanApplication { id status } userErrors { code field } } }";
    let body = app.gql(&token, create, json!({ "i": { "businessId": business, "product": "KUR_MICRO", "lender": "Bank Kaltimtara", "requestedAmount": 25000000, "tenorMonths": 24 } })).await;
    let id = body["data"]["createLoanApplication"]["loanApplication"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let f = "loanApplication";
    let body =
        mv(&app, &token, "disburseLoan", "StatusChangeInput", f, json!({ "id": id, "expectedVersion": 1 }))
            .await;
    assert_eq!(user_error(&body, "disburseLoan").as_deref(), Some("INVALID_TRANSITION"));
    for (i, mutation) in ["submitLoanApplication", "startLoanReview"].into_iter().enumerate() {
        let body =
            mv(&app, &token, mutation, "StatusChangeInput", f, json!({ "id": id, "expectedVersion": i + 1 }))
                .await;
        assert!(user_error(&body, mutation).is_none(), "{mutation}: {body}");
    }
    let body = mv(
        &app,
        &token,
        "approveLoan",
        "ApproveLoanInput",
        f,
        json!({ "id": id, "expectedVersion": 3, "approvedAmount": 20000000 }),
    )
    .await;
    assert_eq!(status(&body, "approveLoan", f), "APPROVED", "{body}");
    let body =
        mv(&app, &token, "disburseLoan", "StatusChangeInput", f, json!({ "id": id, "expectedVersion": 4 }))
            .await;
    assert_eq!(status(&body, "disburseLoan", f), "DISBURSED");
    let body = mv(
        &app,
        &token,
        "withdrawLoanApplication",
        "StatusChangeWithReasonInput",
        f,
        json!({ "id": id, "expectedVersion": 5, "reason": "Alasan pengujian" }),
    )
    .await;
    assert_eq!(user_error(&body, "withdrawLoanApplication").as_deref(), Some("INVALID_TRANSITION"));
}

#[tokio::test]
async fn only_the_receiving_agency_answers_a_referral_and_only_the_sender_cancels() {
    let app = spawn_app().await;
    let dinsos = app.token("DINSOS", "referral:read referral:write", &["64"]);
    let koperasi = app.token("DISPERINDAGKOP", "referral:read referral:write", &["64"]);
    let person = app.beneficiary(2).await;
    let create = "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id status fromAgency } userErrors { code field } } }";
    let body = app.gql(&dinsos, create, json!({ "i": { "beneficiaryId": person, "toAgency": "DISPERINDAGKOP", "service": "CAPITAL_ACCESS", "reason": "Usaha berjalan 6 bulan" } })).await;
    let id = body["data"]["createReferral"]["referral"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    assert_eq!(body["data"]["createReferral"]["referral"]["fromAgency"], "DINSOS");
    let body = app.gql(&dinsos, create, json!({ "i": { "beneficiaryId": person, "toAgency": "NOPE", "service": "OTHER", "reason": "x" } })).await;
    assert_eq!(body["data"]["createReferral"]["userErrors"][0]["field"][0], "toAgency");

    let f = "referral";
    let body = mv(
        &app,
        &dinsos,
        "acceptReferral",
        "StatusChangeInput",
        f,
        json!({ "id": id, "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(crate::helpers::error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    let body = mv(
        &app,
        &koperasi,
        "cancelReferral",
        "StatusChangeWithReasonInput",
        f,
        json!({ "id": id, "expectedVersion": 1, "reason": "Alasan pengujian" }),
    )
    .await;
    assert_eq!(crate::helpers::error_code(&body).as_deref(), Some("FORBIDDEN"));
    let body = mv(
        &app,
        &koperasi,
        "acceptReferral",
        "StatusChangeInput",
        f,
        json!({ "id": id, "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(status(&body, "acceptReferral", f), "ACCEPTED");
    let body = mv(
        &app,
        &koperasi,
        "declineReferral",
        "StatusChangeWithReasonInput",
        f,
        json!({ "id": id, "expectedVersion": 2, "reason": "x" }),
    )
    .await;
    assert_eq!(user_error(&body, "declineReferral").as_deref(), Some("INVALID_TRANSITION"));
    let body = mv(
        &app,
        &koperasi,
        "completeReferral",
        "CompleteReferralInput",
        f,
        json!({ "id": id, "expectedVersion": 2, "outcomeType": "LOAN_APPLICATION", "outcomeId": person }),
    )
    .await;
    assert_eq!(
        user_error(&body, "completeReferral").as_deref(),
        Some("VALIDATION"),
        "the outcome must exist: {body}"
    );
    let business = app.running_business(&person, "2025-01-01").await;
    let loan = app
        .gql(
            &app.koperasi(),
            "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { loanApplication { id } } }",
            json!({ "i": { "businessId": business, "product": "COOPERATIVE", "lender": "Koperasi", "requestedAmount": 2000000, "tenorMonths": 6 } }),
        )
        .await;
    let loan = loan["data"]["createLoanApplication"]["loanApplication"]["id"].clone();
    let body = mv(
        &app,
        &koperasi,
        "completeReferral",
        "CompleteReferralInput",
        f,
        json!({ "id": id, "expectedVersion": 2, "outcomeType": "BUSINESS", "outcomeId": business }),
    )
    .await;
    assert_eq!(
        body["data"]["completeReferral"]["userErrors"][0]["field"][0], "outcomeType",
        "DISPERINDAGKOP does not own businesses: {body}"
    );
    let body = mv(
        &app,
        &koperasi,
        "completeReferral",
        "CompleteReferralInput",
        f,
        json!({ "id": id, "expectedVersion": 2, "outcomeType": "LOAN_APPLICATION", "outcomeId": loan }),
    )
    .await;
    assert_eq!(
        body["data"]["completeReferral"]["userErrors"][0]["message"], "no such record of that type",
        "a token without loan:read learns nothing of the loan: {body}"
    );
    let koperasi = app.token("DISPERINDAGKOP", "referral:read referral:write loan:read", &["64"]);
    let body = mv(
        &app,
        &koperasi,
        "completeReferral",
        "CompleteReferralInput",
        f,
        json!({ "id": id, "expectedVersion": 2, "outcomeType": "LOAN_APPLICATION", "outcomeId": loan }),
    )
    .await;
    assert_eq!(status(&body, "completeReferral", f), "COMPLETED");
    let read = "query($id: UUID!) { referral(id: $id) { outcome { __typename ... on LoanApplication { id product } } } }";
    let body = app.gql(&app.admin(), read, json!({ "id": id })).await;
    assert_eq!(
        body["data"]["referral"]["outcome"],
        json!({ "__typename": "LoanApplication", "id": loan, "product": "COOPERATIVE" }),
        "the outcome resolves in the same query: {body}"
    );
    let blind = app.token("DINSOS", "referral:read", &["64"]);
    let body = app.gql(&blind, read, json!({ "id": id })).await;
    assert!(body["data"]["referral"]["outcome"].is_null(), "without loan:read: {body}");
}

#[tokio::test]
async fn a_visit_that_sees_a_stalled_business_moves_it_to_stalled() {
    let app = spawn_app().await;
    let token = app.token("RELAWAN", "monitoring:read monitoring:write business:read", &["6472"]);
    let person = app.beneficiary(2).await;
    let business = app.running_business(&person, "2025-05-01").await;
    let record = "mutation($i: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $i) { monitoringVisit { id obstacles business { status } } userErrors { code field } } }";
    let body = app.gql(&token, record, json!({ "i": { "businessId": business, "volunteerName": "Agus (TKSK)", "visitedOn": "2026-11-01", "observedStatus": "STALLED", "obstacles": ["CAPITAL", "SUPPLY"], "followUpNeeded": true } })).await;
    let visit = &body["data"]["recordMonitoringVisit"]["monitoringVisit"];
    assert_eq!(visit["business"]["status"], "STALLED", "{body}");
    assert_eq!(visit["obstacles"], json!(["CAPITAL", "SUPPLY"]));
    let body = app.gql(&token, record, json!({ "i": { "businessId": business, "volunteerName": "Agus", "visitedOn": "2999-01-01", "observedStatus": "RUNNING" } })).await;
    assert_eq!(body["data"]["recordMonitoringVisit"]["userErrors"][0]["field"][0], "visitedOn");
    // "Today" is the volunteer's: today in WIT (UTC+9), Indonesia's easternmost time, is
    // accepted whatever the hour in UTC; the day after is not.
    let wit = (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive();
    for (day, refused) in [(wit, false), (wit + chrono::Days::new(1), true)] {
        let body = app.gql(&token, record, json!({ "i": { "businessId": business, "volunteerName": "Agus", "visitedOn": day.to_string(), "observedStatus": "STALLED" } })).await;
        assert_eq!(
            body["data"]["recordMonitoringVisit"]["monitoringVisit"].is_null(),
            refused,
            "{day}: {body}"
        );
    }
    let events = app
        .gql(&app.admin(), "query($id: UUID!) { caseEvents(filter: {entityId: $id}) { nodes { action toStatus actorAgency } } }", json!({ "id": business }))
        .await;
    let nodes = events["data"]["caseEvents"]["nodes"].as_array().cloned().unwrap_or_default();
    assert_eq!(nodes.last().map(|n| n["toStatus"].clone()), Some(json!("STALLED")), "{events}");
    assert_eq!(nodes.last().map(|n| n["actorAgency"].clone()), Some(json!("RELAWAN")));
}

#[tokio::test]
async fn a_graduated_beneficiary_cannot_be_deactivated() {
    let app = spawn_app().await;
    let token = app.admin();
    let id = app.beneficiary(2).await;
    let body = mv(
        &app,
        &token,
        "graduateBeneficiary",
        "StatusChangeInput",
        "beneficiary",
        json!({ "id": id, "expectedVersion": 1 }),
    )
    .await;
    assert_eq!(status(&body, "graduateBeneficiary", "beneficiary"), "GRADUATED");
    let body = mv(
        &app,
        &token,
        "deactivateBeneficiary",
        "StatusChangeWithReasonInput",
        "beneficiary",
        json!({ "id": id, "expectedVersion": 2, "reason": "Alasan pengujian" }),
    )
    .await;
    assert_eq!(user_error(&body, "deactivateBeneficiary").as_deref(), Some("INVALID_TRANSITION"));
}

#[tokio::test]
async fn only_the_sender_edits_an_open_referral_and_decided_requests_stay_as_decided() {
    let app = spawn_app().await;
    let dinsos = app.token("DINSOS", "referral:read referral:write", &["64"]);
    let pupr =
        app.token("PUPR", "referral:read referral:write infrastructure:read infrastructure:write", &["64"]);
    let person = app.beneficiary(2).await;
    let create = "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id } } }";
    let body = app.gql(&dinsos, create, json!({ "i": { "beneficiaryId": person, "toAgency": "PUPR", "service": "SANITATION", "reason": "Tidak ada jamban" } })).await;
    let id = body["data"]["createReferral"]["referral"]["id"].as_str().expect("id").to_owned();
    let update = "mutation($i: UpdateReferralInput!) { updateReferral(input: $i) { referral { reason dueBy version } userErrors { code } } }";
    let body =
        app.gql(&pupr, update, json!({ "i": { "id": id, "expectedVersion": 1, "reason": "x" } })).await;
    assert_eq!(crate::helpers::error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    let body = app
        .gql(&dinsos, update, json!({ "i": { "id": id, "expectedVersion": 1, "dueBy": "2026-12-31" } }))
        .await;
    assert_eq!(body["data"]["updateReferral"]["referral"]["dueBy"], "2026-12-31", "{body}");

    let create = "mutation($i: CreateInfrastructureRequestInput!) { createInfrastructureRequest(input: $i) { infrastructureRequest { id } } }";
    let body =
        app.gql(&pupr, create, json!({ "i": { "beneficiaryId": person, "kind": "SANITATION" } })).await;
    let req = body["data"]["createInfrastructureRequest"]["infrastructureRequest"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let update = "mutation($i: UpdateInfrastructureRequestInput!) { updateInfrastructureRequest(input: $i) { infrastructureRequest { estimatedCost } userErrors { code } } }";
    let body = app
        .gql(&pupr, update, json!({ "i": { "id": req, "expectedVersion": 1, "estimatedCost": 7500000 } }))
        .await;
    assert_eq!(
        body["data"]["updateInfrastructureRequest"]["infrastructureRequest"]["estimatedCost"], 7500000,
        "{body}"
    );
    let body = mv(
        &app,
        &pupr,
        "rejectInfrastructureRequest",
        "StatusChangeWithReasonInput",
        "infrastructureRequest",
        json!({ "id": req, "expectedVersion": 2, "reason": "Di luar prioritas" }),
    )
    .await;
    assert_eq!(status(&body, "rejectInfrastructureRequest", "infrastructureRequest"), "REJECTED");
    let body =
        app.gql(&pupr, update, json!({ "i": { "id": req, "expectedVersion": 3, "estimatedCost": 1 } })).await;
    assert_eq!(user_error(&body, "updateInfrastructureRequest").as_deref(), Some("INVALID_TRANSITION"));
}

#[tokio::test]
async fn a_visit_proposes_a_closure_that_only_the_owning_agency_confirms_or_rejects() {
    let app = spawn_app().await;
    let relawan = app.token("RELAWAN", "monitoring:read monitoring:write business:read", &["6472"]);
    let dinsos = app.token("DINSOS", "business:read business:write", &["6472"]);
    let person = app.beneficiary(2).await;
    let business = app.running_business(&person, "2025-05-01").await;
    let record = "mutation($i: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $i) { monitoringVisit { id business { status version closureProposedByVisitId closureProposedOn } } userErrors { code field } } }";
    let visit = |date: &str, observed: &str| json!({ "i": { "businessId": business, "volunteerName": "Agus", "visitedOn": date, "observedStatus": observed } });
    let body = app.gql(&relawan, record, visit("2020-01-01", "CLOSED")).await;
    assert_eq!(
        body["data"]["recordMonitoringVisit"]["userErrors"][0]["field"][0], "visitedOn",
        "before the start: {body}"
    );

    let body = app.gql(&relawan, record, visit("2026-11-01", "CLOSED")).await;
    let seen = &body["data"]["recordMonitoringVisit"]["monitoringVisit"];
    assert_eq!(seen["business"]["status"], "RUNNING", "a visit does not close a business: {body}");
    assert_eq!(seen["business"]["closureProposedByVisitId"], seen["id"]);
    assert_eq!(seen["business"]["closureProposedOn"], "2026-11-01");
    let version = seen["business"]["version"].as_i64().expect("version");
    let work =
        app.gql(&dinsos, "{ businesses(filter: {closureProposed: true}) { nodes { id } } }", json!({})).await;
    assert_eq!(
        work["data"]["businesses"]["nodes"],
        json!([{ "id": business }]),
        "the owner's work list: {work}"
    );
    let close = "mutation($i: StatusChangeWithReasonInput!) { closeBusiness(input: $i) { business { status } userErrors { code } } }";
    let body = app.gql(&relawan, close, json!({ "i": { "id": business, "expectedVersion": version, "reason": "Pemilik pindah ke luar daerah" } })).await;
    assert_eq!(
        crate::helpers::error_code(&body).as_deref(),
        Some("FORBIDDEN"),
        "the volunteer cannot confirm: {body}"
    );
    let reject = "mutation($i: StatusChangeWithReasonInput!) { rejectBusinessClosure(input: $i) { business { status closureProposedByVisitId } userErrors { code field } } }";
    let body = app
        .gql(&dinsos, reject, json!({ "i": { "id": business, "expectedVersion": version, "reason": " " } }))
        .await;
    assert_eq!(
        body["data"]["rejectBusinessClosure"]["userErrors"][0]["field"],
        json!(["reason"]),
        "a blank reason: {body}"
    );
    let why = "Usaha masih buka, pemilik sedang sakit";
    let body = app
        .gql(&dinsos, reject, json!({ "i": { "id": business, "expectedVersion": version, "reason": why } }))
        .await;
    assert_eq!(body["data"]["rejectBusinessClosure"]["business"]["status"], "RUNNING", "{body}");
    assert!(body["data"]["rejectBusinessClosure"]["business"]["closureProposedByVisitId"].is_null());

    let body = app.gql(&relawan, record, visit("2026-11-02", "CLOSED")).await;
    let version = body["data"]["recordMonitoringVisit"]["monitoringVisit"]["business"]["version"].clone();
    let body = app.gql(&dinsos, close, json!({ "i": { "id": business, "expectedVersion": version, "reason": "Pemilik pindah ke luar daerah" } })).await;
    assert_eq!(body["data"]["closeBusiness"]["business"]["status"], "CLOSED", "the owner confirms: {body}");
    let events = app
        .gql(
            &app.admin(),
            "query($id: UUID!) { caseEvents(filter: {entityId: $id}) { nodes { action reason } } }",
            json!({ "id": business }),
        )
        .await;
    let rejected = events["data"]["caseEvents"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["action"] == "CLOSURE_REJECTED");
    assert_eq!(
        rejected.map(|n| n["reason"].clone()),
        Some(json!(why)),
        "the rejection keeps its reason: {events}"
    );
    let actions: Vec<Value> = events["data"]["caseEvents"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["action"].clone())
        .collect();
    assert!(
        actions.contains(&json!("CLOSURE_PROPOSED")) && actions.contains(&json!("CLOSURE_REJECTED")),
        "{events}"
    );
}

#[tokio::test]
async fn a_visit_older_than_the_last_status_change_moves_nothing_and_a_recovery_resumes_the_business() {
    let app = spawn_app().await;
    let relawan = app.token("RELAWAN", "monitoring:read monitoring:write business:read", &["6472"]);
    let person = app.beneficiary(2).await;
    let business = app.running_business(&person, "2025-05-01").await;
    let record = "mutation($i: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $i) { monitoringVisit { business { status statusChangedOn } } userErrors { code field } } }";
    let visit = |date: &str, observed: &str| json!({ "i": { "businessId": business, "volunteerName": "Agus", "visitedOn": date, "observedStatus": observed } });
    let body = app.gql(&relawan, record, visit("2026-10-01", "STALLED")).await;
    assert_eq!(
        body["data"]["recordMonitoringVisit"]["monitoringVisit"]["business"]["status"], "STALLED",
        "{body}"
    );
    let body = app.gql(&relawan, record, visit("2026-09-01", "RUNNING")).await;
    assert_eq!(
        body["data"]["recordMonitoringVisit"]["monitoringVisit"]["business"]["status"], "STALLED",
        "a visit synced late, older than the stall, moves nothing: {body}"
    );
    let body = app.gql(&relawan, record, visit("2026-10-15", "RUNNING")).await;
    let seen = &body["data"]["recordMonitoringVisit"]["monitoringVisit"]["business"];
    assert_eq!(seen["status"], "RUNNING", "a later visit sees it running again: {body}");
    assert_eq!(seen["statusChangedOn"], "2026-10-15");
}

#[tokio::test]
async fn a_business_cannot_start_in_the_future() {
    let app = spawn_app().await;
    let token = app.admin();
    let person = app.beneficiary(2).await;
    let id = app.equipped_business(&person).await;
    let start = "mutation($i: StartBusinessInput!) { startBusiness(input: $i) { business { status } userErrors { code field } } }";
    let body = app
        .gql(&token, start, json!({ "i": { "id": id, "expectedVersion": 3, "startedOn": "2999-01-01" } }))
        .await;
    assert_eq!(body["data"]["startBusiness"]["userErrors"][0]["field"][0], "startedOn", "{body}");
}

/// One row of a lifecycle table, as the API names it.
struct MoveRow {
    mutation: String,
    from: Vec<&'static str>,
    to: &'static str,
    ends: bool,
}

/// A record to drive through every move from every status of its lifecycle.
struct Subject {
    table: &'static str,
    id: String,
    payload_field: &'static str,
    statuses: Vec<&'static str>,
    moves: Vec<MoveRow>,
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    for (i, part) in snake.split('_').enumerate() {
        let mut chars = part.chars();
        match chars.next() {
            Some(first) if i > 0 => out.extend(first.to_uppercase().chain(chars)),
            Some(first) => out.extend(std::iter::once(first).chain(chars)),
            None => {}
        }
    }
    out
}

fn subject<S: sinergi_api::records::Status>(
    table: &'static str,
    id: String,
    payload_field: &'static str,
    lifecycle: &sinergi_api::records::Lifecycle<S>,
) -> Subject {
    let name = |s: S| -> &'static str { s.into() };
    Subject {
        table,
        id,
        payload_field,
        statuses: S::VARIANTS.iter().map(|s| name(*s)).collect(),
        moves: lifecycle
            .moves()
            .iter()
            .map(|m| MoveRow {
                mutation: camel(m.field),
                from: m.from.iter().map(|s| name(*s)).collect(),
                to: name(m.to),
                ends: m.ends,
            })
            .collect(),
    }
}

/// The input a move takes besides the record and its version, and its type.
fn move_input(row: &MoveRow) -> (&'static str, Value) {
    match row.mutation.as_str() {
        _ if row.ends => ("StatusChangeWithReasonInput", json!({ "reason": "Alasan pengujian" })),
        "approveLoan" => ("ApproveLoanInput", json!({ "approvedAmount": 5000000 })),
        "startBusiness" => ("StartBusinessInput", json!({})),
        "disburseAssistance" => ("DisburseAssistanceInput", json!({})),
        "surveyInfrastructureRequest" => {
            ("SurveyInfrastructureRequestInput", json!({ "surveyNotes": "Survei lapangan" }))
        }
        "completeReferral" => ("CompleteReferralInput", json!({})),
        "completeEnrollment" => ("CompleteEnrollmentInput", json!({ "certificateNo": "C-1" })),
        "completeMarketService" => {
            ("CompleteMarketServiceInput", json!({ "result": "Brosur dan foto produk" }))
        }
        _ => ("StatusChangeInput", json!({})),
    }
}

/// A DINSOS training set OPEN with `person` enrolled: (training id, enrollment id).
async fn open_training_with_enrollment(app: &TestApp, person: &str) -> (String, String) {
    let admin = app.admin();
    let body = app
        .gql(&admin, "mutation($i: CreateTrainingInput!) { createTraining(input: $i) { training { id } } }",
            json!({ "i": { "title": "Pembukuan", "topic": "BOOKKEEPING", "regencyCode": "6472", "startsOn": "2026-12-01", "endsOn": "2026-12-03", "capacity": 10 } }))
        .await;
    let training = body["data"]["createTraining"]["training"]["id"].as_str().expect("training").to_owned();
    set_status(app, "training", &training, "OPEN").await;
    let body = app
        .gql(
            &admin,
            "mutation($i: EnrollInTrainingInput!) { enrollInTraining(input: $i) { enrollment { id } } }",
            json!({ "i": { "trainingId": training, "beneficiaryId": person } }),
        )
        .await;
    let enrollment =
        body["data"]["enrollInTraining"]["enrollment"]["id"].as_str().expect("enrollment").to_owned();
    (training, enrollment)
}

async fn set_status(app: &TestApp, table: &str, id: &str, status: &str) -> i64 {
    let backend = app.db.get_database_backend();
    let (p1, p2) = if backend == sea_orm::DbBackend::Postgres { ("$1", "$2") } else { ("?", "?") };
    let id = uuid::Uuid::parse_str(id).expect("uuid");
    let update = sea_orm::Statement::from_sql_and_values(
        backend,
        format!("UPDATE {table} SET status = {p1} WHERE id = {p2}"),
        [status.into(), id.into()],
    );
    sea_orm::ConnectionTrait::execute_raw(&app.db, update).await.expect("set status");
    let select = sea_orm::Statement::from_sql_and_values(
        backend,
        format!("SELECT CAST(version AS BIGINT) AS v FROM {table} WHERE id = {p1}"),
        [id.into()],
    );
    let row = sea_orm::ConnectionTrait::query_one_raw(&app.db, select).await.expect("version").expect("row");
    row.try_get::<i64>("", "v").expect("v")
}

#[tokio::test]
async fn every_move_succeeds_from_its_statuses_and_is_an_invalid_transition_from_every_other() {
    use sinergi_api::{assistance, beneficiary, business, infrastructure, loan, market, referral, training};

    let app = spawn_app_with(open_ladder()).await;
    let admin = app.admin();
    let pupr = app.token("PUPR", "infrastructure:read infrastructure:write", &["64"]);
    let koperasi = app.token(
        "DISPERINDAGKOP",
        "loan:read loan:write referral:read referral:write business:read business:write",
        &["64"],
    );
    let person = app.beneficiary(2).await;
    let created = |body: Value, mutation: &str, field: &str| {
        body["data"][mutation][field]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{mutation}: {body}"))
            .to_owned()
    };
    let business_id = app.equipped_business(&person).await;
    let assistance_id = created(
        app.gql(&admin, "mutation($i: CreateAssistanceInput!) { createAssistance(input: $i) { assistance { id } } }",
            json!({ "i": { "beneficiaryId": person, "programme": "BLT", "amount": 600000, "periodStart": "2026-01-01", "fundSource": "APBD" } })).await,
        "createAssistance", "assistance");
    let training_id = created(
        app.gql(&admin, "mutation($i: CreateTrainingInput!) { createTraining(input: $i) { training { id } } }",
            json!({ "i": { "title": "Pembukuan", "topic": "BOOKKEEPING", "regencyCode": "6472", "startsOn": "2026-12-01", "endsOn": "2026-12-03", "capacity": 10 } })).await,
        "createTraining", "training");
    set_status(&app, "training", &training_id, "OPEN").await;
    let enrollment_id = created(
        app.gql(
            &admin,
            "mutation($i: EnrollInTrainingInput!) { enrollInTraining(input: $i) { enrollment { id } } }",
            json!({ "i": { "trainingId": training_id, "beneficiaryId": person } }),
        )
        .await,
        "enrollInTraining",
        "enrollment",
    );
    let request_id = created(
        app.gql(&pupr, "mutation($i: CreateInfrastructureRequestInput!) { createInfrastructureRequest(input: $i) { infrastructureRequest { id } } }",
            json!({ "i": { "beneficiaryId": person, "kind": "CLEAN_WATER", "estimatedCost": 5000000 } })).await,
        "createInfrastructureRequest", "infrastructureRequest");
    let loan_id = created(
        app.gql(&koperasi, "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { loanApplication { id } } }",
            json!({ "i": { "businessId": business_id, "product": "COOPERATIVE", "lender": "Koperasi Maju", "requestedAmount": 10000000, "tenorMonths": 12 } })).await,
        "createLoanApplication", "loanApplication");
    let market_id = created(
        app.gql(&koperasi, "mutation($i: CreateMarketServiceInput!) { createMarketService(input: $i) { marketService { id } } }",
            json!({ "i": { "businessId": business_id, "kind": "MARKETING" } })).await,
        "createMarketService", "marketService");
    let referral_id = created(
        app.gql(&admin, "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id } } }",
            json!({ "i": { "beneficiaryId": person, "toAgency": "DISPERINDAGKOP", "service": "CAPITAL_ACCESS", "reason": "Modal usaha" } })).await,
        "createReferral", "referral");

    let subjects = [
        subject("beneficiary", person.clone(), "beneficiary", &beneficiary::LIFECYCLE),
        subject("assistance", assistance_id, "assistance", &assistance::LIFECYCLE),
        subject("business", business_id, "business", &business::LIFECYCLE),
        subject("training", training_id, "training", &training::LIFECYCLE),
        subject("training_enrollment", enrollment_id, "enrollment", &training::ENROLLMENT_LIFECYCLE),
        subject("infrastructure_request", request_id, "infrastructureRequest", &infrastructure::LIFECYCLE),
        subject("loan_application", loan_id, "loanApplication", &loan::LIFECYCLE),
        subject("referral", referral_id, "referral", &referral::LIFECYCLE),
        subject("market_service", market_id, "marketService", &market::LIFECYCLE),
    ];
    let mut checked = 0;
    for subject in &subjects {
        assert!(!subject.moves.is_empty(), "{} has moves", subject.table);
        for row in &subject.moves {
            let token = match row.mutation.as_str() {
                m if m.contains("InfrastructureRequest") || m == "startInfrastructureWork" => &pupr,
                m if m.contains("Loan") || m.contains("MarketService") => &koperasi,
                "acceptReferral" | "declineReferral" | "completeReferral" => &koperasi,
                _ => &admin,
            };
            let (input_type, extra) = move_input(row);
            for status in &subject.statuses {
                let version = set_status(&app, subject.table, &subject.id, status).await;
                let mut input = json!({ "id": subject.id, "expectedVersion": version });
                if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
                    input.extend(extra.clone());
                }
                let field = subject.payload_field;
                let q = format!(
                    "mutation($i: {input_type}!) {{ {m}(input: $i) {{ {field} {{ status statusReason }} userErrors {{ code message }} }} }}",
                    m = row.mutation
                );
                let body = app.gql(token, &q, json!({ "i": input })).await;
                let what = format!("{} from {status}: {body}", row.mutation);
                if row.from.contains(status) {
                    assert_eq!(body["data"][&row.mutation][field]["status"], row.to, "{what}");
                    let reason = &body["data"][&row.mutation][field]["statusReason"];
                    if row.ends {
                        assert_eq!(reason, "Alasan pengujian", "{what}");
                    }
                } else {
                    assert_eq!(
                        user_error(&body, &row.mutation).as_deref(),
                        Some("INVALID_TRANSITION"),
                        "{what}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 150, "every move from every status: {checked}");
}

#[tokio::test]
async fn a_beneficiarys_reason_is_personal_data_on_the_record_and_in_its_event() {
    let app = spawn_app().await;
    let person = app.beneficiary(2).await;
    let deactivate = "mutation($i: StatusChangeWithReasonInput!) { deactivateBeneficiary(input: $i) { beneficiary { status } userErrors { code } } }";
    let body = app
        .gql(
            &app.admin(),
            deactivate,
            json!({ "i": { "id": person, "expectedVersion": 1, "reason": "Pindah ke luar provinsi" } }),
        )
        .await;
    assert_eq!(body["data"]["deactivateBeneficiary"]["beneficiary"]["status"], "INACTIVE", "{body}");
    let read = "query($id: UUID!) { beneficiary(id: $id) { statusReason } caseEvents(filter: {entityId: $id, actions: [STATUS_CHANGED]}) { nodes { reason } } }";
    let masked = app.token("DINSOS", "beneficiary:read events:subscribe", &["64"]);
    let body = app.gql(&masked, read, json!({ "id": person })).await;
    assert_eq!(body["data"]["beneficiary"]["statusReason"], "***", "{body}");
    assert_eq!(body["data"]["caseEvents"]["nodes"], json!([{ "reason": "***" }]), "{body}");
    let open = app.token("DINSOS", "beneficiary:read events:subscribe pii:read", &["64"]);
    let body = app.gql(&open, read, json!({ "id": person })).await;
    assert_eq!(body["data"]["beneficiary"]["statusReason"], "Pindah ke luar provinsi", "{body}");
    assert_eq!(
        body["data"]["caseEvents"]["nodes"],
        json!([{ "reason": "Pindah ke luar provinsi" }]),
        "{body}"
    );
}

#[tokio::test]
async fn a_completed_enrollment_keeps_its_certificate_number() {
    let app = spawn_app().await;
    let admin = app.admin();
    let person = app.beneficiary(2).await;
    let (_, enrollment) = open_training_with_enrollment(&app, &person).await;
    let update = "mutation($i: UpdateEnrollmentInput!) { updateEnrollment(input: $i) { enrollment { certificateNo } userErrors { code field } } }";
    let version = set_status(&app, "training_enrollment", &enrollment, "ENROLLED").await;
    let body = app
        .gql(
            &admin,
            update,
            json!({ "i": { "id": enrollment, "expectedVersion": version, "certificateNo": "C-7" } }),
        )
        .await;
    assert_eq!(body["data"]["updateEnrollment"]["enrollment"]["certificateNo"], "C-7", "{body}");
    let version = set_status(&app, "training_enrollment", &enrollment, "COMPLETED").await;
    let body = app
        .gql(
            &admin,
            update,
            json!({ "i": { "id": enrollment, "expectedVersion": version, "certificateNo": null } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateEnrollment"]["userErrors"],
        json!([{ "code": "VALIDATION", "field": ["certificateNo"] }]),
        "{body}"
    );
    let body = app
        .gql(
            &admin,
            update,
            json!({ "i": { "id": enrollment, "expectedVersion": version, "certificateNo": "C-8" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateEnrollment"]["enrollment"]["certificateNo"], "C-8",
        "a correction is fine: {body}"
    );
}

#[tokio::test]
async fn a_non_party_learns_nothing_of_a_records_version_or_status() {
    let app = spawn_app().await;
    let admin = app.admin();
    let person = app.beneficiary(2).await;
    let referral = app
        .gql(&admin, "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id } } }",
            json!({ "i": { "beneficiaryId": person, "toAgency": "DISPERINDAGKOP", "service": "CAPITAL_ACCESS", "reason": "Modal usaha" } }))
        .await;
    let referral = referral["data"]["createReferral"]["referral"]["id"].clone();
    let outsider =
        app.token("DISNAKERTRANS", "referral:read referral:write training:read training:write", &["64"]);
    let accept = "mutation($i: StatusChangeInput!) { acceptReferral(input: $i) { referral { id } userErrors { code } } }";
    let body = app.gql(&outsider, accept, json!({ "i": { "id": referral, "expectedVersion": 99 } })).await;
    assert_eq!(crate::helpers::error_code(&body).as_deref(), Some("FORBIDDEN"), "not CONFLICT: {body}");

    let (training, enrollment) = open_training_with_enrollment(&app, &person).await;
    let attend = "mutation($i: StatusChangeInput!) { markEnrollmentAttended(input: $i) { enrollment { id } userErrors { code } } }";
    let body = app.gql(&outsider, attend, json!({ "i": { "id": enrollment, "expectedVersion": 99 } })).await;
    assert_eq!(crate::helpers::error_code(&body).as_deref(), Some("FORBIDDEN"), "not CONFLICT: {body}");
    let cancel = "mutation($i: StatusChangeWithReasonInput!) { cancelTraining(input: $i) { training { id } userErrors { code } } }";
    let body = app
        .gql(&outsider, cancel, json!({ "i": { "id": training, "expectedVersion": 99, "reason": "x" } }))
        .await;
    assert_eq!(crate::helpers::error_code(&body).as_deref(), Some("FORBIDDEN"), "not CONFLICT: {body}");
}
