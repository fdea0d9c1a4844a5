//! Beneficiary registration: NIK/KK rules, uniqueness, warnings, retries and case events.

use serde_json::json;

use crate::helpers::{CREATE_BENEFICIARY, beneficiary_input, error_code, spawn_app, user_error};

#[tokio::test]
async fn invalid_identity_numbers_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let token = app.admin();
    let cases = [
        ("nik", "647201150290001", "6472010101150001", "a NIK of 15 digits"),
        ("nik", "64720115029000012", "6472010101150001", "a NIK of 17 digits"),
        ("nik", "64720115029A0001", "6472010101150001", "a NIK with a letter"),
        ("nik", "6472013102900001", "6472010101150001", "a NIK born on 31 February"),
        ("nik", "6472011502900000", "6472010101150001", "a NIK with serial 0000"),
        ("nik", "6472015502900001", "6472010101150001", "a woman's NIK for a man"),
        ("kkNumber", "6472011502900001", "647201010115000", "a KK of 15 digits"),
        ("kkNumber", "6472011502900001", "6472013002150001", "a KK recorded on 30 February"),
        ("kkNumber", "6472011502900001", "6472010101150000", "a KK with serial 0000"),
        ("kkNumber", "6472011502900001", "6472014101150001", "a KK with day + 40"),
    ];
    for (field, nik, kk, what) in cases {
        let body =
            app.gql(&token, CREATE_BENEFICIARY, json!({ "input": beneficiary_input(nik, kk, 3) })).await;
        assert_eq!(user_error(&body, "createBeneficiary").as_deref(), Some("VALIDATION"), "{what}: {body}");
        assert_eq!(body["data"]["createBeneficiary"]["userErrors"][0]["field"][0], field, "{what}");
        assert!(body["data"]["createBeneficiary"]["beneficiary"].is_null());
    }
    assert_eq!(app.event_count().await, 0, "no write, no event");
}

#[tokio::test]
async fn decile_and_regions_are_checked() {
    let app = spawn_app().await;
    let token = app.admin();
    let (nik, kk) = app.identity();
    for (decile, ok) in [(0, false), (11, false), (1, true)] {
        let body = app
            .gql(&token, CREATE_BENEFICIARY, json!({ "input": beneficiary_input(&nik, &kk, decile) }))
            .await;
        assert_eq!(user_error(&body, "createBeneficiary").is_none(), ok, "decile {decile}: {body}");
    }
    let (nik, kk) = app.identity();
    let mut input = beneficiary_input(&nik, &kk, 2);
    input["regencyCode"] = json!("6402");
    input["districtCode"] = json!("647201");
    let body = app.gql(&token, CREATE_BENEFICIARY, json!({ "input": input })).await;
    assert_eq!(body["data"]["createBeneficiary"]["userErrors"][0]["field"][0], "districtCode", "{body}");
    let mut input = beneficiary_input(&nik, &kk, 2);
    input["regencyCode"] = json!("3171");
    let body = app.gql(&token, CREATE_BENEFICIARY, json!({ "input": input })).await;
    assert_eq!(body["data"]["createBeneficiary"]["userErrors"][0]["field"][0], "regencyCode", "{body}");
}

#[tokio::test]
async fn a_nik_first_issued_outside_kaltim_is_accepted_with_a_warning() {
    let app = spawn_app().await;
    let body = app
        .gql(
            &app.admin(),
            CREATE_BENEFICIARY,
            json!({ "input": beneficiary_input("3171011502900007", "6472010101150007", 4) }),
        )
        .await;
    let payload = &body["data"]["createBeneficiary"];
    assert_eq!(payload["beneficiary"]["status"], "ACTIVE", "{body}");
    assert_eq!(payload["warnings"][0]["field"], json!(["nik"]));
}

