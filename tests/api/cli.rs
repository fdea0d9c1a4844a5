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
