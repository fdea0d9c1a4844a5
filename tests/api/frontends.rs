//! The front ends the gateway serves (`/dashboard`): the page and its assets as a browser gets
//! them, and — ignored by default, run by `.ci/run` — the browser tests in `web/e2e`, in
//! Debian's headless Chromium against a running gateway with demo data.

use std::{path::Path, process::Command};

use crate::helpers::{binary_token_for, fresh_database, sinergi_binary, spawn_app, start_gateway};

#[tokio::test]
async fn the_dashboard_is_served_with_its_assets_and_a_strict_policy() {
    let app = spawn_app().await;
    let page = app.client.get(format!("http://{}/dashboard", app.addr)).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let header = |name: &str| page.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    assert_eq!(header("cache-control"), "no-cache");
    let policy = header("content-security-policy");
    assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    let html = page.text().await.expect("html");
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page loads a script")
        .to_owned();
    assert!(script.starts_with("/ui/assets/dashboard-") && script.ends_with(".js"), "{script}");

    let asset = app.client.get(format!("http://{}{script}", app.addr)).send().await.expect("script");
    assert_eq!(asset.status(), 200);
    let header =
        |name: &str| asset.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(header("content-type"), "text/javascript");
    assert_eq!(header("cache-control"), "public, max-age=31536000, immutable");
    assert!(asset.text().await.expect("js").contains("programmeStatistics"));

    for missing in ["/ui/assets/nothing.js", "/ui/assets/..%2Fdashboard%2Findex.html", "/ui/assets/x.html"] {
        let response = app.client.get(format!("http://{}{missing}", app.addr)).send().await.expect("get");
        assert_eq!(response.status(), 404, "{missing}");
    }
}

const SECRET: &str = "a-shared-secret-of-at-least-thirty-two-bytes";

fn web() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// `node web/e2e/<script>` against a fresh gateway with demo data; screenshots to docs/screenshots.
/// BAPPEDA's `dashboard` client runs only the registered documents of the front ends' build
/// (trusted documents), so the region-bounded token proves the build's document ids.
async fn run_browser_test(script: &str) {
    let (url, _dir) = fresh_database().await;
    let folder = tempfile::tempdir().expect("folder");
    let policy = folder.path().join("policy.toml");
    let text = format!(
        "{}\n[agencies.BAPPEDA.clients.dashboard]\ntrusted_documents = true\n",
        sinergi_api::policy::DEFAULT_POLICY
    );
    std::fs::write(&policy, text).expect("policy");
    let policy = policy.display().to_string();
    let env =
        [("DATABASE_URL", url.as_str()), ("SINERGI_JWT_SECRET", SECRET), ("SINERGI_POLICY", policy.as_str())];
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("api/assets/ui/persisted-documents.json");
    let registered = Command::new(sinergi_binary())
        .current_dir(std::env::temp_dir())
        .envs(env)
        .args(["documents", "register", "--agency", "BAPPEDA", "--client", "dashboard"])
        .arg(&manifest)
        .output()
        .expect("run sinergi documents register");
    assert!(registered.status.success(), "{registered:?}");
    let gateway = start_gateway(&env);
    let output = Command::new("node")
        .arg(format!("e2e/{script}"))
        .current_dir(web())
        .env("SINERGI_URL", format!("http://{}", gateway.addr))
        .env(
            "SINERGI_TOKEN",
            binary_token_for(SECRET, "DINSOS", "dashboard", "stats:read pii:read business:read", &["64"]),
        )
        .env(
            "SINERGI_REGION_TOKEN",
            binary_token_for(SECRET, "BAPPEDA", "dashboard", "stats:read business:read", &["6472"]),
        )
        .env("SCREENSHOTS", Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots"))
        .output()
        .expect("run node");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(printed.contains(": ok"), "{printed}");
}

#[tokio::test]
#[ignore = "needs the built `sinergi` binary, Node.js 20+, `npm ci` in web/ and Debian's chromium"]
async fn the_dashboard_works_in_a_browser() {
    run_browser_test("dashboard.mjs").await;
}