#[tokio::test]
async fn duplicate_nik_and_second_head_of_family_are_refused() {
    let app = spawn_app().await;
    let token = app.admin();
    let (nik, kk) = app.identity();
    let first =
        app.gql(&token, CREATE_BENEFICIARY, json!({ "input": beneficiary_input(&nik, &kk, 3) })).await;
    assert!(user_error(&first, "createBeneficiary").is_none(), "{first}");

    let (_, other_kk) = app.identity();
    let body =
        app.gql(&token, CREATE_BENEFICIARY, json!({ "input": beneficiary_input(&nik, &other_kk, 3) })).await;
    assert_eq!(user_error(&body, "createBeneficiary").as_deref(), Some("DUPLICATE"));
    assert_eq!(body["data"]["createBeneficiary"]["userErrors"][0]["field"][0], "nik");

    let (other_nik, _) = app.identity();
    let body =
        app.gql(&token, CREATE_BENEFICIARY, json!({ "input": beneficiary_input(&other_nik, &kk, 3) })).await;
    assert_eq!(user_error(&body, "createBeneficiary").as_deref(), Some("DUPLICATE"));
    assert_eq!(body["data"]["createBeneficiary"]["userErrors"][0]["field"][0], "isHeadOfFamily");

    let mut member = beneficiary_input(&other_nik, &kk, 3);
    member["isHeadOfFamily"] = json!(false);
    let body = app.gql(&token, CREATE_BENEFICIARY, json!({ "input": member })).await;
    assert!(
        user_error(&body, "createBeneficiary").is_none(),
        "a family member on the same KK is fine: {body}"
    );
    assert_eq!(app.event_count().await, 2);
}

#[tokio::test]
async fn retrying_a_create_with_the_same_id_is_harmless() {
    let app = spawn_app().await;
    let token = app.admin();
    let (nik, kk) = app.identity();
    let id = "01900000-0000-7000-8000-000000000001";
    let mut input = beneficiary_input(&nik, &kk, 3);
    input["id"] = json!(id);
    for _ in 0..3 {
        let body = app.gql(&token, CREATE_BENEFICIARY, json!({ "input": input })).await;
        assert_eq!(body["data"]["createBeneficiary"]["beneficiary"]["id"], id, "{body}");
    }
    assert_eq!(app.event_count().await, 1, "one record, one event");
    let count = app.gql(&token, "{ beneficiaries { totalCount } }", json!({})).await;
    assert_eq!(count["data"]["beneficiaries"]["totalCount"], 1);
}

