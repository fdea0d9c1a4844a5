//! The client examples in docs/examples/clients, run as saved against a running gateway: each
//! queries, pages, registers and updates with `expectedVersion` (a stale one is `CONFLICT`) and
//! follows the case over the WebSocket. Ignored by default — they need the built `sinergi`
//! binary and each language's toolchain; `.ci/run` installs what they need and runs them.

use std::{path::Path, process::Command};

use crate::helpers::{fresh_database, start_gateway};

const SECRET: &str = "a-shared-secret-of-at-least-thirty-two-bytes";

fn token() -> String {
    crate::helpers::binary_token(
        SECRET,
        "example",
        "beneficiary:read beneficiary:write pii:read events:subscribe",
    )
}

/// Runs `command` against a fresh gateway with demo data and checks what it printed.
async fn run_example(mut command: Command) {
    let (url, _dir) = fresh_database().await;
    let gateway = start_gateway(&[("DATABASE_URL", url.as_str()), ("SINERGI_JWT_SECRET", SECRET)]);
    let output = command
        .env("SINERGI_URL", format!("http://{}", gateway.addr))
        .env("SINERGI_TOKEN", token())
        .output()
        .expect("run the example");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(printed.contains("signed in as DINSOS/example"), "{printed}");
    assert!(printed.contains("paged 6 of "), "three pages of two: {printed}");
    assert!(printed.contains("updated to version 2; a stale update is CONFLICT"), "{printed}");
    let events: Vec<&str> = printed.lines().filter(|l| l.starts_with("event ")).collect();
    assert_eq!(events.len(), 2, "{printed}");
    assert!(
        events[0].contains(" CREATED BENEFICIARY ") && events[1].contains(" UPDATED BENEFICIARY "),
        "{printed}"
    );
    assert!(printed.contains("followed the case to sequence "), "{printed}");
}

fn example(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/clients").join(path)
}

#[tokio::test]
#[ignore = "needs the built `sinergi` binary and python3 with websockets (docs/examples/clients/python/requirements.txt)"]
async fn the_python_client_example_runs_as_saved() {
    let mut command = Command::new("python3");
    command.arg(example("python/sinergi_client.py"));
    run_example(command).await;
}

#[tokio::test]
#[ignore = "needs the built `sinergi` binary and a Java 17+ runtime (`java File.java`)"]
async fn the_java_client_example_runs_as_saved() {
    let mut command = Command::new("java");
    command.arg(example("java/SinergiClient.java"));
    run_example(command).await;
}

#[tokio::test]
#[ignore = "needs the built `sinergi` binary and PHP 8.1+ (`php`)"]
async fn the_php_client_example_runs_as_saved() {
    let mut command = Command::new("php");
    command.arg(example("php/sinergi_client.php"));
    run_example(command).await;
}

/// The Node.js example of docs/integrators.md, saved as `docs/examples/clients/node` (run `npm
/// ci` there first, as `.ci/run` does): it follows the case events from a cursor.
#[tokio::test]
#[ignore = "needs the built `sinergi` binary, Node.js 20+ and `npm ci` in docs/examples/clients/node"]
async fn the_node_subscription_example_runs_as_saved() {
    let (url, _dir) = fresh_database().await;
    let gateway = start_gateway(&[("DATABASE_URL", url.as_str()), ("SINERGI_JWT_SECRET", SECRET)]);
    let output = Command::new("node")
        .arg("follow.mjs")
        .current_dir(example("node"))
        .env("SINERGI_URL", format!("http://{}", gateway.addr))
        .env("TOKEN", token())
        .env("LAST_SEQUENCE", "0")
        .env("STOP_AFTER", "3")
        .output()
        .expect("run node");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    let events: Vec<serde_json::Value> =
        printed.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    assert_eq!(events.len(), 3, "{printed}");
    // The token reads beneficiaries only: the demo data's first beneficiary events, in order.
    assert!(events.iter().all(|e| e["entityType"] == "BENEFICIARY"), "{printed}");
    let sequences: Vec<i64> =
        events.iter().filter_map(|e| e["sequence"].as_str().and_then(|s| s.parse().ok())).collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{printed}");
    let last = sequences.last().expect("a sequence");
    assert!(printed.contains(&format!("stopped after 3 events; resume with after = {last}")), "{printed}");
}
