//! The `sinergi` command line against the server it configures. Ignored by default — it needs
//! the built binary; `.ci/run` runs every ignored test.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{fresh_database, sinergi_binary, start_gateway};

#[tokio::test]
#[ignore = "needs the built `sinergi` binary: cargo build -p sinergi-api && cargo test --test api cli -- --ignored"]
async fn a_token_the_command_line_issues_works_on_the_server_and_is_revoked_by_its_id() {
    let (url, _dir) = fresh_database().await;
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("SINERGI_JWT_SECRET", "a-shared-secret-of-at-least-thirty-two-bytes"),
        ("SINERGI_DEMO_DATA", "false"),
    ];
    let gateway = start_gateway(&env);
    let sinergi = |args: &[&str]| {
        std::process::Command::new(sinergi_binary())
            .current_dir(std::env::temp_dir())
            .envs(env)
            .env("RUST_LOG", "warn")
            .args(args)
            .output()
            .expect("run sinergi")
    };
    let issue =
        ["token", "issue", "--agency", "DINSOS", "--scope", "beneficiary:read", "--region", "64", "--ttl"];

    // A bare number is no lifetime.
    let bare = sinergi(&[&issue[..], &["8"]].concat());
    assert_eq!(bare.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bare.stderr).contains("has no unit"), "{bare:?}");

    // 1h30m works, says which key signed it, and the server accepts the token.
    let issued = sinergi(&[&issue[..], &["1h30m"]].concat());
    assert!(issued.status.success(), "{issued:?}");
    let told = String::from_utf8_lossy(&issued.stderr).into_owned();
    assert!(told.contains("signed with key `") && told.contains("(HS256)"), "{told}");
    let token = String::from_utf8_lossy(&issued.stdout).trim().to_owned();
    let line = told.lines().find(|l| l.starts_with("token ")).expect("the token's line");
    let jti = line.split_whitespace().nth(1).expect("the token's id").to_owned();
    let client = reqwest::Client::new();
    let me = |token: String| {
        let client = client.clone();
        let url = format!("http://{}/graphql", gateway.addr);
        async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": "{ me { agency tokenId } }" }))
                .send()
                .await
                .expect("request");
            (response.status().as_u16(), response.json::<Value>().await.expect("json"))
        }
    };
    let (status, body) = me(token.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["tokenId"], jti.as_str());

    // An id the gateway never issued is refused; the real one is revoked, on the server too.
    let unknown = sinergi(&["token", "revoke", "0190c0de-0000-7000-8000-000000000000"]);
    assert_eq!(unknown.status.code(), Some(1), "{unknown:?}");
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no token with id"));
    let revoked = sinergi(&["token", "revoke", &jti, "--reason", "test"]);
    assert!(revoked.status.success(), "{revoked:?}");
    assert!(String::from_utf8_lossy(&revoked.stdout).contains("(DINSOS / cli) revoked"));
    let again = sinergi(&["token", "revoke", &jti]);
    assert!(again.status.success() && String::from_utf8_lossy(&again.stdout).contains("already revoked"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = me(token.clone()).await;
        if status == 401 {
            assert_eq!(body["errors"][0]["message"], "the token was revoked");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the server still accepts the revoked token");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
#[ignore = "needs the built `sinergi` binary: cargo build -p sinergi-api && cargo test --test api cli -- --ignored"]
async fn documents_registered_from_a_codegen_manifest_are_all_a_trusted_client_runs() {
    let (url, dir) = fresh_database().await;
    let folder = tempfile::tempdir().expect("folder");
    let policy = crate::helpers::policy_file(
        folder.path(),
        "[agencies.DINSOS.clients.dashboard]\ntrusted_documents = true\n",
    );
    let me = "query Me { me { client } }";
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(me.as_bytes()));
    let manifest = folder.path().join("persisted-documents.json");
    std::fs::write(&manifest, json!({ hash.clone(): me }).to_string()).expect("manifest");
    let edited = folder.path().join("edited.json");
    std::fs::write(&edited, json!({ hash.clone(): "query Me { me { agency } }" }).to_string())
        .expect("edited");
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("SINERGI_JWT_SECRET", "a-shared-secret-of-at-least-thirty-two-bytes"),
        ("SINERGI_DEMO_DATA", "false"),
        ("SINERGI_POLICY", policy.as_str()),
    ];
    let sinergi = |args: &[&str]| {
        std::process::Command::new(sinergi_binary())
            .current_dir(std::env::temp_dir())
            .envs(env)
            .env("RUST_LOG", "warn")
            .args(args)
            .output()
            .expect("run sinergi")
    };
    let (manifest, edited) = (manifest.display().to_string(), edited.display().to_string());
    let register = ["documents", "register", "--agency", "DINSOS", "--client", "dashboard"];

    // A manifest edited after it was generated is refused, and with it the whole command.
    let refused = sinergi(&[&register[..], &[manifest.as_str(), edited.as_str()]].concat());
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not the document's SHA-256"), "{refused:?}");
    let listed = sinergi(&["documents", "list", "--agency", "DINSOS"]);
    assert!(String::from_utf8_lossy(&listed.stdout).trim().is_empty(), "nothing registered: {listed:?}");

    let registered = sinergi(&[&register[..], &[manifest.as_str()]].concat());
    assert!(registered.status.success(), "{registered:?}");
    let said = String::from_utf8_lossy(&registered.stdout);
    assert!(said.contains("1 document(s) registered for DINSOS/dashboard (trusted documents"), "{said}");
    let listed = sinergi(&["documents", "list", "--agency", "DINSOS", "--client", "dashboard"]);
    let line = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(line.starts_with(&format!("dashboard\t{hash}\tMe\t")), "{line}");

    let gateway = start_gateway(&env);
    let issued = sinergi(&[
        "token",
        "issue",
        "--agency",
        "DINSOS",
        "--client",
        "dashboard",
        "--scope",
        "beneficiary:read",
        "--region",
        "64",
    ]);
    let token = String::from_utf8_lossy(&issued.stdout).trim().to_owned();
    let client = reqwest::Client::new();
    let post = |body: Value| {
        let (client, token) = (client.clone(), token.clone());
        let url = format!("http://{}/graphql", gateway.addr);
        async move {
            let response = client.post(url).bearer_auth(token).json(&body).send().await.expect("post");
            response.json::<Value>().await.expect("json")
        }
    };
    let body = post(json!({ "documentId": hash })).await;
    assert_eq!(body["data"]["me"]["client"], "dashboard", "{body}");
    let body = post(json!({ "query": "{ me { agency } }" })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");

    let nothing = sinergi(&["documents", "remove", "--agency", "DINSOS", "--client", "dashboard"]);
    assert_eq!(nothing.status.code(), Some(1), "neither ids nor --all: {nothing:?}");
    let removed = sinergi(&["documents", "remove", "--agency", "DINSOS", "--client", "dashboard", "--all"]);
    assert!(String::from_utf8_lossy(&removed.stdout).contains("1 document(s) removed"), "{removed:?}");
    let body = post(json!({ "documentId": hash })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{body}");
    let unknown = sinergi(&["documents", "list", "--agency", "NOPE"]);
    assert_eq!(unknown.status.code(), Some(1), "{unknown:?}");
    drop(dir);
}