#[tokio::test]
async fn a_create_reusing_an_id_with_another_body_is_a_conflict() {
    let app = spawn_app().await;
    let token = app.admin();
    let (nik, kk) = app.identity();
    let id = "01900000-0000-7000-8000-000000000002";
    let mut input = beneficiary_input(&nik, &kk, 3);
    input["id"] = json!(id);
    let body = app.gql(&token, CREATE_BENEFICIARY, json!({ "input": input })).await;
    assert_eq!(body["data"]["createBeneficiary"]["beneficiary"]["id"], id, "{body}");

    // The same id for another person: not a retry.
    let mut other = input.clone();
    other["fullName"] = json!("Siti Rahmawati");
    other["decile"] = json!(1);
    let body = app.gql(&token, CREATE_BENEFICIARY, json!({ "input": other })).await;
    assert_eq!(user_error(&body, "createBeneficiary").as_deref(), Some("CONFLICT"), "{body}");
    assert_eq!(body["data"]["createBeneficiary"]["userErrors"][0]["field"], json!(["id"]), "{body}");
    assert!(body["data"]["createBeneficiary"]["beneficiary"].is_null(), "{body}");

    // Field order and an explicit null for an optional field do not make another body.
    let mut reordered = serde_json::Map::new();
    for (key, value) in input.as_object().expect("object").iter().rev() {
        reordered.insert(key.clone(), value.clone());
    }
    assert!(!reordered.contains_key("villageCode"));
    reordered.insert("villageCode".into(), json!(null));
    let body = app.gql(&token, CREATE_BENEFICIARY, json!({ "input": reordered })).await;
    assert_eq!(body["data"]["createBeneficiary"]["beneficiary"]["id"], id, "a retry: {body}");

    // A retry after the record has moved on still returns it.
    let update =
        "mutation($i: UpdateBeneficiaryInput!) { updateBeneficiary(input: $i) { beneficiary { version } } }";
    let body = app
        .gql(&token, update, json!({ "i": { "id": id, "expectedVersion": 1, "phone": "081298765432" } }))
        .await;
    assert_eq!(body["data"]["updateBeneficiary"]["beneficiary"]["version"], 2, "{body}");
    let body = app.gql(&token, CREATE_BENEFICIARY, json!({ "input": input })).await;
    assert_eq!(body["data"]["createBeneficiary"]["beneficiary"]["id"], id, "{body}");
    assert!(user_error(&body, "createBeneficiary").is_none(), "{body}");

    // The id of a record no create with that id made (the server chose it) is no retry either.
    let chosen = app.beneficiary(2).await;
    let (nik, kk) = app.identity();
    let mut naming = beneficiary_input(&nik, &kk, 2);
    naming["id"] = json!(chosen);
    let body = app.gql(&token, CREATE_BENEFICIARY, json!({ "input": naming })).await;
    assert_eq!(user_error(&body, "createBeneficiary").as_deref(), Some("CONFLICT"), "{body}");

    let check = app
        .gql(
            &token,
            "query($id: UUID!) { beneficiary(id: $id) { fullName decile version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(check["data"]["beneficiary"]["decile"], 3, "nothing of the other body was written: {check}");
    assert_eq!(check["data"]["beneficiary"]["version"], 2, "{check}");
    assert_eq!(app.event_count().await, 3, "the create and the update, and the other create");
}

#[tokio::test]
async fn every_write_leaves_its_case_event_on_the_timeline() {
    let app = spawn_app().await;
    let token = app.admin();
    let id = app.beneficiary(3).await;
    let body = app
        .gql(
            &token,
            "mutation($i: UpdateBeneficiaryInput!) { updateBeneficiary(input: $i) { beneficiary { version decile } userErrors { code } } }",
            json!({ "i": { "id": id, "expectedVersion": 1, "decile": 6, "decileSource": "DTSEN", "decileAssessedOn": "2025-06-30" } }),
        )
        .await;
    assert_eq!(body["data"]["updateBeneficiary"]["beneficiary"]["version"], 2, "{body}");
    let body = app
        .gql(
            &token,
            "mutation($i: StatusChangeInput!) { graduateBeneficiary(input: $i) { beneficiary { status version } } }",
            json!({ "i": { "id": id, "expectedVersion": 2 } }),
        )
        .await;
    assert_eq!(body["data"]["graduateBeneficiary"]["beneficiary"]["status"], "GRADUATED", "{body}");
    let body = app
        .gql(
            &token,
            "query($id: UUID!) { beneficiary(id: $id) { timeline { totalCount nodes { action fromStatus toStatus changedFields actorAgency entityType regencyCode } } } }",
            json!({ "id": id }),
        )
        .await;
    let events = &body["data"]["beneficiary"]["timeline"]["nodes"];
    assert_eq!(body["data"]["beneficiary"]["timeline"]["totalCount"], 3, "{body}");
    assert_eq!(events[0]["action"], "CREATED");
    assert_eq!(events[1]["action"], "UPDATED");
    assert_eq!(events[1]["changedFields"], json!(["decile", "decileSource", "decileAssessedOn"]));
    assert_eq!(events[2]["action"], "STATUS_CHANGED");
    assert_eq!(events[2]["fromStatus"], "ACTIVE");
    assert_eq!(events[2]["toStatus"], "GRADUATED");
    assert_eq!(events[2]["actorAgency"], "DINSOS");
    assert_eq!(events[2]["entityType"], "BENEFICIARY");
    assert_eq!(events[2]["regencyCode"], "6472");
}

#[tokio::test]
async fn lists_filter_search_sort_and_page() {
    let app = spawn_app().await;
    let token = app.admin();
    for decile in [1, 2, 3, 4, 5] {
        app.beneficiary(decile).await;
    }
    let q = "query($f: BeneficiaryFilter, $o: BeneficiaryOrderBy, $first: Int, $after: String) {
      beneficiaries(filter: $f, orderBy: $o, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { decile } } }";
    let body = app.gql(&token, q, json!({ "f": { "decileMin": 2, "decileMax": 4 }, "o": { "field": "DECILE", "direction": "DESC" } })).await;
    assert_eq!(
        body["data"]["beneficiaries"]["nodes"],
        json!([{ "decile": 4 }, { "decile": 3 }, { "decile": 2 }]),
        "{body}"
    );
    let page1 = app.gql(&token, q, json!({ "o": { "field": "DECILE" }, "first": 2 })).await;
    assert_eq!(page1["data"]["beneficiaries"]["totalCount"], 5);
    assert_eq!(page1["data"]["beneficiaries"]["pageInfo"]["hasNextPage"], true);
    let cursor = page1["data"]["beneficiaries"]["pageInfo"]["endCursor"].clone();
    let page2 = app.gql(&token, q, json!({ "o": { "field": "DECILE" }, "first": 2, "after": cursor })).await;
    assert_eq!(page2["data"]["beneficiaries"]["nodes"], json!([{ "decile": 3 }, { "decile": 4 }]), "{page2}");
    let body = app.gql(&token, q, json!({ "f": { "nameContains": "budi SANT" } })).await;
    assert_eq!(body["data"]["beneficiaries"]["totalCount"], 5, "case-insensitive name search: {body}");
    let body = app.gql(&token, q, json!({ "f": { "nameContains": "%' OR 1=1 --" } })).await;
    assert_eq!(body["data"]["beneficiaries"]["totalCount"], 0, "hostile text is just text: {body}");
    let body = app.gql(&token, q, json!({ "first": 101 })).await;
    assert_eq!(crate::helpers::error_code(&body).as_deref(), Some("BAD_REQUEST"), "{body}");
}

