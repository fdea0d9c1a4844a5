//! The front ends the gateway serves (`/dashboard`): the page and its assets as a browser gets
//! them, and — ignored by default, run by `.ci/run` — the browser tests in `web/e2e`, in
//! Debian's headless Chromium against a running gateway with demo data.

use std::{path::Path, process::Command};

use crate::helpers::{
    binary_token_for, fresh_database, policy_file, sinergi_binary, spawn_app, start_gateway,
};

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

    // The field app: its page under /lapangan/ (its service worker's scope), the worker allowed
    // to fetch from here only, the manifest that makes it installable.
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let moved = client.get(format!("http://{}/lapangan", app.addr)).send().await.expect("get");
    assert_eq!(moved.status(), 308);
    assert_eq!(moved.headers()["location"], "/lapangan/");
    let page = client.get(format!("http://{}/lapangan/", app.addr)).send().await.expect("page");
    assert_eq!(page.status(), 200);
    assert!(
        page.text().await.expect("html").contains("rel=\"manifest\" href=\"/lapangan/manifest.webmanifest\"")
    );
    let worker = client.get(format!("http://{}/lapangan/sw.js", app.addr)).send().await.expect("sw");
    assert_eq!(worker.status(), 200);
    assert_eq!(worker.headers()["content-security-policy"], "default-src 'none'; connect-src 'self'");
    assert_eq!(worker.headers()["cache-control"], "no-cache");
    let manifest: serde_json::Value = client
        .get(format!("http://{}/lapangan/manifest.webmanifest", app.addr))
        .send()
        .await
        .expect("manifest")
        .json()
        .await
        .expect("json");
    assert_eq!(manifest["start_url"], "/lapangan/");
    assert_eq!(manifest["display"], "standalone");

    for missing in [
        "/ui/assets/nothing.js",
        "/ui/assets/..%2Fdashboard%2Findex.html",
        "/ui/assets/x.html",
        "/lapangan/index.html",
        "/lapangan/..%2Fpersisted-documents.json",
    ] {
        let response = app.client.get(format!("http://{}{missing}", app.addr)).send().await.expect("get");
        assert_eq!(response.status(), 404, "{missing}");
    }
}

const SECRET: &str = "a-shared-secret-of-at-least-thirty-two-bytes";

fn web() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// A fresh gateway with demo data for a browser test. BAPPEDA's `dashboard` client runs only the
/// registered documents of the front ends' build (trusted documents), so the region-bounded
/// token of the dashboard test proves the build's document ids.
struct Browsed {
    gateway: crate::helpers::Process,
    _database: Option<tempfile::TempDir>,
    _folder: tempfile::TempDir,
}

async fn gateway_for_browser() -> Browsed {
    let (url, database) = fresh_database().await;
    let folder = tempfile::tempdir().expect("folder");
    let policy =
        policy_file(folder.path(), "[agencies.BAPPEDA.clients.dashboard]\ntrusted_documents = true\n");
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
    Browsed { gateway: start_gateway(&env), _database: database, _folder: folder }
}

/// `node web/e2e/<script>` with `env`; screenshots to docs/screenshots.
fn run_node(script: &str, browsed: &Browsed, env: &[(&str, String)]) {
    let output = Command::new("node")
        .arg(format!("e2e/{script}"))
        .current_dir(web())
        .env("SINERGI_URL", format!("http://{}", browsed.gateway.addr))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
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
    let browsed = gateway_for_browser().await;
    let env = [
        (
            "SINERGI_TOKEN",
            binary_token_for(
                SECRET,
                "DINSOS",
                "dashboard",
                "stats:read pii:read business:read",
                &["64"],
                None,
            ),
        ),
        (
            "SINERGI_REGION_TOKEN",
            binary_token_for(SECRET, "BAPPEDA", "dashboard", "stats:read business:read", &["6472"], None),
        ),
    ];
    run_node("dashboard.mjs", &browsed, &env);
}

#[tokio::test]
#[ignore = "needs the built `sinergi` binary, Node.js 20+, `npm ci` in web/ and Debian's chromium"]
async fn the_field_app_works_offline_in_a_browser() {
    let browsed = gateway_for_browser().await;
    let admin = binary_token_for(
        SECRET,
        "DINSOS",
        "field-test",
        "business:read monitoring:read events:subscribe",
        &["64"],
        None,
    );
    // A volunteer of the demo data with at least two businesses to visit.
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{}/graphql", browsed.gateway.addr))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "query": "{ volunteers(first: 100, filter: { statuses: [ACTIVE] }) { nodes { id regencyCode businesses { id status } } } }" }))
        .send()
        .await
        .expect("volunteers")
        .json()
        .await
        .expect("json");
    let volunteer = body["data"]["volunteers"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| {
            let visitable =
                |b: &&serde_json::Value| matches!(b["status"].as_str(), Some("RUNNING" | "EQUIPPED"));
            v["businesses"].as_array().is_some_and(|b| b.iter().filter(visitable).count() >= 2)
        })
        .unwrap_or_else(|| panic!("the demo data has a volunteer with businesses: {body}"));
    let (id, regency) =
        (volunteer["id"].as_str().expect("id"), volunteer["regencyCode"].as_str().expect("regency"));
    let field = binary_token_for(
        SECRET,
        "RELAWAN",
        "lapangan",
        "beneficiary:read business:read monitoring:read monitoring:write pii:read",
        &[regency],
        Some(id.parse().expect("a UUID")),
    );
    let env =
        [("SINERGI_TOKEN", admin), ("SINERGI_FIELD_TOKEN", field), ("SINERGI_VOLUNTEER", id.to_owned())];
    run_node("lapangan.mjs", &browsed, &env);
}
