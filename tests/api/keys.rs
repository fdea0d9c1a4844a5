//! Ed25519 keys: rotation without downtime, the published JWKS, and attacks on the algorithm.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use sinergi_api::{
    auth::{TokenKeys, TokenRequest, parse_scopes},
    keys::{KeySet, generate},
};

use crate::helpers::{error_code, spawn_app_with_keys};

const ME: &str = "{ me { agency } }";

fn request() -> TokenRequest {
    TokenRequest {
        agency: "DINSOS".into(),
        client: "sikesra".into(),
        scopes: parse_scopes("beneficiary:read").unwrap_or_default(),
        regions: vec!["64".into()],
        ttl: chrono::Duration::hours(1),
        volunteer: None,
    }
}

fn keys_from(dir: &std::path::Path, kid: &str) -> TokenKeys {
    TokenKeys::ed25519(&KeySet::load(dir).expect("load"), kid, "sinergi", "sinergi-api").expect("keys")
}

#[tokio::test]
async fn a_key_rotates_without_downtime_and_the_old_one_stops_after_removal() {
    let root = tempfile::tempdir().expect("dir");
    let (before, during, after) = (root.path().join("a"), root.path().join("b"), root.path().join("c"));
    generate(&before, "2026-05").expect("old key");
    generate(&after, "2026-11").expect("new key");
    std::fs::create_dir_all(&during).expect("dir");
    std::fs::copy(before.join("2026-05.pub"), during.join("2026-05.pub")).expect("copy");
    std::fs::copy(after.join("2026-11.key"), during.join("2026-11.key")).expect("copy");

    let old_token = keys_from(&before, "2026-05").issue(&request()).expect("issue").0;
    let overlap = spawn_app_with_keys(keys_from(&during, "2026-11")).await;
    let new_token = overlap.token("DINSOS", "beneficiary:read", &["64"]);
    for token in [&old_token, &new_token] {
        let (status, body) = overlap.post(Some(token), ME, json!({})).await;
        assert_eq!(status, 200, "both keys verify during the overlap: {body}");
    }
    let jwks: serde_json::Value = overlap
        .client
        .get(overlap.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let kids: Vec<&str> =
        jwks["keys"].as_array().into_iter().flatten().filter_map(|k| k["kid"].as_str()).collect();
    assert_eq!(kids, ["2026-05", "2026-11"]);
    assert!(
        jwks["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|k| k["kty"] == "OKP" && k["alg"] == "EdDSA" && k.get("d").is_none())
    );

    let later = spawn_app_with_keys(keys_from(&after, "2026-11")).await;
    let (status, body) = later.post(Some(&old_token), ME, json!({})).await;
    assert_eq!(
        (status, error_code(&body).as_deref()),
        (401, Some("UNAUTHENTICATED")),
        "the removed key no longer verifies"
    );
    let (status, _) = later.post(Some(&new_token), ME, json!({})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn algorithm_and_claim_attacks_on_ed25519_tokens_are_refused() {
    let dir = tempfile::tempdir().expect("dir");
    generate(dir.path(), "k1").expect("key");
    let app = spawn_app_with_keys(keys_from(dir.path(), "k1")).await;
    let good = app.token("DINSOS", "beneficiary:read", &["64"]);
    let claims: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD.decode(good.split('.').nth(1).unwrap_or_default()).expect("b64"),
    )
    .expect("claims");
    let private = std::fs::read(dir.path().join("k1.key")).expect("private key");
    let public = std::fs::read(dir.path().join("k1.pub")).expect("public key");
    let sign = |alg: Algorithm, key: &EncodingKey, claims: &serde_json::Value| {
        let mut header = Header::new(alg);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, claims, key).expect("encode")
    };
    let ed = EncodingKey::from_ed_pem(&private).expect("ed key");
    let now = chrono::Utc::now().timestamp();
    let mut not_yet = claims.clone();
    not_yet["nbf"] = json!(now + 3600);
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("another-api");
    let mut expired = claims.clone();
    expired["exp"] = json!(now - 3600);
    let cases = [
        (
            "HS256 signed with the public key",
            sign(Algorithm::HS256, &EncodingKey::from_secret(&public).expect("hmac"), &claims),
        ),
        ("not yet valid", sign(Algorithm::EdDSA, &ed, &not_yet)),
        ("wrong audience", sign(Algorithm::EdDSA, &ed, &wrong_aud)),
        ("expired", sign(Algorithm::EdDSA, &ed, &expired)),
        ("48 KiB token", format!("{}{}", good, "A".repeat(48 << 10))),
    ];
    for (name, token) in cases {
        let (status, body) = app.post(Some(&token), ME, json!({})).await;
        assert_eq!(status, 401, "{name}");
        assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"), "{name}: {body}");
    }
    // A head beyond 64 KiB is refused by the transport before anything reads it.
    let huge = format!("{}{}", good, "A".repeat(1 << 20));
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(huge)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 431, "a 1 MB token is refused with 431");
    let (status, _) = app.post(Some(&sign(Algorithm::EdDSA, &ed, &claims)), ME, json!({})).await;
    assert_eq!(status, 200, "the same claims, properly signed, work");
}

#[tokio::test]
async fn an_agencys_sso_tokens_are_mapped_to_agency_scopes_and_regions() {
    let dir = tempfile::tempdir().expect("dir");
    let idp_key = generate(dir.path(), "sso-1").expect("idp key");
    let jwks = json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": idp_key.x(), "kid": "sso-1", "alg": "EdDSA", "use": "sig" }] });
    let mapping = sinergi_api::auth::ClaimMapping {
        agency: "opd".into(),
        scope: "roles".into(),
        regions: "wilayah".into(),
    };
    let idp = sinergi_api::auth::ExternalIdp::from_jwks(
        &jwks.to_string(),
        "https://sso.kaltimprov.go.id",
        "sinergi-api",
        mapping,
        std::sync::Arc::new(sinergi_api::policy::Policy::default_policy()),
    )
    .expect("idp");
    let own = TokenKeys::hs256(
        &sinergi_api::config::Secret::new(crate::helpers::TEST_SECRET),
        "test-1",
        "sinergi",
        "sinergi-api",
    )
    .expect("keys")
    .with_external(idp);
    let app = spawn_app_with_keys(own).await;
    let sso =
        EncodingKey::from_ed_pem(&std::fs::read(dir.path().join("sso-1.key")).expect("key")).expect("ed");
    let now = chrono::Utc::now().timestamp();
    let sign = |claims: serde_json::Value| {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("sso-1".into());
        jsonwebtoken::encode(&header, &claims, &sso).expect("encode")
    };
    let claims = json!({ "iss": "https://sso.kaltimprov.go.id", "aud": "sinergi-api", "sub": "budi@pupr", "jti": "sso-jti-1",
        "opd": "PUPR", "roles": "infrastructure:read admin email", "wilayah": ["6401"], "exp": now + 600, "iat": now, "nbf": now });
    let body =
        app.gql(&sign(claims.clone()), "{ me { agency client scopes regions tokenId } }", json!({})).await;
    assert_eq!(
        body["data"]["me"],
        json!({ "agency": "PUPR", "client": "budi@pupr", "scopes": ["infrastructure:read"], "regions": ["6401"], "tokenId": "sso-jti-1" }),
        "admin is beyond PUPR's grant and email is not a Sinergi scope: {body}"
    );
    let mut other_issuer = claims.clone();
    other_issuer["iss"] = json!("https://evil.example");
    let mut bad_region = claims.clone();
    bad_region["wilayah"] = json!(["3171"]);
    let mut unknown_agency = claims;
    unknown_agency["opd"] = json!("DINKES");
    for (name, token) in
        [("issuer", sign(other_issuer)), ("region", sign(bad_region)), ("agency", sign(unknown_agency))]
    {
        let (status, _) = app.post(Some(&token), ME, json!({})).await;
        assert_eq!(status, 401, "{name}");
    }
}