#[tokio::test]
async fn an_id_already_used_by_another_agency_is_a_duplicate() {
    let app = spawn_app().await;
    let id = "01900000-0000-7000-8000-0000000000aa";
    let q = "mutation($i: CreateTrainingInput!) { createTraining(input: $i) { training { id organiserAgency } userErrors { code field } } }";
    let input = json!({ "i": { "id": id, "title": "Bimtek", "topic": "TECHNICAL_GUIDANCE", "regencyCode": "6472", "startsOn": "2026-12-01", "endsOn": "2026-12-02", "capacity": 5 } });
    let body = app.gql(&app.admin(), q, input.clone()).await;
    assert_eq!(body["data"]["createTraining"]["training"]["organiserAgency"], "DINSOS", "{body}");
    let body = app.gql(&app.token("DINSOS", "training:write", &["64"]), q, input.clone()).await;
    assert_eq!(
        body["data"]["createTraining"]["training"]["id"], id,
        "the same agency retrying gets its record: {body}"
    );
    let mut changed = input.clone();
    changed["i"]["capacity"] = json!(6);
    let body = app.gql(&app.admin(), q, changed).await;
    assert_eq!(user_error(&body, "createTraining").as_deref(), Some("CONFLICT"), "another body: {body}");
    let other = app.token("DISNAKERTRANS", "training:read training:write", &["64"]);
    let body = app.gql(&other, q, input).await;
    assert_eq!(user_error(&body, "createTraining").as_deref(), Some("DUPLICATE"), "{body}");
    assert_eq!(body["data"]["createTraining"]["userErrors"][0]["field"][0], "id");
}

