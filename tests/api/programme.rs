//! The programme's rules for business starter packages: a current assessment, the intake, the
//! value, one per person per year and the regency's allocation (also under concurrent grants);
//! equipping needs the package disbursed; candidates ranked with their reasons.

use std::sync::Arc;

use serde_json::{Value, json};
use sinergi_api::rules::{Allocation, Rules};
use tokio::task::JoinSet;

use crate::helpers::{
    CREATE_ASSISTANCE, CREATE_BENEFICIARY, CREATE_BUSINESS, TestApp, beneficiary_input, error_code,
    open_ladder, package_input, spawn_app, spawn_app_with, user_error,
};

/// Today, as the gateway sees it.
fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

fn this_year() -> String {
    format!("{}-01-01", chrono::Datelike::year(&today()))
}

/// A Samarinda beneficiary of `decile` whose decile was assessed `months_ago`.
async fn person_assessed(app: &TestApp, decile: i32, months_ago: u32) -> String {
    let (nik, kk) = app.identity();
    let mut input = beneficiary_input(&nik, &kk, decile);
    let assessed = today().checked_sub_months(chrono::Months::new(months_ago)).unwrap_or(today());
    input["decileAssessedOn"] = json!(assessed.to_string());
    let body = app.gql(&app.admin(), CREATE_BENEFICIARY, json!({ "input": input })).await;
    body["data"]["createBeneficiary"]["beneficiary"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

async fn grant(app: &TestApp, input: Value) -> Value {
    app.gql(&app.admin(), CREATE_ASSISTANCE, json!({ "i": input })).await
}

fn message(body: &Value) -> String {
    body["data"]["createAssistance"]["userErrors"][0]["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_starter_package_needs_a_current_assessment_its_intake_and_a_value_within_the_limit() {
    let app = spawn_app().await;
    let stale = person_assessed(&app, 3, 25).await;
    let events = app.event_count().await;
    let body = grant(&app, package_input(&stale, None, &this_year())).await;
    assert_eq!(user_error(&body, "createAssistance").as_deref(), Some("NOT_ELIGIBLE"), "{body}");
    assert!(message(&body).contains("older than 24 months"), "{body}");

    let person = person_assessed(&app, 3, 23).await;
    let events_before = app.event_count().await;
    assert_eq!(events_before, events + 1);
    let mut bare = package_input(&person, None, &this_year());
    for field in ["interest", "requestedGoods", "priceAssessment"] {
        bare.as_object_mut().map(|o| o.remove(field));
    }
    let body = grant(&app, bare).await;
    let fields: Vec<&str> = body["data"]["createAssistance"]["userErrors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"][0].as_str())
        .collect();
    assert_eq!(
        fields,
        ["interest", "requestedGoods", "priceAssessment"],
        "every missing part at once: {body}"
    );

    let mut dear = package_input(&person, None, &this_year());
    dear["amount"] = json!(5_000_001);
    let body = grant(&app, dear).await;
    assert_eq!(user_error(&body, "createAssistance").as_deref(), Some("LIMIT_EXCEEDED"), "{body}");
    assert_eq!(body["data"]["createAssistance"]["userErrors"][0]["field"], json!(["amount"]));

    let mut cash = package_input(&person, None, &this_year());
    cash["programme"] = json!("BLT");
    let body = grant(&app, cash).await;
    assert_eq!(body["data"]["createAssistance"]["userErrors"][0]["field"], json!(["interest"]), "{body}");
    assert_eq!(app.event_count().await, events_before, "a refusal writes nothing");

    let before = today();
    let body = grant(&app, package_input(&person, None, &this_year())).await;
    assert!(user_error(&body, "createAssistance").is_none(), "a current assessment of 23 months: {body}");
    let id = body["data"]["createAssistance"]["assistance"]["id"].as_str().unwrap_or_default();
    let body = app
        .gql(
            &app.admin(),
            "query($id: UUID!) { assistance(id: $id) { interest requestedGoods priceAssessment priceAssessedOn } }",
            json!({ "id": id }),
        )
        .await;
    let priced = body["data"]["assistance"]["priceAssessedOn"].as_str().unwrap_or_default().to_owned();
    assert!(
        [before.to_string(), today().to_string()].contains(&priced),
        "priced today when no date is given: {body}"
    );
    assert_eq!(
        body["data"]["assistance"],
        json!({ "interest": "Warung makan", "requestedGoods": "Kompor dan wajan", "priceAssessment": 4800000, "priceAssessedOn": priced }),
        "the intake is recorded"
    );

    // A person who is no longer ACTIVE is refused.
    let graduated = person_assessed(&app, 3, 1).await;
    let deactivate = "mutation($i: StatusChangeWithReasonInput!) { deactivateBeneficiary(input: $i) { beneficiary { status } } }";
    app.gql(
        &app.admin(),
        deactivate,
        json!({ "i": { "id": graduated, "expectedVersion": 1, "reason": "Pindah" } }),
    )
    .await;
    let body = grant(&app, package_input(&graduated, None, &this_year())).await;
    assert_eq!(user_error(&body, "createAssistance").as_deref(), Some("NOT_ELIGIBLE"), "{body}");
    assert!(message(&body).contains("not ACTIVE"), "{body}");
}

/// Rules whose allocation lets each regency grant `recipients` packages worth `budget` in all.
fn allocation(recipients: u32, budget: i64) -> Rules {
    Rules {
        allocation: Allocation { recipients_per_regency: recipients, budget_per_regency: budget },
        allocation_years: Vec::new(),
        ..Rules::default()
    }
}

const ALLOCATIONS: &str = "query($y: Int!) { packageAllocations(year: $y, regencyCodes: [\"6472\", \"6401\"]) { \
                           regencyCode recipients budget granted grantedAmount remainingRecipients remainingBudget } }";

#[tokio::test]
async fn a_regency_grants_no_more_packages_than_its_allocation() {
    let app = spawn_app_with(allocation(2, 9_600_000)).await;
    let mut granted = Vec::new();
    for _ in 0..2 {
        let person = app.beneficiary(2).await;
        let body = grant(&app, package_input(&person, None, &this_year())).await;
        let id =
            body["data"]["createAssistance"]["assistance"]["id"].as_str().unwrap_or_else(|| panic!("{body}"));
        granted.push(id.to_owned());
    }
    let third = app.beneficiary(2).await;
    let body = grant(&app, package_input(&third, None, &this_year())).await;
    assert_eq!(user_error(&body, "createAssistance").as_deref(), Some("LIMIT_EXCEEDED"), "{body}");
    assert!(message(&body).contains("all 2 starter packages"), "{body}");
    // In another regency the budget runs out first: Rp9.6 million does not hold a third package.
    let budget = spawn_app_with(allocation(5, 9_600_000)).await;
    for n in 0..3 {
        let person = budget.beneficiary(2).await;
        let body = grant(&budget, package_input(&person, None, &this_year())).await;
        let expected = if n < 2 { None } else { Some("LIMIT_EXCEEDED") };
        assert_eq!(user_error(&body, "createAssistance").as_deref(), expected, "package {n}: {body}");
        if n == 2 {
            assert_eq!(
                body["data"]["createAssistance"]["userErrors"][0]["field"],
                json!(["amount"]),
                "{body}"
            );
        }
    }

    let year = chrono::Datelike::year(&today());
    let body = app.gql(&app.admin(), ALLOCATIONS, json!({ "y": year })).await;
    assert_eq!(
        body["data"]["packageAllocations"],
        json!([
            { "regencyCode": "6401", "recipients": 2, "budget": 9600000, "granted": 0, "grantedAmount": 0, "remainingRecipients": 2, "remainingBudget": 9600000 },
            { "regencyCode": "6472", "recipients": 2, "budget": 9600000, "granted": 2, "grantedAmount": 9500000, "remainingRecipients": 0, "remainingBudget": 100000 },
        ]),
        "{body}"
    );
    // A token for one regency sees that regency's allocation only.
    let samarinda = app.token("DINSOS", "assistance:read", &["6472"]);
    let body = app.gql(&samarinda, ALLOCATIONS, json!({ "y": year })).await;
    let regencies: Vec<&Value> = body["data"]["packageAllocations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| &a["regencyCode"])
        .collect();
    assert_eq!(regencies, [&json!("6472")], "{body}");
    // A later year has its own allocation.
    let body = grant(&app, package_input(&third, None, &format!("{}-01-01", year + 1))).await;
    assert!(user_error(&body, "createAssistance").is_none(), "{body}");

    // Raising a planned package's value beyond the budget is refused; within it, accepted.
    let update = "mutation($i: UpdateAssistanceInput!) { updateAssistance(input: $i) { assistance { amount version } userErrors { code field } } }";
    let body = app
        .gql(
            &app.admin(),
            update,
            json!({ "i": { "id": granted[0], "expectedVersion": 1, "amount": 4_900_000 } }),
        )
        .await;
    assert_eq!(user_error(&body, "updateAssistance").as_deref(), Some("LIMIT_EXCEEDED"), "{body}");
    let body = app
        .gql(
            &app.admin(),
            update,
            json!({ "i": { "id": granted[0], "expectedVersion": 1, "amount": 4_850_000 } }),
        )
        .await;
    assert_eq!(body["data"]["updateAssistance"]["assistance"]["amount"], 4_850_000, "{body}");

    // A cancelled package gives its place back.
    let cancel = "mutation($i: StatusChangeWithReasonInput!) { cancelAssistance(input: $i) { assistance { status } } }";
    let body = app
        .gql(
            &app.admin(),
            cancel,
            json!({ "i": { "id": granted[1], "expectedVersion": 1, "reason": "Pindah domisili" } }),
        )
        .await;
    assert_eq!(body["data"]["cancelAssistance"]["assistance"]["status"], "CANCELLED", "{body}");
    let body = grant(&app, package_input(&third, None, &this_year())).await;
    assert!(user_error(&body, "createAssistance").is_none(), "{body}");
}

#[tokio::test]
async fn concurrent_grants_keep_the_allocation_and_one_package_a_year() {
    let app = Arc::new(spawn_app_with(allocation(3, 1_000_000_000)).await);
    let mut people = Vec::new();
    for _ in 0..8 {
        people.push(app.beneficiary(2).await);
    }
    let outcomes = |inputs: Vec<Value>| {
        let app = app.clone();
        async move {
            let mut tasks = JoinSet::new();
            for input in inputs {
                let app = app.clone();
                tasks.spawn(async move { grant(&app, input).await });
            }
            let mut codes = Vec::new();
            while let Some(body) = tasks.join_next().await {
                let body = body.expect("task");
                assert!(body["errors"].is_null(), "{body}");
                codes.push(user_error(&body, "createAssistance").unwrap_or_else(|| "GRANTED".into()));
            }
            codes.sort();
            codes
        }
    };
    let same_person = vec![package_input(&people[0], None, &this_year()); 6];
    let codes = outcomes(same_person).await;
    assert_eq!(
        codes,
        ["GRANTED", "NOT_ELIGIBLE", "NOT_ELIGIBLE", "NOT_ELIGIBLE", "NOT_ELIGIBLE", "NOT_ELIGIBLE"]
    );
    let others = people[1..].iter().map(|p| package_input(p, None, &this_year())).collect();
    let codes = outcomes(others).await;
    let granted = codes.iter().filter(|c| *c == "GRANTED").count();
    assert_eq!(granted, 2, "3 places, 1 taken: {codes:?}");
    assert!(codes.iter().all(|c| c == "GRANTED" || c == "LIMIT_EXCEEDED"), "{codes:?}");
    assert_eq!(app.event_count().await, 8 + 3, "one event per person and per package granted");
}

const MOVE: &str = "mutation($i: StatusChangeInput!) { equipBusiness(input: $i) { business { status } userErrors { code message } } }";

#[tokio::test]
async fn a_business_is_equipped_only_with_its_disbursed_package() {
    let app = spawn_app().await;
    let admin = app.admin();
    let person = app.beneficiary(2).await;
    let business = |name: &'static str, owner: String| {
        let app = &app;
        async move {
            let id = app.business(&owner, name, "FOOD").await;
            let approve =
                "mutation($i: StatusChangeInput!) { approveBusiness(input: $i) { business { status } } }";
            app.gql(&app.admin(), approve, json!({ "i": { "id": id, "expectedVersion": 1 } })).await;
            id
        }
    };
    let warung = business("Warung Uji", person.clone()).await;
    let body = app.gql(&admin, MOVE, json!({ "i": { "id": warung, "expectedVersion": 2 } })).await;
    assert_eq!(user_error(&body, "equipBusiness").as_deref(), Some("NOT_ELIGIBLE"), "no package yet: {body}");

    // A package cannot name someone else's business.
    let stranger = app.beneficiary(2).await;
    let theirs = business("Bengkel Orang Lain", stranger).await;
    let body = grant(&app, package_input(&person, Some(&theirs), &this_year())).await;
    assert_eq!(body["data"]["createAssistance"]["userErrors"][0]["field"], json!(["businessId"]), "{body}");

    let body = grant(&app, package_input(&person, Some(&warung), &this_year())).await;
    let package = body["data"]["createAssistance"]["assistance"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let body = app.gql(&admin, MOVE, json!({ "i": { "id": warung, "expectedVersion": 2 } })).await;
    assert_eq!(
        user_error(&body, "equipBusiness").as_deref(),
        Some("NOT_ELIGIBLE"),
        "planned is not delivered: {body}"
    );
    let disburse =
        "mutation($i: DisburseAssistanceInput!) { disburseAssistance(input: $i) { assistance { status } } }";
    app.gql(&admin, disburse, json!({ "i": { "id": package, "expectedVersion": 1 } })).await;
    let body = app.gql(&admin, MOVE, json!({ "i": { "id": warung, "expectedVersion": 2 } })).await;
    assert_eq!(body["data"]["equipBusiness"]["business"]["status"], "EQUIPPED", "{body}");
    let body = app
        .gql(
            &admin,
            "query($id: UUID!) { assistance(id: $id) { business { id name } } }",
            json!({ "id": package }),
        )
        .await;
    assert_eq!(body["data"]["assistance"]["business"], json!({ "id": warung, "name": "Warung Uji" }));
}

const CANDIDATES: &str = "query($r: String!, $y: Int!, $only: Boolean! = false, $first: Int, $after: String) { \
    eligibleCandidates(regencyCode: $r, year: $y, onlyEligible: $only, first: $first, after: $after) { \
    edges { cursor node { beneficiary { id decile nik } eligible reasons earlierBusinessStopped earlierPackages } } \
    pageInfo { hasNextPage } allocation { remainingRecipients } } }";

#[tokio::test]
async fn candidates_come_eligible_first_poorest_first_with_their_reasons() {
    let app = spawn_app().await;
    let admin = app.admin();
    let stopped = app.beneficiary(3).await;
    app.gql(&admin, CREATE_BUSINESS, json!({ "input": { "beneficiaryId": stopped, "name": "Gorengan", "sector": "FRIED_SNACKS", "previouslyStopped": true, "stopCause": "Pandemi" } })).await;
    let poorest = app.beneficiary(1).await;
    let plain = app.beneficiary(3).await;
    let stale = person_assessed(&app, 2, 30).await;
    let served = app.beneficiary(4).await;
    assert!(grant(&app, package_input(&served, None, &this_year())).await["errors"].is_null());
    let _better_off = app.beneficiary(7).await;

    let year = chrono::Datelike::year(&today());
    let body = app.gql(&admin, CANDIDATES, json!({ "r": "6472", "y": year })).await;
    let edges = body["data"]["eligibleCandidates"]["edges"].as_array().cloned().unwrap_or_default();
    let order: Vec<&str> = edges.iter().filter_map(|e| e["node"]["beneficiary"]["id"].as_str()).collect();
    assert_eq!(order, [&poorest, &stopped, &plain, &stale, &served], "{body}");
    let reasons: Vec<&Value> = edges.iter().map(|e| &e["node"]["reasons"]).collect();
    assert_eq!(
        reasons,
        [
            &json!([]),
            &json!([]),
            &json!([]),
            &json!(["ASSESSMENT_OUT_OF_DATE"]),
            &json!(["PACKAGE_THIS_YEAR"])
        ]
    );
    assert_eq!(edges[1]["node"]["earlierBusinessStopped"], true);
    assert_eq!(edges[0]["node"]["eligible"], true);
    assert_eq!(edges[3]["node"]["eligible"], false);
    let places = Rules::default().allocation(year).recipients_per_regency;
    assert_eq!(body["data"]["eligibleCandidates"]["allocation"]["remainingRecipients"], places - 1);
    // Next year the one served this year is eligible again, with one earlier package.
    let body = app.gql(&admin, CANDIDATES, json!({ "r": "6472", "y": year + 1, "only": true })).await;
    let edges = body["data"]["eligibleCandidates"]["edges"].as_array().cloned().unwrap_or_default();
    let order: Vec<&str> = edges.iter().filter_map(|e| e["node"]["beneficiary"]["id"].as_str()).collect();
    assert_eq!(order, [&poorest, &stopped, &plain, &served], "{body}");
    assert_eq!(edges[3]["node"]["earlierPackages"], 1);

    // Pages: two at a time, the cursor going on where the last page stopped.
    let page = app.gql(&admin, CANDIDATES, json!({ "r": "6472", "y": year, "first": 2 })).await;
    let cursor = page["data"]["eligibleCandidates"]["edges"][1]["cursor"].clone();
    assert_eq!(page["data"]["eligibleCandidates"]["pageInfo"]["hasNextPage"], true);
    let next =
        app.gql(&admin, CANDIDATES, json!({ "r": "6472", "y": year, "first": 2, "after": cursor })).await;
    assert_eq!(
        next["data"]["eligibleCandidates"]["edges"][0]["node"]["beneficiary"]["id"],
        plain.as_str(),
        "{next}"
    );
    let body = app.gql(&admin, CANDIDATES, json!({ "r": "6472", "y": year, "after": "x" })).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"));
    let nullable = CANDIDATES.replace("$only: Boolean! = false", "$only: Boolean");
    let body = app.gql(&admin, &nullable, json!({ "r": "6472", "y": year, "only": null })).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "null for a non-null argument: {body}");

    // Another regency's token sees no candidates of Samarinda, and NIKs stay masked without
    // `pii:read`.
    let balikpapan = app.token("DINSOS", "beneficiary:read assistance:read", &["6471"]);
    let body = app.gql(&balikpapan, CANDIDATES, json!({ "r": "6472", "y": year })).await;
    assert_eq!(body["data"]["eligibleCandidates"]["edges"], json!([]), "{body}");
    assert_eq!(
        body["data"]["eligibleCandidates"]["allocation"],
        Value::Null,
        "nothing about another regency"
    );
    let body =
        app.gql(&admin, CANDIDATES, json!({ "r": "6472", "y": year, "after": u64::MAX.to_string() })).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"), "{body}");
    let masked = app.token("DINSOS", "beneficiary:read assistance:read business:read", &["6472"]);
    let body = app.gql(&masked, CANDIDATES, json!({ "r": "6472", "y": year, "first": 1 })).await;
    let nik = body["data"]["eligibleCandidates"]["edges"][0]["node"]["beneficiary"]["nik"]
        .as_str()
        .unwrap_or_default();
    assert!(nik.contains("**********"), "{body}");
}

/// A short ladder for the graduation test: every kind of evidence it can gather in a few writes.
fn short_ladder() -> Rules {
    use sinergi_api::rules::{Criterion, Level};
    let level = |name: &str, criteria: Vec<Criterion>| Level { name: name.into(), criteria };
    Rules {
        graduation: vec![
            level("Dimulai", vec![Criterion::PackageDisbursed]),
            level("Formal", vec![Criterion::Nib]),
            level(
                "Bermodal",
                vec![Criterion::AnyOf {
                    of: vec![
                        Criterion::LoanDisbursed { products: vec![] },
                        Criterion::RevenueAtLeast { amount: 3_000_000 },
                    ],
                }],
            ),
            level(
                "Tumbuh",
                vec![Criterion::WorkersAtLeast { workers: 2 }, Criterion::RunningFor { months: 1 }],
            ),
        ],
        ..Rules::default()
    }
}

const READINESS: &str = "query($id: UUID!) { business(id: $id) { version level graduationReadiness { level ready \
    levels { level name met criteria { description met evidenceType evidenceId } } } } }";

#[tokio::test]
async fn a_business_climbs_the_ladder_with_its_evidence_and_graduates_only_at_the_top() {
    let app = spawn_app_with(short_ladder()).await;
    let admin = app.admin();
    let person = app.beneficiary(2).await;
    // Approved first, then its package granted and disbursed: the disbursement lifts it to L1.
    let business = app.business(&person, "Warung Uji", "FOOD").await;
    let approve = "mutation($i: StatusChangeInput!) { approveBusiness(input: $i) { business { level } } }";
    let body = app.gql(&admin, approve, json!({ "i": { "id": business, "expectedVersion": 1 } })).await;
    assert_eq!(body["data"]["approveBusiness"]["business"]["level"], 0, "{body}");
    let body = grant(&app, package_input(&person, Some(&business), &this_year())).await;
    let package = body["data"]["createAssistance"]["assistance"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let disburse =
        "mutation($i: DisburseAssistanceInput!) { disburseAssistance(input: $i) { assistance { status } } }";
    app.gql(&admin, disburse, json!({ "i": { "id": package, "expectedVersion": 1 } })).await;
    let equip = "mutation($i: StatusChangeInput!) { equipBusiness(input: $i) { business { version } } }";
    let body = app.gql(&admin, equip, json!({ "i": { "id": business, "expectedVersion": 2 } })).await;
    assert_eq!(
        body["data"]["equipBusiness"]["business"]["version"], 3,
        "the level change kept the version: {body}"
    );
    let started = (today() - chrono::Duration::days(62)).to_string();
    let start =
        "mutation($i: StartBusinessInput!) { startBusiness(input: $i) { business { status version } } }";
    app.gql(&admin, start, json!({ "i": { "id": business, "expectedVersion": 3, "startedOn": started } }))
        .await;

    let body = app.gql(&admin, READINESS, json!({ "id": business })).await;
    let b = &body["data"]["business"];
    assert_eq!(
        (b["level"].clone(), b["graduationReadiness"]["level"].clone()),
        (json!(1), json!(1)),
        "{body}"
    );
    assert_eq!(b["graduationReadiness"]["ready"], false);
    let first = &b["graduationReadiness"]["levels"][0]["criteria"][0];
    assert_eq!(
        (first["met"].clone(), first["evidenceType"].clone()),
        (json!(true), json!("ASSISTANCE")),
        "{body}"
    );
    assert_eq!(b["graduationReadiness"]["levels"][1]["met"], false);

    let graduate = "mutation($i: StatusChangeInput!) { graduateBusiness(input: $i) { business { status } userErrors { code message } } }";
    let version = b["version"].as_i64().unwrap_or_default();
    let body =
        app.gql(&admin, graduate, json!({ "i": { "id": business, "expectedVersion": version } })).await;
    assert_eq!(user_error(&body, "graduateBusiness").as_deref(), Some("NOT_ELIGIBLE"), "{body}");
    let refusal = body["data"]["graduateBusiness"]["userErrors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        refusal.contains("L2 Formal: business registration number (NIB)")
            && refusal.contains("L4 Tumbuh: 2 or more workers"),
        "{refusal}"
    );

    let update = "mutation($i: UpdateBusinessInput!) { updateBusiness(input: $i) { business { version level } userErrors { code } } }";
    let body = app
        .gql(
            &admin,
            update,
            json!({ "i": { "id": business, "expectedVersion": version, "nib": "1234567890123" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateBusiness"]["business"]["level"], 2,
        "the payload shows the new level: {body}"
    );
    let version = body["data"]["updateBusiness"]["business"]["version"].as_i64().unwrap_or_default();
    assert_eq!(version, 5, "a level change keeps the version: {body}");

    // A visit that sees it running on Rp3.5 million a month: revenue (L3) and two months running.
    let visit = "mutation($i: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $i) { monitoringVisit { id } userErrors { code message } } }";
    let body = app.gql(&admin, visit, json!({ "i": { "businessId": business, "volunteerName": "Relawan Uji", "visitedOn": today().to_string(), "observedStatus": "RUNNING", "revenueEstimate": 3500000 } })).await;
    let visit_id = body["data"]["recordMonitoringVisit"]["monitoringVisit"]["id"].clone();
    assert!(visit_id.is_string(), "{body}");
    let body = app.gql(&admin, READINESS, json!({ "id": business })).await;
    let b = &body["data"]["business"];
    assert_eq!((b["level"].clone(), b["version"].clone()), (json!(3), json!(5)), "{body}");
    let revenue = &b["graduationReadiness"]["levels"][2]["criteria"][0];
    assert_eq!(
        (revenue["evidenceType"].clone(), revenue["evidenceId"].clone()),
        (json!("MONITORING_VISIT"), visit_id)
    );

    // Without the scope to read visits, the criterion is met but its evidence is not shown.
    let reader = app.token("DINSOS", "business:read", &["64"]);
    let body = app.gql(&reader, READINESS, json!({ "id": business })).await;
    let revenue = &body["data"]["business"]["graduationReadiness"]["levels"][2]["criteria"][0];
    assert_eq!((revenue["met"].clone(), revenue["evidenceId"].clone()), (json!(true), Value::Null), "{body}");

    // Evidence taken away takes the level down: without its NIB it stands on L1 again.
    let body =
        app.gql(&admin, update, json!({ "i": { "id": business, "expectedVersion": 5, "nib": null } })).await;
    assert_eq!(body["data"]["updateBusiness"]["business"]["level"], 1, "{body}");
    let body = app
        .gql(
            &admin,
            update,
            json!({ "i": { "id": business, "expectedVersion": 6, "nib": "1234567890123", "workers": 2 } }),
        )
        .await;
    assert_eq!(body["data"]["updateBusiness"]["business"]["level"], 4, "{body}");
    let body = app.gql(&admin, graduate, json!({ "i": { "id": business, "expectedVersion": 7 } })).await;
    assert_eq!(body["data"]["graduateBusiness"]["business"]["status"], "GRADUATED", "{body}");
    // Graduation is for good: a poorer month afterwards leaves the level it graduated at.
    let body = app.gql(&admin, visit, json!({ "i": { "businessId": business, "volunteerName": "Relawan Uji", "visitedOn": today().to_string(), "observedStatus": "RUNNING", "revenueEstimate": 1000000 } })).await;
    assert!(body["data"]["recordMonitoringVisit"]["monitoringVisit"]["id"].is_string(), "{body}");
    let body = app.gql(&admin, READINESS, json!({ "id": business })).await;
    assert_eq!(body["data"]["business"]["level"], 4, "{body}");

    let events = app
        .gql(&admin, "query($id: UUID!) { caseEvents(filter: { entityId: $id, actions: [LEVEL_CHANGED] }) { nodes { changedFields } } }", json!({ "id": business }))
        .await;
    assert_eq!(
        events["data"]["caseEvents"]["nodes"].as_array().map(Vec::len),
        Some(5),
        "0 → 1 → 2 → 3 → 1 → 4, one event each: {events}"
    );
    assert_eq!(events["data"]["caseEvents"]["nodes"][0]["changedFields"], json!(["level"]));

    // Permanence is visited, not assumed: a visit that finds the graduated business stalled
    // moves it to STALLED at once, it keeps the day it graduated, and the statistics count the
    // relapse instead of a graduation.
    let figures = "query($y: Int!) { programmeStatistics(year: $y) { total { graduated { value } relapsed { value } } } }";
    let year: i32 = this_year().get(..4).and_then(|y| y.parse().ok()).unwrap_or_default();
    let body = app.gql(&admin, figures, json!({ "y": year })).await;
    assert_eq!(
        body["data"]["programmeStatistics"]["total"],
        json!({ "graduated": { "value": 1 }, "relapsed": { "value": 0 } }),
        "{body}"
    );
    let body = app.gql(&admin, visit, json!({ "i": { "businessId": business, "volunteerName": "Relawan Uji", "visitedOn": today().to_string(), "observedStatus": "STALLED", "obstacles": ["CAPITAL"] } })).await;
    assert!(body["data"]["recordMonitoringVisit"]["monitoringVisit"]["id"].is_string(), "{body}");
    let body = app
        .gql(
            &admin,
            "query($id: UUID!) { business(id: $id) { status graduatedOn } }",
            json!({ "id": business }),
        )
        .await;
    assert_eq!(
        body["data"]["business"],
        json!({ "status": "STALLED", "graduatedOn": today().to_string() }),
        "{body}"
    );
    let body = app.gql(&admin, figures, json!({ "y": year })).await;
    assert_eq!(
        body["data"]["programmeStatistics"]["total"],
        json!({ "graduated": { "value": 0 }, "relapsed": { "value": 1 } }),
        "{body}"
    );
    let moved = app
        .gql(&admin, "query($id: UUID!) { caseEvents(filter: { entityId: $id, actions: [STATUS_CHANGED] }) { nodes { fromStatus toStatus } } }", json!({ "id": business }))
        .await;
    let last = moved["data"]["caseEvents"]["nodes"].as_array().and_then(|n| n.last().cloned());
    assert_eq!(last, Some(json!({ "fromStatus": "GRADUATED", "toStatus": "STALLED" })), "{moved}");

    // Resumed after the relapse, it counts its months running from the day it resumed: a month
    // has not passed, so it does not stand on the top rung again at once.
    let body = app.gql(&admin, READINESS, json!({ "id": business })).await;
    let version = body["data"]["business"]["version"].clone();
    let resume = "mutation($i: StatusChangeInput!) { resumeBusiness(input: $i) { business { status } } }";
    let body = app.gql(&admin, resume, json!({ "i": { "id": business, "expectedVersion": version } })).await;
    assert_eq!(body["data"]["resumeBusiness"]["business"]["status"], "RUNNING", "{body}");
    let body = app.gql(&admin, READINESS, json!({ "id": business })).await;
    let top = &body["data"]["business"]["graduationReadiness"]["levels"][3]["criteria"][1];
    assert_eq!(
        (top["description"].as_str(), top["met"].clone()),
        (Some("running 1 months or more (by visits)"), json!(false)),
        "{body}"
    );
    assert!(body["data"]["business"]["level"].as_i64().is_some_and(|l| l < 4), "{body}");
}

#[tokio::test]
async fn the_default_ladder_is_designs_six_levels() {
    let app = spawn_app().await;
    let person = app.beneficiary(2).await;
    let business = app.equipped_business(&person).await;
    let body = app.gql(&app.admin(), READINESS, json!({ "id": business })).await;
    let levels =
        body["data"]["business"]["graduationReadiness"]["levels"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = levels.iter().filter_map(|l| l["name"].as_str()).collect();
    assert_eq!(names, ["Usaha dimulai", "Bertahan", "Terampil", "Formal dan berpasar", "Bermodal", "Tumbuh"]);
    // The package is disbursed, the technical guidance not yet completed: still level 0.
    assert_eq!(levels[0]["criteria"][0]["met"], true, "{body}");
    assert_eq!(levels[0]["criteria"][1]["met"], false);
    assert_eq!(body["data"]["business"]["level"], 0);
}

const STATISTICS: &str = "query($y: Int!, $r: [String!]) { programmeStatistics(year: $y, regencyCodes: $r) { year minimumCell \
    regencies { regencyCode name recipients { value suppressed } packageValue { value suppressed } packagesDisbursed { value } \
      businessesByStatus { status count { value suppressed } } businessesByLevel { level count { value } } \
      equipped { value } graduated { value } graduationRate \
      referrals { toAgency status count { value } } marketServices { kind status count { value suppressed } } loans { status count { value suppressed } requested { value suppressed } } } \
    total { regencyCode name recipients { value } packageValue { value } } } }";

/// A business for a new person in `regency`'s first district, PROPOSED, with a starter package
/// of this year naming it; `steps` of: disburse the package, approve, equip.
async fn cohort_member(app: &TestApp, regency: &str, steps: usize) -> (String, String) {
    let admin = app.admin();
    let (nik, kk) = app.identity();
    let mut input = beneficiary_input(&nik, &kk, 2);
    if regency == "6471" {
        input["regencyCode"] = json!("6471");
        input["districtCode"] = json!("647101");
    }
    let body = app.gql(&admin, CREATE_BENEFICIARY, json!({ "input": input })).await;
    let person = body["data"]["createBeneficiary"]["beneficiary"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let business = app.business(&person, "Warung", "FOOD").await;
    let body = grant(app, package_input(&person, Some(&business), &this_year())).await;
    let package = body["data"]["createAssistance"]["assistance"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let moves = [
        (
            "mutation($i: DisburseAssistanceInput!) { disburseAssistance(input: $i) { assistance { id } } }",
            package.as_str(),
            1,
        ),
        (
            "mutation($i: StatusChangeInput!) { approveBusiness(input: $i) { business { id } } }",
            business.as_str(),
            1,
        ),
        (
            "mutation($i: StatusChangeInput!) { equipBusiness(input: $i) { business { id } } }",
            business.as_str(),
            2,
        ),
    ];
    for (mutation, id, version) in moves.into_iter().take(steps) {
        let body = app.gql(&admin, mutation, json!({ "i": { "id": id, "expectedVersion": version } })).await;
        assert!(body["errors"].is_null() && !body.to_string().contains("\"code\""), "{body}");
    }
    (person, business)
}

#[tokio::test]
async fn statistics_match_a_hand_counted_register_and_hide_small_cells() {
    let app = spawn_app_with(Rules { statistics_min_cell: 2, ..Rules::default() }).await;
    let admin = app.admin();
    // Samarinda: six packages of Rp4.75 million; three disbursed, two of their businesses
    // equipped and one approved, three businesses proposed. Balikpapan: one package.
    let mut samarinda = Vec::new();
    for steps in [3, 3, 2, 0, 0, 0] {
        samarinda.push(cohort_member(&app, "6472", steps).await);
    }
    cohort_member(&app, "6471", 0).await;
    for (person, business) in &samarinda[..2] {
        let body = app.gql(&admin, "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id } } }",
            json!({ "i": { "beneficiaryId": person, "businessId": business, "toAgency": "DISPERINDAGKOP", "service": "CAPITAL_ACCESS", "reason": "Modal usaha" } })).await;
        assert!(body["data"]["createReferral"]["referral"]["id"].is_string(), "{body}");
    }
    let body = app.gql(&app.koperasi(), "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { loanApplication { id } } }",
        json!({ "i": { "businessId": samarinda[0].1, "product": "COOPERATIVE", "lender": "Koperasi", "requestedAmount": 3000000, "tenorMonths": 12 } })).await;
    assert!(body["data"]["createLoanApplication"]["loanApplication"]["id"].is_string(), "{body}");
    // DISPERINDAGKOP's services for the two equipped businesses: marketing for both, halal
    // certification for one, called off.
    let service =
        "mutation($i: CreateMarketServiceInput!) { createMarketService(input: $i) { marketService { id } } }";
    let mut halal = String::new();
    for (i, (_, business)) in samarinda[..2].iter().enumerate() {
        for kind in ["MARKETING", "HALAL_CERTIFICATION"].iter().take(1 + i) {
            let body = app
                .gql(&app.koperasi(), service, json!({ "i": { "businessId": business, "kind": kind } }))
                .await;
            let id = body["data"]["createMarketService"]["marketService"]["id"].as_str();
            halal = id.unwrap_or_else(|| panic!("{body}")).to_owned();
        }
    }
    let cancel = "mutation($i: StatusChangeWithReasonInput!) { cancelMarketService(input: $i) { marketService { status } } }";
    let body = app
        .gql(
            &app.koperasi(),
            cancel,
            json!({ "i": { "id": halal, "expectedVersion": 1, "reason": "Belum ada dana" } }),
        )
        .await;
    assert_eq!(body["data"]["cancelMarketService"]["marketService"]["status"], "CANCELLED", "{body}");

    let year = chrono::Datelike::year(&today());
    let stats = app.token("BAPPEDA", "stats:read", &["64"]);
    let body = app.gql(&stats, STATISTICS, json!({ "y": year, "r": ["6471", "6472"] })).await;
    let s = &body["data"]["programmeStatistics"];
    assert_eq!(s["minimumCell"], 2, "{body}");
    let (balikpapan, smd) = (&s["regencies"][0], &s["regencies"][1]);
    assert_eq!(smd["regencyCode"], "6472");
    assert_eq!(smd["recipients"], json!({ "value": 6, "suppressed": false }));
    assert_eq!(smd["packageValue"], json!({ "value": 28_500_000, "suppressed": false }));
    assert_eq!(smd["packagesDisbursed"]["value"], 3);
    let status = |s: &str| {
        smd["businessesByStatus"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["status"] == s)
            .map(|c| c["count"].clone())
    };
    assert_eq!(status("PROPOSED"), Some(json!({ "value": 3, "suppressed": false })));
    assert_eq!(
        status("APPROVED"),
        Some(json!({ "value": null, "suppressed": true })),
        "one business singles a person out"
    );
    assert_eq!(status("EQUIPPED"), Some(json!({ "value": 2, "suppressed": false })));
    assert_eq!(status("GRADUATED"), Some(json!({ "value": 0, "suppressed": false })), "zero is shown");
    assert_eq!(
        smd["businessesByLevel"][0]["count"]["value"], 6,
        "all on level 0 (no technical guidance yet): {body}"
    );
    assert_eq!(
        (smd["equipped"]["value"].clone(), smd["graduated"]["value"].clone(), smd["graduationRate"].clone()),
        (json!(2), json!(0), json!(0.0))
    );
    assert_eq!(
        smd["referrals"],
        json!([{ "toAgency": "DISPERINDAGKOP", "status": "OPEN", "count": { "value": 2 } }])
    );
    assert_eq!(
        smd["marketServices"],
        json!([
            { "kind": "HALAL_CERTIFICATION", "status": "CANCELLED", "count": { "value": null, "suppressed": true } },
            { "kind": "MARKETING", "status": "PLANNED", "count": { "value": 2, "suppressed": false } },
        ])
    );
    assert_eq!(
        smd["loans"],
        json!([{ "status": "DRAFT", "count": { "value": null, "suppressed": true }, "requested": { "value": null, "suppressed": true } }])
    );
    assert_eq!(balikpapan["recipients"], json!({ "value": null, "suppressed": true }));
    assert_eq!(
        balikpapan["packageValue"],
        json!({ "value": null, "suppressed": true }),
        "the amount goes with its count"
    );
    assert_eq!(
        s["total"],
        json!({ "regencyCode": null, "name": "Total", "recipients": { "value": 7 }, "packageValue": { "value": 33_250_000 } })
    );

    // With pii:read nothing is suppressed; a token for Samarinda sees Samarinda only.
    let full = app.token("DINSOS", "stats:read pii:read", &["6472"]);
    let body = app.gql(&full, STATISTICS, json!({ "y": year })).await;
    let s = &body["data"]["programmeStatistics"];
    assert_eq!(s["minimumCell"], 1);
    let codes: Vec<&Value> =
        s["regencies"].as_array().into_iter().flatten().map(|r| &r["regencyCode"]).collect();
    assert_eq!(codes, [&json!("6472")], "{body}");
    assert_eq!(
        s["regencies"][0]["loans"][0]["requested"],
        json!({ "value": 3_000_000, "suppressed": false })
    );
    assert_eq!(s["total"]["recipients"]["value"], 6, "the total adds up only what the token sees");
    // The list behind a figure: `businesses(filter: {cohortYear})` is the cohort counted above.
    let list = "query($y: Int!, $s: [BusinessStatus!]) { businesses(filter: { cohortYear: $y, regencyCodes: [\"6472\"], statuses: $s }) { totalCount } }";
    let body = app.gql(&admin, list, json!({ "y": year })).await;
    assert_eq!(body["data"]["businesses"]["totalCount"], 6, "{body}");
    let body = app.gql(&admin, list, json!({ "y": year, "s": ["EQUIPPED"] })).await;
    assert_eq!(body["data"]["businesses"]["totalCount"], 2, "{body}");
    let body = app.gql(&admin, list, json!({ "y": year - 1 })).await;
    assert_eq!(body["data"]["businesses"]["totalCount"], 0, "{body}");
    // Another year is empty.
    let body = app.gql(&full, STATISTICS, json!({ "y": year - 1 })).await;
    assert_eq!(body["data"]["programmeStatistics"]["total"]["recipients"]["value"], 0, "{body}");
}

/// `businesses(filter: {cohortYear})` lists exactly the businesses `programmeStatistics` counts
/// as the year's cohort: a package's named business, the owner's businesses for a package that
/// names none, nothing of a cancelled package.
#[tokio::test]
async fn the_cohort_list_is_what_the_statistics_count() {
    let app = spawn_app().await;
    let admin = app.admin();
    // A package naming no business: both of the owner's businesses are the cohort's.
    let owner = app.beneficiary(2).await;
    app.business(&owner, "Warung", "FOOD").await;
    app.business(&owner, "Jahit", "TAILORING").await;
    let body = grant(&app, package_input(&owner, None, &this_year())).await;
    assert!(body["data"]["createAssistance"]["assistance"]["id"].is_string(), "{body}");
    // A package naming one business.
    cohort_member(&app, "6472", 0).await;
    // A cancelled package: not the cohort's.
    let other = app.beneficiary(2).await;
    let business = app.business(&other, "Kue", "CAKES").await;
    let body = grant(&app, package_input(&other, Some(&business), &this_year())).await;
    let package = body["data"]["createAssistance"]["assistance"]["id"].as_str().expect("granted").to_owned();
    let cancel = "mutation($i: StatusChangeWithReasonInput!) { cancelAssistance(input: $i) { assistance { status } } }";
    let body = app
        .gql(&admin, cancel, json!({ "i": { "id": package, "expectedVersion": 1, "reason": "Pindah" } }))
        .await;
    assert_eq!(body["data"]["cancelAssistance"]["assistance"]["status"], "CANCELLED", "{body}");

    let year = chrono::Datelike::year(&today());
    let list = "query($y: Int!) { businesses(filter: { cohortYear: $y, regencyCodes: [\"6472\"] }) { totalCount nodes { name } } }";
    let body = app.gql(&admin, list, json!({ "y": year })).await;
    let mut names: Vec<&str> = body["data"]["businesses"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Jahit", "Warung", "Warung"], "{body}");
    let stats = "query($y: Int!) { programmeStatistics(year: $y, regencyCodes: [\"6472\"]) { total { businessesByStatus { count { value } } } } }";
    let body =
        app.gql(&app.token("DINSOS", "stats:read pii:read", &["64"]), stats, json!({ "y": year })).await;
    let counted: i64 = body["data"]["programmeStatistics"]["total"]["businessesByStatus"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["count"]["value"].as_i64())
        .sum();
    assert_eq!(counted, 3, "{body}");
}

const SURVIVAL: &str = "query($y: Int!) { programmeStatistics(year: $y, regencyCodes: [\"6472\"]) { regencies { \
    survival { months reached { value } running { value } share baseline aboveBaseline } \
    handovers { toAgency made { value } accepted { value } completed { value } medianDaysToAccept medianDaysToComplete overdue { value } overdueShare } } } }";

#[tokio::test]
async fn survival_and_handover_figures_match_a_hand_counted_cohort() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let app = spawn_app_with(open_ladder()).await;
    let admin = app.admin();
    // Four businesses equipped with packages of three years ago, delivered on 10 January.
    let year = chrono::Datelike::year(&today()) - 3;
    let on = |y: i32, m: u32, d: u32| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date").to_string();
    let mut businesses = Vec::new();
    for _ in 0..4 {
        let person = app.beneficiary(2).await;
        let business = app.business(&person, "Warung", "FOOD").await;
        let body = grant(&app, package_input(&person, Some(&business), &on(year, 1, 1))).await;
        let package = body["data"]["createAssistance"]["assistance"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned();
        let moves = [
            (
                "mutation($i: DisburseAssistanceInput!) { disburseAssistance(input: $i) { assistance { id } } }",
                json!({ "id": package, "expectedVersion": 1, "disbursedOn": on(year, 1, 10) }),
            ),
            (
                "mutation($i: StatusChangeInput!) { approveBusiness(input: $i) { business { id } } }",
                json!({ "id": business, "expectedVersion": 1 }),
            ),
            (
                "mutation($i: StatusChangeInput!) { equipBusiness(input: $i) { business { id } } }",
                json!({ "id": business, "expectedVersion": 2 }),
            ),
        ];
        for (mutation, input) in moves {
            let body = app.gql(&admin, mutation, json!({ "i": input })).await;
            assert!(!body.to_string().contains("\"code\""), "{body}");
        }
        businesses.push(business);
    }
    let start = "mutation($i: StartBusinessInput!) { startBusiness(input: $i) { business { version } } }";
    let close =
        "mutation($i: StatusChangeWithReasonInput!) { closeBusiness(input: $i) { business { status } } }";
    // A and B started on 1 February; C started, then closed; D never started.
    for business in &businesses[..3] {
        app.gql(
            &admin,
            start,
            json!({ "i": { "id": business, "expectedVersion": 3, "startedOn": on(year, 2, 1) } }),
        )
        .await;
    }
    app.gql(
        &admin,
        close,
        json!({ "i": { "id": businesses[2], "expectedVersion": 4, "reason": "Modal habis" } }),
    )
    .await;
    // A is seen a month after each mark: running, running, stalled, running again.
    let visit = "mutation($i: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $i) { monitoringVisit { id } userErrors { message } } }";
    for (date, observed) in [
        (on(year, 5, 10), "RUNNING"),
        (on(year, 8, 10), "RUNNING"),
        (on(year + 1, 2, 10), "STALLED"),
        (on(year + 2, 2, 10), "RUNNING"),
    ] {
        let body = app.gql(&admin, visit, json!({ "i": { "businessId": businesses[0], "volunteerName": "Relawan", "visitedOn": date, "observedStatus": observed } })).await;
        assert!(body["data"]["recordMonitoringVisit"]["monitoringVisit"]["id"].is_string(), "{body}");
    }

    // Referrals this year: one accepted and completed, one accepted, one open past its due date.
    let this_year = chrono::Datelike::year(&today());
    let person = app.beneficiary(2).await;
    let koperasi = app.token("DISPERINDAGKOP", "referral:read referral:write", &["64"]);
    let mut referrals = Vec::new();
    for due in [None, None, Some(today() - chrono::Duration::days(1))] {
        let body = app.gql(&admin, "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id } } }",
            json!({ "i": { "beneficiaryId": person, "toAgency": "DISPERINDAGKOP", "service": "MARKETING", "reason": "Pemasaran", "dueBy": due.map(|d| d.to_string()) } })).await;
        referrals.push(
            body["data"]["createReferral"]["referral"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_owned(),
        );
    }
    for referral in &referrals[..2] {
        app.gql(
            &koperasi,
            "mutation($i: StatusChangeInput!) { acceptReferral(input: $i) { referral { id } } }",
            json!({ "i": { "id": referral, "expectedVersion": 1 } }),
        )
        .await;
    }
    let body = app
        .gql(
            &koperasi,
            "mutation($i: CompleteReferralInput!) { completeReferral(input: $i) { referral { status } } }",
            json!({ "i": { "id": referrals[0], "expectedVersion": 2 } }),
        )
        .await;
    assert_eq!(body["data"]["completeReferral"]["referral"]["status"], "COMPLETED", "{body}");
    // Their moves as if they had taken days: accepted after 10 and 4 days, completed after 12.
    let later = |days: i64| chrono::Utc::now() + chrono::Duration::days(days);
    for (referral, status, days) in
        [(&referrals[0], "ACCEPTED", 10), (&referrals[1], "ACCEPTED", 4), (&referrals[0], "COMPLETED", 12)]
    {
        let id: uuid::Uuid = referral.parse().expect("uuid");
        entity::case_event::Entity::update_many()
            .col_expr(entity::case_event::Column::OccurredAt, Expr::value(later(days)))
            .filter(entity::case_event::Column::EntityId.eq(id))
            .filter(entity::case_event::Column::ToStatus.eq(status))
            .exec(&app.db)
            .await
            .expect("move back in time");
    }

    let token = app.token("DINSOS", "stats:read pii:read", &["64"]);
    let body = app.gql(&token, SURVIVAL, json!({ "y": year })).await;
    let survival = &body["data"]["programmeStatistics"]["regencies"][0]["survival"];
    assert_eq!(
        survival,
        &json!([
            { "months": 3, "reached": { "value": 4 }, "running": { "value": 2 }, "share": 0.5, "baseline": 0.46, "aboveBaseline": true },
            { "months": 6, "reached": { "value": 4 }, "running": { "value": 2 }, "share": 0.5, "baseline": 0.46, "aboveBaseline": true },
            { "months": 12, "reached": { "value": 4 }, "running": { "value": 1 }, "share": 0.25, "baseline": 0.46, "aboveBaseline": false },
            { "months": 24, "reached": { "value": 4 }, "running": { "value": 2 }, "share": 0.5, "baseline": 0.46, "aboveBaseline": true },
        ]),
        "A runs at 3, 6 and 24 months, B throughout, C closed, D never started: {body}"
    );
    let body = app.gql(&token, SURVIVAL, json!({ "y": this_year })).await;
    let handovers = &body["data"]["programmeStatistics"]["regencies"][0]["handovers"];
    assert_eq!(
        handovers,
        &json!([{ "toAgency": "DISPERINDAGKOP", "made": { "value": 3 }, "accepted": { "value": 2 }, "completed": { "value": 1 },
                  "medianDaysToAccept": 7.0, "medianDaysToComplete": 12.0, "overdue": { "value": 1 }, "overdueShare": 1.0 }]),
        "{body}"
    );
}

#[tokio::test]
async fn an_agency_sees_the_referrals_it_must_answer_overdue_first() {
    let app = spawn_app().await;
    let admin = app.admin();
    let person = app.beneficiary(2).await;
    let days = |n: i64| (today() + chrono::Duration::days(n)).to_string();
    let refer = |to: &'static str, due: Option<String>| {
        let (app, admin, person) = (&app, &admin, &person);
        async move {
            let body = app.gql(admin, "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id } userErrors { message } } }",
                json!({ "i": { "beneficiaryId": person, "toAgency": to, "service": "MARKETING", "reason": "Pemasaran", "dueBy": due } })).await;
            body["data"]["createReferral"]["referral"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_owned()
        }
    };
    let no_date = refer("DISPERINDAGKOP", None).await;
    let later = refer("DISPERINDAGKOP", Some(days(10))).await;
    let yesterday = refer("DISPERINDAGKOP", Some(days(-1))).await;
    let long_ago = refer("DISPERINDAGKOP", Some(days(-5))).await;
    refer("DISNAKERTRANS", Some(days(-9))).await;
    let answered = refer("DISPERINDAGKOP", Some(days(-20))).await;
    let koperasi = app.token("DISPERINDAGKOP", "referral:read referral:write", &["6472"]);
    let body = app.gql(&koperasi, "mutation($i: StatusChangeWithReasonInput!) { declineReferral(input: $i) { referral { status } } }",
        json!({ "i": { "id": answered, "expectedVersion": 1, "reason": "Di luar layanan" } })).await;
    assert_eq!(body["data"]["declineReferral"]["referral"]["status"], "DECLINED", "{body}");

    let list = "query($first: Int, $after: String) { referralWorkList(first: $first, after: $after) { \
                edges { cursor node { referral { id } ageDays overdue daysOverdue } } pageInfo { hasNextPage } } }";
    let body = app.gql(&koperasi, list, json!({})).await;
    let edges = body["data"]["referralWorkList"]["edges"].as_array().cloned().unwrap_or_default();
    let order: Vec<&str> = edges.iter().filter_map(|e| e["node"]["referral"]["id"].as_str()).collect();
    assert_eq!(order, [&long_ago, &yesterday, &later, &no_date], "{body}");
    assert_eq!(
        edges[0]["node"],
        json!({ "referral": { "id": long_ago }, "ageDays": 0, "overdue": true, "daysOverdue": 5 })
    );
    assert_eq!(edges[2]["node"]["overdue"], false);
    let page = app.gql(&koperasi, list, json!({ "first": 1, "after": edges[0]["cursor"] })).await;
    assert_eq!(
        page["data"]["referralWorkList"]["edges"][0]["node"]["referral"]["id"],
        yesterday.as_str(),
        "{page}"
    );
    assert_eq!(page["data"]["referralWorkList"]["pageInfo"]["hasNextPage"], true);
    // Balikpapan's office of the same agency has nothing from Samarinda to answer.
    let elsewhere = app.token("DISPERINDAGKOP", "referral:read", &["6471"]);
    let body = app.gql(&elsewhere, list, json!({})).await;
    assert_eq!(body["data"]["referralWorkList"]["edges"], json!([]), "{body}");
}

#[tokio::test]
async fn a_coordinator_sees_the_businesses_that_need_a_visit_or_help() {
    let app = spawn_app_with(open_ladder()).await;
    let admin = app.admin();
    let started = (today() - chrono::Duration::days(200)).to_string();
    let mut businesses = Vec::new();
    for _ in 0..6 {
        let person = app.beneficiary(2).await;
        businesses.push(app.running_business(&person, &started).await);
    }
    let visit = |business: String, days_ago: i64, observed: &'static str, follow_up: bool| {
        let (app, admin) = (&app, &admin);
        async move {
            let on = (today() - chrono::Duration::days(days_ago)).to_string();
            let body = app.gql(admin, "mutation($i: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $i) { monitoringVisit { id } userErrors { message } } }",
                json!({ "i": { "businessId": business, "volunteerName": "Relawan", "visitedOn": on, "observedStatus": observed, "followUpNeeded": follow_up } })).await;
            assert!(body["data"]["recordMonitoringVisit"]["monitoringVisit"]["id"].is_string(), "{body}");
        }
    };
    let [fine, never, long_ago, stalled, follow_up, graduated] =
        [0, 1, 2, 3, 4, 5].map(|i| businesses[i].clone());
    // Graduated today and never visited since: still on the list (graduates are visited a year).
    let graduate = "mutation($i: StatusChangeInput!) { graduateBusiness(input: $i) { business { status } } }";
    let body = app.gql(&admin, graduate, json!({ "i": { "id": graduated, "expectedVersion": 4 } })).await;
    assert_eq!(body["data"]["graduateBusiness"]["business"]["status"], "GRADUATED", "{body}");
    visit(fine.clone(), 3, "RUNNING", false).await;
    visit(long_ago.clone(), 60, "RUNNING", false).await;
    visit(stalled.clone(), 2, "STALLED", false).await;
    visit(follow_up.clone(), 1, "RUNNING", true).await;

    let list = "query($r: String!, $d: Int) { businessesNeedingAttention(regencyCode: $r, notVisitedDays: $d) { \
                nodes { business { id status } lastVisitedOn reasons } } }";
    let body = app.gql(&admin, list, json!({ "r": "6472" })).await;
    let nodes = body["data"]["businessesNeedingAttention"]["nodes"].as_array().cloned().unwrap_or_default();
    let order: Vec<&str> = nodes.iter().filter_map(|n| n["business"]["id"].as_str()).collect();
    assert_eq!(
        order,
        [&never, &graduated, &long_ago, &stalled, &follow_up],
        "the one visited three days ago is fine: {body}"
    );
    let reasons: Vec<&Value> = nodes.iter().map(|n| &n["reasons"]).collect();
    assert_eq!(
        reasons,
        [
            &json!(["NOT_VISITED"]),
            &json!(["NOT_VISITED"]),
            &json!(["NOT_VISITED"]),
            &json!(["STALLED"]),
            &json!(["FOLLOW_UP_OPEN"])
        ]
    );
    assert_eq!(nodes[0]["lastVisitedOn"], Value::Null);
    // With a shorter window the business seen three days ago is due too.
    let body = app.gql(&admin, list, json!({ "r": "6472", "d": 2 })).await;
    let listed = body["data"]["businessesNeedingAttention"]["nodes"].as_array().map(Vec::len);
    assert_eq!(listed, Some(6), "{body}");
    let body = app.gql(&admin, list, json!({ "r": "6472", "d": 0 })).await;
    assert_eq!(error_code(&body).as_deref(), Some("BAD_REQUEST"));
    // Another regency's coordinator sees none of them.
    let balikpapan = app.token("DINSOS", "business:read monitoring:read", &["6471"]);
    let body = app.gql(&balikpapan, list, json!({ "r": "6472" })).await;
    assert_eq!(body["data"]["businessesNeedingAttention"]["nodes"], json!([]), "{body}");

    // The follow-up is taken in hand by a referral that answers the visit: it names the visit,
    // is about the visit's business, and the business leaves the list.
    let visits = app
        .gql(
            &admin,
            "query($b: UUID!) { monitoringVisits(filter: {businessId: $b}) { nodes { id followUpOpen } } }",
            json!({ "b": follow_up }),
        )
        .await;
    let seen = &visits["data"]["monitoringVisits"]["nodes"][0];
    assert_eq!(seen["followUpOpen"], true, "{visits}");
    let visit_id = seen["id"].as_str().expect("a visit").to_owned();
    let refer = "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id businessId visitId } userErrors { code field } } }";
    let owner = app
        .gql(&admin, "query($b: UUID!) { business(id: $b) { beneficiaryId } }", json!({ "b": follow_up }))
        .await;
    let owner = owner["data"]["business"]["beneficiaryId"].as_str().expect("owner").to_owned();
    let stranger = app.beneficiary(3).await;
    let body = app
        .gql(&admin, refer, json!({ "i": { "beneficiaryId": stranger, "toAgency": "DISPERINDAGKOP", "service": "MARKETING", "reason": "Sepi pembeli", "visitId": visit_id } }))
        .await;
    assert_eq!(
        body["data"]["createReferral"]["userErrors"][0]["field"],
        json!(["visitId"]),
        "another person's visit: {body}"
    );
    let body = app
        .gql(&admin, refer, json!({ "i": { "beneficiaryId": owner, "toAgency": "DISPERINDAGKOP", "service": "MARKETING", "reason": "Sepi pembeli", "visitId": visit_id } }))
        .await;
    let raised = &body["data"]["createReferral"]["referral"];
    assert_eq!(
        (raised["businessId"].as_str(), raised["visitId"].as_str()),
        (Some(follow_up.as_str()), Some(visit_id.as_str())),
        "{body}"
    );
    let body = app
        .gql(&admin, "query($b: UUID!) { monitoringVisits(filter: {businessId: $b}) { nodes { followUpOpen referrals { id } } } }", json!({ "b": follow_up }))
        .await;
    assert_eq!(
        body["data"]["monitoringVisits"]["nodes"][0],
        json!({ "followUpOpen": false, "referrals": [{ "id": raised["id"] }] }),
        "{body}"
    );
    let body = app.gql(&admin, list, json!({ "r": "6472" })).await;
    let still: Vec<&str> = body["data"]["businessesNeedingAttention"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["business"]["id"].as_str())
        .collect();
    assert!(!still.contains(&follow_up.as_str()), "{body}");
}

#[tokio::test]
async fn a_household_shows_its_members_and_what_they_received_together() {
    let app = spawn_app().await;
    let admin = app.admin();
    let (nik, kk) = app.identity();
    let body = app.gql(&admin, CREATE_BENEFICIARY, json!({ "input": beneficiary_input(&nik, &kk, 2) })).await;
    let head = body["data"]["createBeneficiary"]["beneficiary"]["id"].as_str().expect("head").to_owned();
    let (nik2, _) = app.identity();
    let mut member = beneficiary_input(&nik2, &kk, 2);
    member["isHeadOfFamily"] = json!(false);
    member["fullName"] = json!("Siti Santoso");
    let body = app.gql(&admin, CREATE_BENEFICIARY, json!({ "input": member })).await;
    let spouse = body["data"]["createBeneficiary"]["beneficiary"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let body = grant(&app, package_input(&head, None, &this_year())).await;
    let package = body["data"]["createAssistance"]["assistance"]["id"].clone();
    let business = app.business(&spouse, "Kue Siti", "CAKES").await;

    let query = "query($kk: String!) { household(kkNumber: $kk) { kkNumber members { id fullName isHeadOfFamily } \
                 assistance { id } businesses { id } infrastructureRequests { id } } }";
    let body = app.gql(&admin, query, json!({ "kk": kk })).await;
    assert_eq!(
        body["data"]["household"],
        json!({ "kkNumber": kk, "members": [
                    { "id": head, "fullName": "Budi Santoso", "isHeadOfFamily": true },
                    { "id": spouse, "fullName": "Siti Santoso", "isHeadOfFamily": false } ],
                "assistance": [{ "id": package }], "businesses": [{ "id": business }], "infrastructureRequests": [] }),
        "{body}"
    );
    // Outside the token's regions, or an unknown KK: not found, alike.
    let balikpapan = app.token("DINSOS", "beneficiary:read pii:read", &["6471"]);
    let body = app.gql(&balikpapan, query, json!({ "kk": kk })).await;
    assert_eq!(
        (error_code(&body).as_deref(), body["data"]["household"].clone()),
        (Some("NOT_FOUND"), Value::Null),
        "{body}"
    );
    let body = app.gql(&admin, query, json!({ "kk": "6472010101159999" })).await;
    assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"), "{body}");
}

#[tokio::test]
async fn a_declined_referral_is_resent_to_another_agency_once() {
    let app = spawn_app().await;
    let admin = app.admin();
    let person = app.beneficiary(2).await;
    let body = app.gql(&admin, "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id } } }",
        json!({ "i": { "beneficiaryId": person, "toAgency": "DISNAKERTRANS", "service": "SKILLS_TRAINING", "reason": "Pelatihan pengemasan" } })).await;
    let first = body["data"]["createReferral"]["referral"]["id"].as_str().expect("referral").to_owned();
    let resend = "mutation($i: ResendReferralInput!) { resendReferral(input: $i) { referral { id status toAgency reason resentFromId } userErrors { code field } } }";
    let body =
        app.gql(&admin, resend, json!({ "i": { "referralId": first, "toAgency": "DISPERINDAGKOP" } })).await;
    assert_eq!(
        body["data"]["resendReferral"]["userErrors"][0]["field"],
        json!(["referralId"]),
        "still OPEN: {body}"
    );

    let naker = app.token("DISNAKERTRANS", "referral:read referral:write", &["64"]);
    let decline =
        "mutation($i: StatusChangeWithReasonInput!) { declineReferral(input: $i) { referral { status } } }";
    app.gql(&naker, decline, json!({ "i": { "id": first, "expectedVersion": 1, "reason": "Kuota penuh" } }))
        .await;
    let body =
        app.gql(&naker, resend, json!({ "i": { "referralId": first, "toAgency": "DISPERINDAGKOP" } })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "only the sender re-sends: {body}");
    let body =
        app.gql(&admin, resend, json!({ "i": { "referralId": first, "toAgency": "DISNAKERTRANS" } })).await;
    assert_eq!(body["data"]["resendReferral"]["userErrors"][0]["field"], json!(["toAgency"]), "{body}");
    let body =
        app.gql(&admin, resend, json!({ "i": { "referralId": first, "toAgency": "DISPERINDAGKOP" } })).await;
    let again = &body["data"]["resendReferral"]["referral"];
    assert_eq!(
        (
            again["status"].clone(),
            again["toAgency"].clone(),
            again["reason"].clone(),
            again["resentFromId"].clone()
        ),
        (json!("OPEN"), json!("DISPERINDAGKOP"), json!("Pelatihan pengemasan"), json!(first)),
        "{body}"
    );
    let body = app.gql(&admin, resend, json!({ "i": { "referralId": first, "toAgency": "PUPR" } })).await;
    assert_eq!(user_error(&body, "resendReferral").as_deref(), Some("DUPLICATE"), "once: {body}");
}

#[tokio::test]
async fn a_disbursed_loan_completes_the_referral_that_asked_for_it() {
    let app = spawn_app().await;
    let admin = app.admin();
    let person = app.beneficiary(2).await;
    let business = app.running_business(&person, "2025-01-01").await;
    let refer = "mutation($i: CreateReferralInput!) { createReferral(input: $i) { referral { id } } }";
    let mut referrals = Vec::new();
    for service in ["CAPITAL_ACCESS", "CAPITAL_ACCESS", "MARKETING"] {
        let body = app.gql(&admin, refer, json!({ "i": { "beneficiaryId": person, "businessId": business, "toAgency": "DISPERINDAGKOP", "service": service, "reason": "Modal" } })).await;
        referrals
            .push(body["data"]["createReferral"]["referral"]["id"].as_str().expect("referral").to_owned());
    }
    let koperasi = app.token(
        "DISPERINDAGKOP",
        "loan:read loan:write business:read referral:read referral:write",
        &["64"],
    );
    // The first capital referral and the marketing one are accepted; the second capital one not.
    for referral in [&referrals[0], &referrals[2]] {
        app.gql(
            &koperasi,
            "mutation($i: StatusChangeInput!) { acceptReferral(input: $i) { referral { id } } }",
            json!({ "i": { "id": referral, "expectedVersion": 1 } }),
        )
        .await;
    }
    let body = app.gql(&koperasi, "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { loanApplication { id } } }",
        json!({ "i": { "businessId": business, "product": "COOPERATIVE", "lender": "Koperasi Maju", "requestedAmount": 5000000, "tenorMonths": 12 } })).await;
    let loan = body["data"]["createLoanApplication"]["loanApplication"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let moves = [
        ("submitLoanApplication", "StatusChangeInput", json!({ "id": loan, "expectedVersion": 1 })),
        ("startLoanReview", "StatusChangeInput", json!({ "id": loan, "expectedVersion": 2 })),
        (
            "approveLoan",
            "ApproveLoanInput",
            json!({ "id": loan, "expectedVersion": 3, "approvedAmount": 5000000 }),
        ),
        ("disburseLoan", "StatusChangeInput", json!({ "id": loan, "expectedVersion": 4 })),
    ];
    for (mutation, input_type, input) in moves {
        let q = format!(
            "mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ loanApplication {{ status }} userErrors {{ code }} }} }}"
        );
        let body = app.gql(&koperasi, &q, json!({ "i": input })).await;
        assert!(user_error(&body, mutation).is_none() && body["errors"].is_null(), "{mutation}: {body}");
    }
    let read = "query($id: UUID!) { referral(id: $id) { status outcomeType outcomeId } }";
    let body = app.gql(&admin, read, json!({ "id": referrals[0] })).await;
    assert_eq!(
        body["data"]["referral"],
        json!({ "status": "COMPLETED", "outcomeType": "LOAN_APPLICATION", "outcomeId": loan }),
        "{body}"
    );
    let body = app.gql(&admin, read, json!({ "id": referrals[1] })).await;
    assert_eq!(body["data"]["referral"]["status"], "OPEN", "not accepted, not completed: {body}");
    let body = app.gql(&admin, read, json!({ "id": referrals[2] })).await;
    assert_eq!(body["data"]["referral"]["status"], "ACCEPTED", "a loan is not marketing: {body}");
}

#[tokio::test]
async fn levels_kept_before_an_upgrade_are_brought_up_to_date_by_the_recompute_command() {
    let app = spawn_app_with(short_ladder()).await;
    let person = app.beneficiary(2).await;
    let business = app.equipped_business(&person).await;
    let level = "query($id: UUID!) { business(id: $id) { level version } }";
    let body = app.gql(&app.admin(), level, json!({ "id": business })).await;
    assert_eq!(body["data"]["business"]["level"], 1, "the disbursed package: {body}");
    // As if the business had been written before levels were kept.
    let backend = sea_orm::ConnectionTrait::get_database_backend(&app.db);
    let reset = sea_orm::Statement::from_string(backend, "UPDATE business SET level = 0".to_owned());
    sea_orm::ConnectionTrait::execute_raw(&app.db, reset).await.expect("reset");
    let actor = sinergi_api::auth::Actor {
        agency: "DINSOS".into(),
        client: "levels".into(),
        scopes: Default::default(),
        regions: vec!["64".into()],
        token_id: String::new(),
        expires_at: i64::MAX,
        issued_at: 0,
        volunteer: None,
    };
    let recompute = sinergi_api::programme::graduation::recompute_all(&app.db, &short_ladder(), &actor).await;
    assert_eq!(recompute.expect("recomputed"), (1, 1));
    let body = app.gql(&app.admin(), level, json!({ "id": business })).await;
    assert_eq!(body["data"]["business"], json!({ "level": 1, "version": 3 }), "the version stays: {body}");
    let events = app
        .gql(&app.admin(), "query($id: UUID!) { caseEvents(filter: { entityId: $id, actions: [LEVEL_CHANGED] }) { nodes { actorClient } } }", json!({ "id": business }))
        .await;
    let nodes = events["data"]["caseEvents"]["nodes"].as_array().cloned().unwrap_or_default();
    assert_eq!(nodes.last().map(|n| n["actorClient"].clone()), Some(json!("levels")), "{events}");
    // Nothing left to change: a second run writes nothing.
    let again = sinergi_api::programme::graduation::recompute_all(&app.db, &short_ladder(), &actor).await;
    assert_eq!(again.expect("recomputed"), (1, 0));
}

#[tokio::test]
async fn a_package_that_names_no_business_brings_its_owners_businesses_into_the_cohort() {
    let app = spawn_app().await;
    let named_owner = app.beneficiary(2).await;
    let named = app.business(&named_owner, "Warung", "FOOD").await;
    // The named owner's other business is not in the cohort: the package names the first.
    app.business(&named_owner, "Jahit", "FOOD").await;
    let body = grant(&app, package_input(&named_owner, Some(&named), &this_year())).await;
    assert!(user_error(&body, "createAssistance").is_none(), "{body}");
    let owner = app.beneficiary(2).await;
    let (first, second) =
        (app.business(&owner, "Warung", "FOOD").await, app.business(&owner, "Kue", "FOOD").await);
    let body = grant(&app, package_input(&owner, None, &this_year())).await;
    assert!(user_error(&body, "createAssistance").is_none(), "{body}");
    let outsider = app.beneficiary(2).await;
    app.business(&outsider, "Toko", "FOOD").await;

    let year = chrono::Datelike::year(&today());
    let list = "query($y: Int!) { businesses(filter: { cohortYear: $y }) { totalCount nodes { id } } }";
    let body = app.gql(&app.admin(), list, json!({ "y": year })).await;
    let mut ids: Vec<String> = body["data"]["businesses"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    let mut expected = vec![named, first, second];
    expected.sort();
    assert_eq!(
        ids, expected,
        "the named business (not its owner's other one) and both of the other owner's, not the outsider's: {body}"
    );
    assert_eq!(body["data"]["businesses"]["totalCount"], 3, "{body}");
    let body = app.gql(&app.admin(), list, json!({ "y": year - 1 })).await;
    assert_eq!(body["data"]["businesses"]["totalCount"], 0, "another year's cohort: {body}");
}
