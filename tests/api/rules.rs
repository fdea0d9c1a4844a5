//! Programme rules: starter-package eligibility, loan limits and KUR eligibility (configurable).

use serde_json::json;
use sinergi_api::rules::Rules;

use crate::helpers::{
    CREATE_ASSISTANCE, package_input, recent_assessment, spawn_app, spawn_app_with, user_error,
};

const CREATE_LOAN: &str = "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { loanApplication { id status } userErrors { code field message } } }";
const SUBMIT_LOAN: &str = "mutation($i: StatusChangeInput!) { submitLoanApplication(input: $i) { loanApplication { status } userErrors { code field message } } }";

fn package(person: &str, start: &str) -> serde_json::Value {
    json!({ "i": package_input(person, None, start) })
}

#[tokio::test]
async fn starter_packages_go_to_deciles_one_to_five_once_a_year() {
    let app = spawn_app().await;
    let token = app.admin();
    let poor = app.beneficiary(5).await;
    let better_off = app.beneficiary(6).await;
    let body = app.gql(&token, CREATE_ASSISTANCE, package(&better_off, "2025-03-01")).await;
    assert_eq!(user_error(&body, "createAssistance").as_deref(), Some("NOT_ELIGIBLE"), "{body}");

    let body = app.gql(&token, CREATE_ASSISTANCE, package(&poor, "2025-03-01")).await;
    let a = &body["data"]["createAssistance"]["assistance"];
    assert_eq!(a["decileAtDecision"], 5, "{body}");
    assert_eq!(a["decileSourceAtDecision"], "DTSEN");
    let body = app.gql(&token, CREATE_ASSISTANCE, package(&poor, "2025-09-01")).await;
    assert_eq!(
        user_error(&body, "createAssistance").as_deref(),
        Some("NOT_ELIGIBLE"),
        "one per year: {body}"
    );
    let body = app.gql(&token, CREATE_ASSISTANCE, package(&poor, "2026-02-01")).await;
    assert!(user_error(&body, "createAssistance").is_none(), "next year is fine: {body}");
}

#[tokio::test]
async fn a_later_decile_update_does_not_rewrite_a_past_decision() {
    let app = spawn_app().await;
    let token = app.admin();
    let assessed = recent_assessment();
    let person = app.beneficiary(4).await;
    let body = app.gql(&token, CREATE_ASSISTANCE, package(&person, "2025-03-01")).await;
    let id = body["data"]["createAssistance"]["assistance"]["id"].as_str().expect("id").to_owned();
    let update =
        "mutation($i: UpdateBeneficiaryInput!) { updateBeneficiary(input: $i) { userErrors { code } } }";
    let later = chrono::Utc::now().date_naive().to_string();
    app.gql(&token, update, json!({ "i": { "id": person, "expectedVersion": 1, "decile": 7, "decileSource": "DTSEN", "decileAssessedOn": later } })).await;
    let body = app.gql(&token, "query($id: UUID!) { assistance(id: $id) { decileAtDecision decileAssessedOnAtDecision beneficiary { decile } } }", json!({ "id": id })).await;
    assert_eq!(body["data"]["assistance"]["decileAtDecision"], 4, "{body}");
    let snapshot = body["data"]["assistance"]["decileAssessedOnAtDecision"].as_str().unwrap_or_default();
    assert!([assessed, recent_assessment()].iter().any(|d| d == snapshot), "{body}");
    assert_eq!(body["data"]["assistance"]["beneficiary"]["decile"], 7);
}