#[tokio::test]
async fn other_lists_sort_by_their_own_fields() {
    let app = spawn_app().await;
    let token = app.admin();
    let person = app.beneficiary(2).await;
    let body = app
        .gql(
            &token,
            crate::helpers::CREATE_BUSINESS,
            json!({ "input": { "beneficiaryId": person, "name": "Warung", "sector": "FOOD" } }),
        )
        .await;
    let business = body["data"]["createBusiness"]["business"]["id"].as_str().expect("id").to_owned();
    for amount in [3_000_000, 9_000_000, 1_000_000] {
        let q = "mutation($i: CreateLoanApplicationInput!) { createLoanApplication(input: $i) { userErrors { code } } }";
        app.gql(&app.koperasi(), q, json!({ "i": { "businessId": business, "product": "COOPERATIVE", "lender": "Koperasi", "requestedAmount": amount, "tenorMonths": 6 } })).await;
    }
    let q =
        "query($o: LoanApplicationOrderBy) { loanApplications(orderBy: $o) { nodes { requestedAmount } } }";
    let body = app.gql(&token, q, json!({ "o": { "field": "REQUESTED_AMOUNT", "direction": "DESC" } })).await;
    let amounts: Vec<i64> = body["data"]["loanApplications"]["nodes"]
        .as_array()
        .map(|n| n.iter().filter_map(|x| x["requestedAmount"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(amounts, vec![9_000_000, 3_000_000, 1_000_000], "{body}");
}

#[tokio::test]
async fn registering_or_correcting_a_nik_needs_pii_read_and_a_duplicate_answer_is_logged_as_a_read() {
    let app = spawn_app().await;
    let existing = app.beneficiary(2).await; // in Samarinda (6472)
    let (nik, kk) = app.identity();
    let blind = app.token("DINSOS", "beneficiary:read beneficiary:write", &["6401"]);
    let mut paser = beneficiary_input(&nik, &kk, 2);
    paser["regencyCode"] = json!("6401");
    paser["districtCode"] = json!("640101");
    let body = app.gql(&blind, CREATE_BENEFICIARY, json!({ "input": paser })).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "registering needs pii:read: {body}");

    let admin = app.admin();
    let nik_of = app
        .gql(&admin, "query($id: UUID!) { beneficiary(id: $id) { nik kkNumber } }", json!({ "id": existing }))
        .await;
    let taken_nik = nik_of["data"]["beneficiary"]["nik"].as_str().expect("nik").to_owned();
    let update = "mutation($i: UpdateBeneficiaryInput!) { updateBeneficiary(input: $i) { beneficiary { version } userErrors { code } } }";
    let samarinda_blind = app.token("DINSOS", "beneficiary:read beneficiary:write", &["6472"]);
    let body = app
        .gql(&samarinda_blind, update, json!({ "i": { "id": existing, "expectedVersion": 1, "nik": nik } }))
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "correcting a NIK needs pii:read: {body}");
    let body = app
        .gql(
            &samarinda_blind,
            update,
            json!({ "i": { "id": existing, "expectedVersion": 1, "fullName": "Budi S." } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateBeneficiary"]["beneficiary"]["version"], 2,
        "other fields need no pii:read: {body}"
    );

    // An officer in Paser with pii:read learns that the NIK is registered somewhere: logged.
    let officer = app.token("DINSOS", "beneficiary:read beneficiary:write pii:read", &["6401"]);
    let mut probe = paser.clone();
    probe["nik"] = json!(taken_nik);
    let body = app.gql(&officer, CREATE_BENEFICIARY, json!({ "input": probe })).await;
    assert_eq!(user_error(&body, "createBeneficiary").as_deref(), Some("DUPLICATE"), "{body}");
    let mut by_id = paser.clone();
    by_id["id"] = json!(existing);
    let body = app.gql(&officer, CREATE_BENEFICIARY, json!({ "input": by_id })).await;
    assert_eq!(user_error(&body, "createBeneficiary").as_deref(), Some("DUPLICATE"), "{body}");
    let me = app.gql(&officer, "{ me { tokenId } }", json!({})).await;
    let log = app
        .gql(
            &admin,
            "query($f: PiiAccessFilter) { piiAccessLog(filter: $f) { nodes { beneficiaryId fields } } }",
            json!({ "f": { "tokenId": me["data"]["me"]["tokenId"] } }),
        )
        .await;
    let nodes = log["data"]["piiAccessLog"]["nodes"].as_array().cloned().unwrap_or_default();
    assert_eq!(nodes.len(), 2, "both duplicate answers are on record: {log}");
    assert!(nodes.iter().all(|n| n["beneficiaryId"] == json!(existing)), "{log}");
    assert!(
        nodes.iter().any(|n| n["fields"] == json!(["nik"]))
            && nodes.iter().any(|n| n["fields"] == json!(["id"]))
    );
}

/// Pages a list to its end with `first: 1`, returning the names in order.
async fn page_through(
    app: &crate::helpers::TestApp,
    query: &str,
    variables: serde_json::Value,
    list: &str,
) -> Vec<String> {
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut vars = variables.clone();
        vars["after"] = json!(after);
        let body = app.gql(&app.admin(), query, vars).await;
        let page = &body["data"][list];
        for node in page["nodes"].as_array().unwrap_or_else(|| panic!("{body}")) {
            names.push(node["name"].as_str().unwrap_or_default().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return names;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        assert!(names.len() < 100, "paging does not end: {names:?}");
    }
}

#[tokio::test]
async fn keyset_cursors_neither_repeat_nor_skip_a_row_when_rows_are_inserted_while_paging() {
    let app = spawn_app().await;
    let token = app.admin();
    let create = |name: &'static str| {
        let (nik, kk) = app.identity();
        let mut input = beneficiary_input(&nik, &kk, 2);
        input["fullName"] = json!(name);
        input["isHeadOfFamily"] = json!(false);
        (input, token.clone())
    };
    for name in ["Budi", "Citra", "Dewi", "Eko"] {
        let (input, token) = create(name);
        app.gql(&token, CREATE_BENEFICIARY, json!({ "input": input })).await;
    }
    let q = "query($after: String) { beneficiaries(first: 2, after: $after, orderBy: {field: FULL_NAME}) { pageInfo { endCursor hasNextPage } nodes { fullName } } }";
    let first = app.gql(&token, q, json!({})).await;
    assert_eq!(
        first["data"]["beneficiaries"]["nodes"],
        json!([{ "fullName": "Budi" }, { "fullName": "Citra" }])
    );
    let (input, token2) = create("Ani");
    app.gql(&token2, CREATE_BENEFICIARY, json!({ "input": input })).await;
    let cursor = first["data"]["beneficiaries"]["pageInfo"]["endCursor"].clone();
    let second = app.gql(&token, q, json!({ "after": cursor })).await;
    assert_eq!(
        second["data"]["beneficiaries"]["nodes"],
        json!([{ "fullName": "Dewi" }, { "fullName": "Eko" }]),
        "the page after Citra starts after Citra, whatever was inserted before it: {second}"
    );
}

#[tokio::test]
async fn paging_by_a_column_with_nulls_visits_every_row_once_in_both_directions() {
    let app = spawn_app().await;
    let person = app.beneficiary(2).await;
    for (i, started) in ["2025-03-01", "2025-01-01"].iter().enumerate() {
        let id = app.running_business(&person, started).await;
        let rename = "mutation($i: UpdateBusinessInput!) { updateBusiness(input: $i) { business { name } } }";
        app.gql(
            &app.admin(),
            rename,
            json!({ "i": { "id": id, "expectedVersion": 4, "name": format!("Running {i}") } }),
        )
        .await;
    }
    for name in ["Proposed A", "Proposed B", "Proposed C"] {
        let create = "mutation($i: CreateBusinessInput!) { createBusiness(input: $i) { business { id } } }";
        app.gql(
            &app.admin(),
            create,
            json!({ "i": { "beneficiaryId": person, "name": name, "sector": "FOOD" } }),
        )
        .await;
    }
    let q = "query($after: String, $d: OrderDirection) { businesses(first: 1, after: $after, orderBy: {field: STARTED_ON, direction: $d}) { pageInfo { endCursor hasNextPage } nodes { name } } }";
    let ascending = page_through(&app, q, json!({ "d": "ASC" }), "businesses").await;
    assert_eq!(&ascending[..2], ["Running 1", "Running 0"], "{ascending:?}");
    let descending = page_through(&app, q, json!({ "d": "DESC" }), "businesses").await;
    assert_eq!(&descending[..2], ["Running 0", "Running 1"], "{descending:?}");
    for names in [&ascending, &descending] {
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            ["Proposed A", "Proposed B", "Proposed C", "Running 0", "Running 1"],
            "each once: {names:?}"
        );
    }
}

#[tokio::test]
async fn total_count_is_counted_only_when_asked_for() {
    let app = spawn_app().await;
    app.beneficiary(2).await;
    let token = app.admin();
    // The fewest statements of three runs each: a revocation-cache refresh (every 2 s) may land in one.
    let cost = |query: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            let mut fewest = u64::MAX;
            let mut body = json!(null);
            for _ in 0..3 {
                let before = app.statements().await;
                body = app.gql(&token, query, json!({})).await;
                fewest = fewest.min(app.statements().await - before);
            }
            (fewest, body)
        }
    };
    let (without, _) = cost("{ beneficiaries(first: 5) { nodes { id } } }").await;
    let (with, body) = cost("{ beneficiaries(first: 5) { totalCount nodes { id } } }").await;
    assert_eq!(body["data"]["beneficiaries"]["totalCount"], 1);
    assert_eq!(with, without + 1, "one COUNT statement, and only when totalCount is selected");
}

