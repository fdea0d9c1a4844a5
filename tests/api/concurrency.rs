//! Concurrent writers: optimistic concurrency and training capacity hold under real races.

use serde_json::json;
use tokio::task::JoinSet;

use crate::helpers::{spawn_app, user_error};

#[tokio::test]
async fn two_writers_with_one_version_one_wins_and_the_other_gets_conflict() {
    let app = std::sync::Arc::new(spawn_app().await);
    let id = app.beneficiary(3).await;
    let update = "mutation($i: UpdateBeneficiaryInput!) { updateBeneficiary(input: $i) { beneficiary { fullName version } userErrors { code } } }";
    let mut tasks = JoinSet::new();
    for name in ["Siti Aminah", "Siti Rahmah"] {
        let app = app.clone();
        let id = id.clone();
        tasks.spawn(async move {
            app.gql(
                &app.admin(),
                update,
                json!({ "i": { "id": id, "expectedVersion": 1, "fullName": name } }),
            )
            .await
        });
    }
    let mut winners = Vec::new();
    let mut conflicts = 0;
    while let Some(result) = tasks.join_next().await {
        let body = result.expect("task");
        match user_error(&body, "updateBeneficiary").as_deref() {
            None => winners.push(body["data"]["updateBeneficiary"]["beneficiary"]["fullName"].clone()),
            Some("CONFLICT") => conflicts += 1,
            other => panic!("unexpected {other:?}: {body}"),
        }
    }
    assert_eq!((winners.len(), conflicts), (1, 1));
    let body = app
        .gql(
            &app.admin(),
            "query($id: UUID!) { beneficiary(id: $id) { fullName version timeline { totalCount } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(body["data"]["beneficiary"]["fullName"], winners[0], "the winner's change is what is stored");
    assert_eq!(body["data"]["beneficiary"]["version"], 2);
    assert_eq!(body["data"]["beneficiary"]["timeline"]["totalCount"], 2, "one CREATED, one UPDATED");

    let stale = app
        .gql(&app.admin(), update, json!({ "i": { "id": id, "expectedVersion": 1, "fullName": "Late" } }))
        .await;
    assert_eq!(user_error(&stale, "updateBeneficiary").as_deref(), Some("CONFLICT"));
}

#[tokio::test]
async fn training_capacity_is_never_exceeded_under_concurrent_enrollment() {
    let app = std::sync::Arc::new(spawn_app().await);
    let token = app.admin();
    let body = app
        .gql(&token, "mutation($i: CreateTrainingInput!) { createTraining(input: $i) { training { id } } }",
            json!({ "i": { "title": "Bimtek", "topic": "TECHNICAL_GUIDANCE", "regencyCode": "6472", "startsOn": "2026-12-01", "endsOn": "2026-12-02", "capacity": 3 } }))
        .await;
    let training = body["data"]["createTraining"]["training"]["id"].as_str().expect("id").to_owned();
    app.gql(
        &token,
        "mutation($i: StatusChangeInput!) { openTraining(input: $i) { training { status } } }",
        json!({ "i": { "id": training, "expectedVersion": 1 } }),
    )
    .await;
    let mut people = Vec::new();
    for _ in 0..8 {
        people.push(app.beneficiary(2).await);
    }
    let mut tasks = JoinSet::new();
    for person in people {
        let app = app.clone();
        let training = training.clone();
        tasks.spawn(async move {
            let q = "mutation($i: EnrollInTrainingInput!) { enrollInTraining(input: $i) { enrollment { id } userErrors { code } } }";
            app.gql(&app.admin(), q, json!({ "i": { "trainingId": training, "beneficiaryId": person } })).await
        });
    }
    let (mut enrolled, mut full) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        let body = result.expect("task");
        match user_error(&body, "enrollInTraining").as_deref() {
            None => enrolled += 1,
            Some("CAPACITY_FULL") => full += 1,
            other => panic!("unexpected {other:?}: {body}"),
        }
    }
    assert_eq!((enrolled, full), (3, 5));
    let body = app
        .gql(
            &token,
            "query($id: UUID!) { training(id: $id) { seatsTaken capacity enrollments { nodes { id } } } }",
            json!({ "id": training }),
        )
        .await;
    assert_eq!(body["data"]["training"]["seatsTaken"], 3, "{body}");
    assert_eq!(body["data"]["training"]["enrollments"]["nodes"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn the_loser_of_a_concurrent_registration_gets_duplicate_not_an_internal_error() {
    let app = crate::helpers::spawn_app().await;
    let token = app.admin();
    let (nik, kk) = app.identity();
    let attempts = (0..8).map(|i| {
        let mut input = crate::helpers::beneficiary_input(&nik, &format!("{}{}", &kk[..15], i + 1), 2);
        input["isHeadOfFamily"] = serde_json::json!(false);
        app.gql(&token, crate::helpers::CREATE_BENEFICIARY, serde_json::json!({ "input": input }))
    });
    let answers = futures_util::future::join_all(attempts).await;
    let created =
        answers.iter().filter(|b| b["data"]["createBeneficiary"]["beneficiary"]["id"].is_string()).count();
    let duplicates = answers
        .iter()
        .filter(|b| crate::helpers::user_error(b, "createBeneficiary").as_deref() == Some("DUPLICATE"))
        .count();
    assert_eq!((created, duplicates), (1, 7), "{answers:?}");
}