#[tokio::test]
async fn loan_above_kur_limit_is_rejected() {
    let app = spawn_app().await;
    let token = app.koperasi();
    let person = app.beneficiary(3).await;
    let business = app.running_business(&person, "2025-01-01").await;
    let cases = [
        ("KUR_SUPER_MICRO", 10_000_001i64, false, Some("LIMIT_EXCEEDED")),
        ("KUR_SUPER_MICRO", 10_000_000, false, None),
        ("KUR_MICRO", 100_000_001, false, Some("LIMIT_EXCEEDED")),
        ("KUR_SMALL", 500_000_001, true, Some("LIMIT_EXCEEDED")),
        ("KUR_SMALL", 200_000_000, false, Some("NOT_ELIGIBLE")),
        ("KUR_SMALL", 200_000_000, true, None),
        ("COOPERATIVE", 3_000_000_000, false, None),
    ];
    for (product, amount, collateral, expected) in cases {
        let body = app.gql(&token, CREATE_LOAN, json!({ "i": { "businessId": business, "product": product, "lender": "Bank", "requestedAmount": amount, "tenorMonths": 12, "hasCollateral": collateral } })).await;
        assert_eq!(
            user_error(&body, "createLoanApplication").as_deref(),
            expected,
            "{product} {amount}: {body}"
        );
    }
}

#[tokio::test]
async fn kur_needs_a_business_running_six_months() {
    let app = spawn_app().await;
    let token = app.koperasi();
    let person = app.beneficiary(3).await;
    let young = chrono::Utc::now().date_naive() - chrono::Duration::days(30);
    let business = app.running_business(&person, &young.to_string()).await;
    let body = app.gql(&token, CREATE_LOAN, json!({ "i": { "businessId": business, "product": "KUR_SUPER_MICRO", "lender": "Bank", "requestedAmount": 5000000, "tenorMonths": 12 } })).await;
    let id = body["data"]["createLoanApplication"]["loanApplication"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let body = app.gql(&token, SUBMIT_LOAN, json!({ "i": { "id": id, "expectedVersion": 1 } })).await;
    assert_eq!(user_error(&body, "submitLoanApplication").as_deref(), Some("NOT_ELIGIBLE"), "{body}");
}

#[tokio::test]
async fn loan_limits_come_from_configuration() {
    let app = spawn_app_with(Rules {
        kur_super_micro_limit: 5_000_000,
        kur_min_months_running: 0,
        ..Rules::default()
    })
    .await;
    let token = app.koperasi();
    let person = app.beneficiary(3).await;
    let business = app.running_business(&person, &chrono::Utc::now().date_naive().to_string()).await;
    let body = app.gql(&token, CREATE_LOAN, json!({ "i": { "businessId": business, "product": "KUR_SUPER_MICRO", "lender": "Bank", "requestedAmount": 6000000, "tenorMonths": 12 } })).await;
    assert_eq!(user_error(&body, "createLoanApplication").as_deref(), Some("LIMIT_EXCEEDED"), "{body}");
    let body = app.gql(&token, CREATE_LOAN, json!({ "i": { "businessId": business, "product": "KUR_SUPER_MICRO", "lender": "Bank", "requestedAmount": 5000000, "tenorMonths": 12 } })).await;
    let id = body["data"]["createLoanApplication"]["loanApplication"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let body = app.gql(&token, SUBMIT_LOAN, json!({ "i": { "id": id, "expectedVersion": 1 } })).await;
    assert_eq!(body["data"]["submitLoanApplication"]["loanApplication"]["status"], "SUBMITTED", "{body}");
}

#[test]
fn a_rules_file_overrides_only_what_it_names() {
    let rules = Rules::from_toml("kur_micro_limit = 150000000").expect("parses");
    assert_eq!(rules.kur_micro_limit, 150_000_000);
    assert_eq!(rules.kur_super_micro_limit, 10_000_000);
    assert!(Rules::from_toml("kur_mikro_limit = 1").is_err(), "a misspelt key is an error, not ignored");
}

#[test]
fn the_documented_rules_example_is_valid() {
    let rules = Rules::from_toml(include_str!("../../docs/rules.example.toml"))
        .expect("docs/rules.example.toml parses");
    assert_eq!(rules.kur_small_limit, Rules::default().kur_small_limit);
    assert_eq!(rules.graduation, Rules::default().graduation, "the example's ladder is the built-in one");
    assert_eq!(rules.allocation_years, Rules::default().allocation_years);
}