#[tokio::test]
async fn an_update_keeps_absent_fields_and_clears_explicit_nulls() {
    let app = crate::helpers::spawn_app().await;
    let token = app.admin();
    let person = app.beneficiary(3).await;
    let update = "mutation($i: UpdateBeneficiaryInput!) { updateBeneficiary(input: $i) { beneficiary { phone address version } userErrors { code field } } }";
    let body = app
        .gql(&token, update, json!({ "i": { "id": person, "expectedVersion": 1, "phone": "081234567890", "address": "Jl. Pahlawan 1" } }))
        .await;
    let saved = &body["data"]["updateBeneficiary"]["beneficiary"];
    assert_eq!(
        (saved["phone"].as_str(), saved["address"].as_str()),
        (Some("081234567890"), Some("Jl. Pahlawan 1")),
        "{body}"
    );
    let body =
        app.gql(&token, update, json!({ "i": { "id": person, "expectedVersion": 2, "phone": null } })).await;
    let saved = &body["data"]["updateBeneficiary"]["beneficiary"];
    assert!(saved["phone"].is_null(), "an explicit null clears: {body}");
    assert_eq!(saved["address"], "Jl. Pahlawan 1", "an absent field stays: {body}");

    let business = app.equipped_business(&person).await;
    let update = "mutation($i: UpdateBusinessInput!) { updateBusiness(input: $i) { business { nib monthlyRevenue } userErrors { code } } }";
    let body = app
        .gql(&token, update, json!({ "i": { "id": business, "expectedVersion": 3, "nib": "1234567890123", "monthlyRevenue": 1500000 } }))
        .await;
    assert_eq!(body["data"]["updateBusiness"]["business"]["monthlyRevenue"], 1500000, "{body}");
    let body = app
        .gql(&token, update, json!({ "i": { "id": business, "expectedVersion": 4, "monthlyRevenue": null } }))
        .await;
    assert_eq!(
        body["data"]["updateBusiness"]["business"],
        json!({ "nib": "1234567890123", "monthlyRevenue": null }),
        "{body}"
    );
    let events = app
        .gql(
            &token,
            "query($id: UUID!) { caseEvents(filter: {entityId: $id}) { nodes { changedFields } } }",
            json!({ "id": business }),
        )
        .await;
    let last =
        events["data"]["caseEvents"]["nodes"].as_array().and_then(|n| n.last()).cloned().unwrap_or_default();
    assert_eq!(last["changedFields"], json!(["monthlyRevenue"]), "{events}");
}

