//! Tokens and scopes: every failure is `UNAUTHENTICATED` or `FORBIDDEN`; a refused token is told
//! why (missing, malformed, expired, revoked…) in an RFC 6750 challenge, and nothing more.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;
use sinergi_api::{
    auth::{TokenKeys, TokenRequest, parse_scopes, refusal},
    config::Secret,
};

use crate::helpers::{CREATE_BUSINESS, error_code, spawn_app};

const ME: &str = "{ me { agency client scopes regions tokenId } }";

/// Status, `WWW-Authenticate` and error message of `ME` sent with `token`.
async fn challenge(app: &crate::helpers::TestApp, token: Option<&str>) -> (u16, String, String) {
    let mut request = app.client.post(app.url("/graphql")).json(&json!({ "query": ME }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let header = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(error_code(&body).as_deref().unwrap_or("UNAUTHENTICATED"), "UNAUTHENTICATED", "{body}");
    (status, header, body["errors"][0]["message"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn request_without_token_is_unauthenticated() {
    let app = spawn_app().await;
    let (status, body) = app.post(None, ME, json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    assert!(body.get("data").is_none(), "refused before GraphQL: no data entry");
    let (_, header, message) = challenge(&app, None).await;
    assert_eq!(header, r#"Bearer realm="sinergi""#, "no error code without a token (RFC 6750 §3.1)");
    assert_eq!(message, refusal::MISSING);
}

#[tokio::test]
async fn forged_expired_and_malformed_tokens_are_unauthenticated() {
    let app = spawn_app().await;
    let request = |ttl_hours: i64| TokenRequest {
        agency: "DINSOS".into(),
        client: "t".into(),
        scopes: parse_scopes("beneficiary:read").unwrap_or_default(),
        regions: vec!["64".into()],
        ttl: chrono::Duration::hours(ttl_hours),
        volunteer: None,
    };
    let other_key = TokenKeys::hs256(
        &Secret::new("another-secret-of-sufficient-length-123"),
        "test-1",
        "sinergi",
        "sinergi-api",
    )
    .expect("keys");
    let wrong_issuer =
        TokenKeys::hs256(&Secret::new(crate::helpers::TEST_SECRET), "test-1", "elsewhere", "sinergi-api")
            .expect("keys");
    let wrong_kid =
        TokenKeys::hs256(&Secret::new(crate::helpers::TEST_SECRET), "old-key", "sinergi", "sinergi-api")
            .expect("keys");
    let good = app.token_with(request(1));
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(&parts[1]).expect("b64")).expect("utf8");
    parts[1] = URL_SAFE_NO_PAD.encode(payload.replace("beneficiary:read", "admin"));
    let tampered = parts.join(".");
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"test-1"}"#);
    let alg_none = format!("{none_header}.{}.", good.split('.').nth(1).unwrap_or_default());

    // Which claim failed is told only of a token whose signature holds: a forged expired token
    // is "not valid", not "expired".
    let forged_expired = other_key.issue(&request(-2)).expect("issue").0;
    let cases = [
        ("bad signature", other_key.issue(&request(1)).expect("issue").0, refusal::INVALID),
        ("forged and expired", forged_expired, refusal::INVALID),
        ("expired", app.token_with(request(-2)), refusal::EXPIRED),
        ("wrong issuer", wrong_issuer.issue(&request(1)).expect("issue").0, refusal::INVALID),
        ("unknown kid", wrong_kid.issue(&request(1)).expect("issue").0, refusal::INVALID),
        ("tampered payload", tampered, refusal::INVALID),
        ("alg none (not an algorithm jsonwebtoken knows)", alg_none, refusal::MALFORMED),
        ("garbage", "not-a-token".to_owned(), refusal::MALFORMED),
        ("oversized", "a".repeat(100_000), refusal::MALFORMED),
    ];
    for (name, token, why) in cases {
        let (status, header, message) = challenge(&app, Some(&token)).await;
        assert_eq!(status, 401, "{name}");
        assert_eq!(message, why, "{name}");
        assert_eq!(
            header,
            format!(r#"Bearer realm="sinergi", error="invalid_token", error_description="{why}""#),
            "{name}"
        );
    }
    // A revoked token says so.
    let revoked = app.token_with(request(1));
    let me = app.gql(&revoked, ME, json!({})).await;
    let id = me["data"]["me"]["tokenId"].as_str().expect("token id").to_owned();
    let body = app
        .gql(
            &app.admin(),
            "mutation($id: String!) { revokeToken(input: { tokenId: $id }) { revokedAt } }",
            json!({ "id": id }),
        )
        .await;
    assert!(body["data"]["revokeToken"]["revokedAt"].is_string(), "{body}");
    let (status, _, message) = challenge(&app, Some(&revoked)).await;
    assert_eq!((status, message.as_str()), (401, refusal::REVOKED));
    let (status, _) = app.post(Some(&good), ME, json!({})).await;
    assert_eq!(status, 200, "the untampered token still works");
}

#[tokio::test]
async fn me_tells_the_caller_its_agency_scopes_and_regions() {
    let app = spawn_app().await;
    let token = app.token("PUPR", "infrastructure:read infrastructure:write", &["6401", "6472"]);
    let body = app.gql(&token, ME, json!({})).await;
    assert_eq!(body["data"]["me"]["agency"], "PUPR");
    assert_eq!(body["data"]["me"]["scopes"], json!(["infrastructure:read", "infrastructure:write"]));
    assert_eq!(body["data"]["me"]["regions"], json!(["6401", "6472"]));
}

#[tokio::test]
async fn a_query_without_its_scope_is_forbidden() {
    let app = spawn_app().await;
    let token = app.token("PUPR", "infrastructure:read", &["64"]);
    for query in [
        "{ beneficiaries { totalCount } }",
        "{ businesses { totalCount } }",
        "{ loanApplications { totalCount } }",
        "{ trainings { totalCount } }",
        "{ referrals { totalCount } }",
        "{ monitoringVisits { totalCount } }",
        "{ assistances { totalCount } }",
        "{ caseEvents { totalCount } }",
    ] {
        let body = app.gql(&token, query, json!({})).await;
        assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{query}: {body}");
    }
    let body = app.gql(&token, "{ infrastructureRequests { totalCount } }", json!({})).await;
    assert_eq!(body["data"]["infrastructureRequests"]["totalCount"], 0, "{body}");
}

#[tokio::test]
async fn a_mutation_without_its_scope_is_forbidden_and_writes_nothing() {
    let app = spawn_app().await;
    let person = app.beneficiary(3).await;
    let events = app.event_count().await;
    let token = app.token("DINSOS", "business:read beneficiary:read", &["64"]);
    let body = app
        .gql(
            &token,
            CREATE_BUSINESS,
            json!({ "input": { "beneficiaryId": person, "name": "Warung", "sector": "FOOD" } }),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn a_nested_relation_needs_its_own_scope() {
    let app = spawn_app().await;
    let person = app.beneficiary(3).await;
    let token = app.token("BAPPEDA", "beneficiary:read", &["64"]);
    let body = app
        .gql(
            &token,
            "query($id: UUID!) { beneficiary(id: $id) { fullName businesses { name } } }",
            json!({ "id": person }),
        )
        .await;
    assert_eq!(
        body["data"]["beneficiary"]["fullName"], "Budi Santoso",
        "the rest of the query still answers: {body}"
    );
    assert!(body["data"]["beneficiary"]["businesses"].is_null(), "{body}");
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));
    assert_eq!(body["errors"][0]["path"], json!(["beneficiary", "businesses"]));
}

#[tokio::test]
async fn personal_data_is_masked_without_pii_read_and_cannot_be_searched() {
    let app = spawn_app().await;
    let person = app.beneficiary(3).await;
    let query = "query($id: UUID!) { beneficiary(id: $id) { nik kkNumber phone address birthDate } }";
    let plain = app.token("BAPPEDA", "beneficiary:read", &["64"]);
    let body = app.gql(&plain, query, json!({ "id": person })).await;
    let b = &body["data"]["beneficiary"];
    assert_eq!(b["nik"], "6472**********01", "{body}");
    assert_eq!(b["kkNumber"], "6472**********01");
    assert_eq!(b["phone"], "0812******90");
    assert_eq!(b["address"], "***");
    assert!(b["birthDate"].is_null());
    let body = app
        .gql(&plain, "{ beneficiaries(filter: {nik: \"6472011502900001\"}) { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"));

    let pii = app.token("DINSOS", "beneficiary:read pii:read", &["64"]);
    let body = app.gql(&pii, query, json!({ "id": person })).await;
    assert_eq!(body["data"]["beneficiary"]["nik"], "6472011502900001");
    assert_eq!(body["data"]["beneficiary"]["birthDate"], "1990-02-15");
}

#[tokio::test]
async fn a_record_outside_the_tokens_regions_is_not_found() {
    let app = spawn_app().await;
    let person = app.beneficiary(3).await;
    let paser = app.token("DINSOS", "beneficiary:read", &["6401"]);
    let body =
        app.gql(&paser, "query($id: UUID!) { beneficiary(id: $id) { id } }", json!({ "id": person })).await;
    assert_eq!(error_code(&body).as_deref(), Some("NOT_FOUND"), "{body}");
    let body = app.gql(&paser, "{ beneficiaries { totalCount } }", json!({})).await;
    assert_eq!(body["data"]["beneficiaries"]["totalCount"], 0);
}

#[tokio::test]
async fn every_unmasked_read_is_logged_with_its_purpose_and_the_log_is_read_only() {
    let app = spawn_app().await;
    let person = app.beneficiary(3).await;
    let query = format!("query CaseReview {{ beneficiary(id: \"{person}\") {{ nik phone fullName }} }}");
    let officer = app.token("DINSOS", "beneficiary:read pii:read", &["6472"]);
    let body = app.gql_with(&officer, "CaseReview", &query, &[("X-Purpose", "referral-followup")]).await;
    assert_eq!(body["data"]["beneficiary"]["nik"], "6472011502900001", "{body}");
    let analyst = app.token("BAPPEDA", "beneficiary:read", &["64"]);
    app.gql_with(&analyst, "CaseReview", &query, &[]).await;

    let log = "query($id: UUID) { piiAccessLog(filter: {beneficiaryId: $id}) { totalCount nodes { fields actorAgency operation purpose tokenId } } }";
    let body = app.gql(&app.admin(), log, json!({ "id": person })).await;
    let entries = &body["data"]["piiAccessLog"];
    // The set-up's createBeneficiary payload (read by the admin) is one entry; the masked
    // BAPPEDA read is none.
    let reads: Vec<_> = entries["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n["operation"] == "CaseReview")
        .collect();
    assert_eq!(reads.len(), 1, "{body}");
    assert_eq!(reads[0]["fields"], json!(["nik", "phone"]));
    assert_eq!(reads[0]["actorAgency"], "DINSOS");
    assert_eq!(reads[0]["purpose"], "referral-followup");

    let body = app.gql(&officer, log, json!({ "id": person })).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "only admin reads the log");
    let body = app.gql(&app.admin(), "{ __schema { mutationType { fields { name } } } }", json!({})).await;
    let names = body["data"]["__schema"]["mutationType"]["fields"].to_string().to_lowercase();
    assert!(!names.contains("pii") && !names.contains("accesslog"), "no mutation touches the log");
}

#[tokio::test]
async fn a_revoked_token_is_refused() {
    let app = spawn_app().await;
    let token = app.token("PUPR", "infrastructure:read", &["64"]);
    let body = app.gql(&token, ME, json!({})).await;
    let jti = body["data"]["me"]["tokenId"].as_str().expect("jti").to_owned();
    let revoke = "mutation($i: RevokeTokenInput!) { revokeToken(input: $i) { tokenId revokedAt } }";
    let body = app.gql(&token, revoke, json!({ "i": { "tokenId": jti } })).await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "revoking needs admin: {body}");
    let body =
        app.gql(&app.admin(), revoke, json!({ "i": { "tokenId": jti, "reason": "laptop lost" } })).await;
    assert_eq!(body["data"]["revokeToken"]["tokenId"], jti.as_str(), "{body}");
    let (status, body) = app.post(Some(&token), ME, json!({})).await;
    assert_eq!((status, error_code(&body).as_deref()), (401, Some("UNAUTHENTICATED")));
}

#[tokio::test]
async fn a_revocation_written_by_another_replica_is_honoured_within_seconds() {
    let app = spawn_app().await;
    let token = app.token("PUPR", "infrastructure:read", &["64"]);
    let body = app.gql(&token, ME, json!({})).await;
    let jti = body["data"]["me"]["tokenId"].as_str().expect("jti").to_owned();
    // Another replica's revocation reaches this one only through the shared database.
    sinergi_api::revocation::Revocations::default()
        .revoke(&app.db, &jti, "replica-b", None)
        .await
        .expect("revoke");
    let deadline = std::time::Instant::now() + sinergi_api::revocation::REFRESH * 3;
    loop {
        let (status, _) = app.post(Some(&token), ME, json!({})).await;
        if status == 401 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still accepted after {:?}",
            sinergi_api::revocation::REFRESH * 3
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_command_line_revokes_only_a_token_id_it_issued_unless_forced() {
    use sinergi_api::revocation::{CliRevocation, Revocations, record_issued};
    let app = spawn_app().await;
    let request = TokenRequest {
        agency: "DINSOS".into(),
        client: "sikesra".into(),
        scopes: parse_scopes("beneficiary:read").unwrap_or_default(),
        regions: vec!["64".into()],
        ttl: chrono::Duration::hours(1),
        volunteer: None,
    };
    let (token, claims) = app.keys.issue(&request).expect("issue");
    record_issued(&app.db, &claims, app.keys.signing_key().0).await.expect("recorded");
    let revocations = Revocations::default();
    let typo = format!("{}x", claims.jti);
    assert_eq!(
        revocations.revoke_from_cli(&app.db, &typo, false, None).await.expect("db"),
        CliRevocation::Unknown
    );
    assert_eq!(challenge(&app, Some(&token)).await.0, 200, "a mistyped id revokes nothing");
    let revoked = revocations.revoke_from_cli(&app.db, &claims.jti, false, Some("lost laptop".into())).await;
    assert_eq!(
        revoked.expect("db"),
        CliRevocation::Revoked { issued_to: Some(("DINSOS".into(), "sikesra".into())) }
    );
    let again = revocations.revoke_from_cli(&app.db, &claims.jti, false, None).await.expect("db");
    assert!(matches!(again, CliRevocation::AlreadyRevoked(_)), "{again:?}");
    // The gateway's own cache refreshes within two seconds; this one is new, so read it now.
    let (status, _, message) = challenge(&app, Some(&token)).await;
    let refused_now = status == 401 && message == refusal::REVOKED;
    if !refused_now {
        tokio::time::sleep(sinergi_api::revocation::REFRESH + std::time::Duration::from_millis(500)).await;
        let (status, _, message) = challenge(&app, Some(&token)).await;
        assert_eq!((status, message.as_str()), (401, refusal::REVOKED));
    }
    let forced = revocations.revoke_from_cli(&app.db, "sso-token-1", true, None).await.expect("db");
    assert_eq!(forced, CliRevocation::Revoked { issued_to: None }, "an external token's id, with --force");
}
