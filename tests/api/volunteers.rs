//! Volunteers (relawan) and their assignments: a volunteer's token sees personal data only of the
//! beneficiaries whose businesses are assigned to it — over HTTP and over a socket — each read
//! logged; a search by name or number finds no one else.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, spawn_app, user_error},
    subscriptions::{WsClient, init},
};

const CREATE: &str = "mutation($i: CreateVolunteerInput!) { createVolunteer(input: $i) { volunteer { id status } userErrors { code field message } } }";
const ASSIGN: &str = "mutation($i: AssignVolunteerInput!) { assignVolunteer(input: $i) { business { version volunteerId } userErrors { code field message } } }";
const PERSON: &str = "query($id: UUID!) { beneficiary(id: $id) { fullName nik phone address } }";

async fn volunteer(app: &TestApp, regency: &str) -> String {
    let body = app
        .gql(
            &app.admin(),
            CREATE,
            json!({ "i": { "name": "Siti Relawan", "kind": "PSM", "regencyCode": regency } }),
        )
        .await;
    body["data"]["createVolunteer"]["volunteer"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

/// A beneficiary with a PROPOSED business: (person, business).
async fn case(app: &TestApp) -> (String, String) {
    let person = app.beneficiary(2).await;
    let business = app.business(&person, "Warung", "FOOD").await;
    (person, business)
}

async fn assign(app: &TestApp, business: &str, version: i64, volunteer: Option<&str>) -> Value {
    app.gql(
        &app.admin(),
        ASSIGN,
        json!({ "i": { "businessId": business, "expectedVersion": version, "volunteerId": volunteer } }),
    )
    .await
}

async fn logged_reads(app: &TestApp, person: &str) -> u64 {
    let id: uuid::Uuid = person.parse().expect("uuid");
    entity::pii_access_log::Entity::find()
        .filter(entity::pii_access_log::Column::BeneficiaryId.eq(id))
        .filter(entity::pii_access_log::Column::ActorAgency.eq("RELAWAN"))
        .count(&app.db)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_volunteer_sees_personal_data_only_of_its_assigned_cases() {
    let app = spawn_app().await;
    let siti = volunteer(&app, "6472").await;
    let (mine, my_business) = case(&app).await;
    let (other, _) = case(&app).await;
    let body = assign(&app, &my_business, 1, Some(&siti)).await;
    assert_eq!(body["data"]["assignVolunteer"]["business"]["volunteerId"], siti.as_str(), "{body}");
    let token = app.volunteer_token(&siti);

    let body = app.gql(&token, PERSON, json!({ "id": mine })).await;
    let shown = &body["data"]["beneficiary"];
    assert_eq!(shown["fullName"], "Budi Santoso", "{body}");
    assert_eq!(shown["phone"], "081234567890");
    assert!(!shown["nik"].as_str().unwrap_or_default().contains('*'));
    assert_eq!(logged_reads(&app, &mine).await, 1, "the read is logged");
    let body = app.gql(&token, PERSON, json!({ "id": other })).await;
    let hidden = &body["data"]["beneficiary"];
    assert_eq!(
        (hidden["fullName"].clone(), hidden["address"].clone()),
        (json!("***"), json!("***")),
        "{body}"
    );
    assert!(hidden["nik"].as_str().unwrap_or_default().contains("**********"));
    assert_eq!(logged_reads(&app, &other).await, 0, "nothing unmasked, nothing logged");

    // A search by name or NIK, or a plain list in any order, finds only its own case.
    let search = "query($f: BeneficiaryFilter) { beneficiaries(filter: $f) { nodes { id } } }";
    let body = app.gql(&token, search, json!({})).await;
    assert_eq!(body["data"]["beneficiaries"]["nodes"], json!([{ "id": mine }]), "{body}");
    let by_name = "{ beneficiaries(orderBy: { field: FULL_NAME, direction: ASC }) { edges { cursor } } }";
    let body = app.gql(&token, by_name, json!({})).await;
    assert_eq!(body["data"]["beneficiaries"]["edges"].as_array().map(Vec::len), Some(1), "{body}");
    let body = app.gql(&token, search, json!({ "f": { "nameContains": "Budi" } })).await;
    assert_eq!(body["data"]["beneficiaries"]["nodes"], json!([{ "id": mine }]), "{body}");
    let nik = app
        .gql(&app.admin(), "query($id: UUID!) { beneficiary(id: $id) { nik } }", json!({ "id": other }))
        .await;
    let body = app.gql(&token, search, json!({ "f": { "nik": nik["data"]["beneficiary"]["nik"] } })).await;
    assert_eq!(
        body["data"]["beneficiaries"]["nodes"],
        json!([]),
        "another person's NIK finds no one: {body}"
    );

    // The same over a socket.
    let mut ws = WsClient::connect(&app, "/graphql/ws", init(&token)).await.expect("connect");
    ws.subscribe("a", PERSON, json!({ "id": other })).await;
    let answer = ws.next("a").await;
    assert_eq!(answer["payload"]["data"]["beneficiary"]["fullName"], "***", "{answer}");
    ws.subscribe("b", PERSON, json!({ "id": mine })).await;
    let answer = ws.next("b").await;
    assert_eq!(answer["payload"]["data"]["beneficiary"]["fullName"], "Budi Santoso", "{answer}");

    // Unassigned, the case is hidden from the next operation on — the same socket too.
    let body = assign(&app, &my_business, 2, None).await;
    assert_eq!(body["data"]["assignVolunteer"]["business"]["volunteerId"], Value::Null, "{body}");
    ws.subscribe("c", PERSON, json!({ "id": mine })).await;
    let answer = ws.next("c").await;
    assert_eq!(answer["payload"]["data"]["beneficiary"]["fullName"], "***", "{answer}");
    let body = app.gql(&token, PERSON, json!({ "id": mine })).await;
    assert_eq!(body["data"]["beneficiary"]["fullName"], "***", "{body}");
}

#[tokio::test]
async fn a_volunteer_who_stops_leaves_its_cases_and_sees_nothing() {
    let app = spawn_app().await;
    let siti = volunteer(&app, "6472").await;
    let (mine, my_business) = case(&app).await;
    assign(&app, &my_business, 1, Some(&siti)).await;
    let stop = "mutation($i: StatusChangeWithReasonInput!) { deactivateVolunteer(input: $i) { volunteer { status } userErrors { code } } }";
    let body = app
        .gql(
            &app.admin(),
            stop,
            json!({ "i": { "id": siti, "expectedVersion": 1, "reason": "Pindah tugas" } }),
        )
        .await;
    assert_eq!(body["data"]["deactivateVolunteer"]["volunteer"]["status"], "INACTIVE", "{body}");
    let body = app
        .gql(
            &app.admin(),
            "query($id: UUID!) { business(id: $id) { volunteerId version } }",
            json!({ "id": my_business }),
        )
        .await;
    assert_eq!(
        body["data"]["business"],
        json!({ "volunteerId": null, "version": 3 }),
        "unassigned with its event: {body}"
    );
    let body = app.gql(&app.volunteer_token(&siti), PERSON, json!({ "id": mine })).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "its token no longer works: {body}"
    );
    assert!(body["data"].is_null(), "{body}");
    // And cannot be given new cases.
    let body = assign(&app, &my_business, 3, Some(&siti)).await;
    assert_eq!(user_error(&body, "assignVolunteer").as_deref(), Some("VALIDATION"), "{body}");
}

#[tokio::test]
async fn assignments_stay_within_the_volunteers_regency_and_only_the_owner_assigns() {
    let app = spawn_app().await;
    let balikpapan = volunteer(&app, "6471").await;
    let samarinda = volunteer(&app, "6472").await;
    let (_, business) = case(&app).await;
    let body = assign(&app, &business, 1, Some(&balikpapan)).await;
    assert_eq!(body["data"]["assignVolunteer"]["userErrors"][0]["field"], json!(["volunteerId"]), "{body}");
    let body = assign(&app, &business, 1, Some(&uuid::Uuid::now_v7().to_string())).await;
    assert_eq!(body["data"]["assignVolunteer"]["userErrors"][0]["message"], "no such volunteer", "{body}");
    assign(&app, &business, 1, Some(&samarinda)).await;
    let body = assign(&app, &business, 2, Some(&samarinda)).await;
    assert_eq!(user_error(&body, "assignVolunteer").as_deref(), Some("VALIDATION"), "already so: {body}");
    // A volunteer's own token cannot assign itself cases.
    let body = app
        .gql(
            &app.volunteer_token(&samarinda),
            ASSIGN,
            json!({ "i": { "businessId": business, "expectedVersion": 2, "volunteerId": null } }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    let body = app
        .gql(
            &app.admin(),
            "query($id: UUID!) { volunteer(id: $id) { name businesses { id } } }",
            json!({ "id": samarinda }),
        )
        .await;
    assert_eq!(
        body["data"]["volunteer"],
        json!({ "name": "Siti Relawan", "businesses": [{ "id": business }] }),
        "{body}"
    );
}

#[test]
fn relawan_tokens_name_their_volunteer_and_no_other_agencys_do() {
    use sinergi_api::{auth::TokenRequest, policy::Policy};
    let policy = Policy::default_policy();
    let issue = |agency: &str, volunteer: Option<uuid::Uuid>| {
        TokenRequest::from_cli(
            &policy,
            agency.into(),
            "monitoring:read",
            vec!["6472".into()],
            "1h",
            "app".into(),
            volunteer,
        )
    };
    assert!(issue("RELAWAN", None).is_err_and(|e| e.contains("--volunteer")));
    assert!(issue("RELAWAN", Some(uuid::Uuid::now_v7())).is_ok());
    assert!(issue("DINSOS", Some(uuid::Uuid::now_v7())).is_err());
}

#[tokio::test]
async fn a_relawan_token_without_a_volunteer_sees_no_personal_data() {
    let app = spawn_app().await;
    let (person, _) = case(&app).await;
    // Signed without the policy's check (as an SSO's token would come): the gateway still
    // drops its pii:read.
    let token = app.token("RELAWAN", "beneficiary:read business:read pii:read", &["64"]);
    let body = app.gql(&token, PERSON, json!({ "id": person })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "no beneficiary at all: {body}");
    let body = app.gql(&token, "{ businesses { nodes { owner { fullName } } } }", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
}

#[tokio::test]
async fn a_volunteer_records_visits_of_its_own_businesses_under_its_own_name() {
    let app = spawn_app().await;
    let siti = volunteer(&app, "6472").await;
    let (_, mine) = case(&app).await;
    let (_, other) = case(&app).await;
    assign(&app, &mine, 1, Some(&siti)).await;
    let token = app.volunteer_token(&siti);
    let visit = "mutation($i: RecordMonitoringVisitInput!) { recordMonitoringVisit(input: $i) { monitoringVisit { volunteerName } userErrors { code } } }";
    let today = chrono::Utc::now().date_naive().to_string();
    let input = |business: &str| json!({ "i": { "businessId": business, "volunteerName": "Orang Lain", "visitedOn": today, "observedStatus": "RUNNING" } });
    let body = app.gql(&token, visit, input(&other)).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    let body = app.gql(&token, visit, input(&mine)).await;
    assert_eq!(
        body["data"]["recordMonitoringVisit"]["monitoringVisit"]["volunteerName"], "Siti Relawan",
        "{body}"
    );
}

#[tokio::test]
async fn a_volunteers_token_is_issued_for_its_own_regency_while_it_is_active() {
    use sinergi_api::volunteer::service::check_for_token;
    let app = spawn_app().await;
    let siti = volunteer(&app, "6472").await;
    let id: uuid::Uuid = siti.parse().expect("uuid");
    assert!(check_for_token(&app.db, id, &["6472".into()]).await.is_ok());
    assert!(check_for_token(&app.db, id, &["64".into()]).await.is_err_and(|e| e.contains("--region 6472")));
    assert!(check_for_token(&app.db, uuid::Uuid::now_v7(), &["6472".into()]).await.is_err());
    let stop = "mutation($i: StatusChangeWithReasonInput!) { deactivateVolunteer(input: $i) { volunteer { status } } }";
    app.gql(&app.admin(), stop, json!({ "i": { "id": siti, "expectedVersion": 1, "reason": "Berhenti" } }))
        .await;
    assert!(check_for_token(&app.db, id, &["6472".into()]).await.is_err_and(|e| e.contains("not ACTIVE")));
}