#[tokio::test]
async fn a_mutation_reports_every_problem_of_its_input_with_the_path_to_each() {
    let app = crate::helpers::spawn_app().await;
    let (nik, kk) = app.identity();
    let mut input = beneficiary_input(&nik, &kk, 3);
    input["nik"] = json!("123");
    input["kkNumber"] = json!("456");
    input["decile"] = json!(11);
    input["fullName"] = json!(" ");
    let body = app.gql(&app.admin(), CREATE_BENEFICIARY, json!({ "input": input })).await;
    let errors = body["data"]["createBeneficiary"]["userErrors"].as_array().cloned().unwrap_or_default();
    let fields: Vec<serde_json::Value> = errors.iter().map(|e| e["field"].clone()).collect();
    for field in ["fullName", "nik", "kkNumber", "decile"] {
        assert!(fields.contains(&json!([field])), "{field} is reported: {body}");
    }
    assert!(errors.iter().all(|e| e["code"] == "VALIDATION"), "{body}");
    assert!(body["data"]["createBeneficiary"]["beneficiary"].is_null());
    assert_eq!(app.event_count().await, 0, "nothing was written");

    let person = app.beneficiary(3).await;
    let stale = "mutation($i: StatusChangeWithReasonInput!) { deactivateBeneficiary(input: $i) { userErrors { field code } } }";
    let body = app
        .gql(&app.admin(), stale, json!({ "i": { "id": person, "expectedVersion": 9, "reason": "Pindah" } }))
        .await;
    assert_eq!(
        body["data"]["deactivateBeneficiary"]["userErrors"],
        json!([{ "field": ["expectedVersion"], "code": "CONFLICT" }]),
        "{body}"
    );
}

#[tokio::test]
async fn equal_values_in_a_descending_sort_page_by_id_in_the_same_direction() {
    let app = spawn_app().await;
    let mut rows = Vec::new();
    for decile in [2, 1, 2, 1, 2] {
        rows.push((decile, app.beneficiary(decile).await));
    }
    // DECILE is NOT NULL: pages after a cursor by row comparison on (decile, id).
    let q = "query($after: String) { beneficiaries(first: 1, after: $after, orderBy: {field: DECILE, direction: DESC}) { pageInfo { endCursor hasNextPage } nodes { name: id } } }";
    let paged = page_through(&app, q, json!({}), "beneficiaries").await;
    let mut expected = rows.clone();
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    assert_eq!(paged, expected, "decile descending, then id descending, each row once");
    let whole = app.gql(&app.admin(), &q.replace("first: 1", "first: 10"), json!({})).await;
    let ids: Vec<String> = whole["data"]["beneficiaries"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids, expected, "one page holds the same order as many: {whole}");
}
