//! A database outage: while PostgreSQL is down `/readyz` answers 503 within a second or two and
//! requests get a clean `UNAVAILABLE` at once; when it returns the gateway serves again by
//! itself — no restart, no committed write lost, the event feed following again. The test runs
//! a PostgreSQL of its own (initdb into a temporary folder, its own port, as the `postgres`
//! user when run as root, as CI does), stops it and starts it again. Ignored by default — it
//! needs PostgreSQL's server binaries and the built `sinergi` binary; `.ci/run` runs it.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::{
    helpers::{CREATE_BENEFICIARY, beneficiary_input, sinergi_binary, start_gateway},
    subscriptions::{EVENTS, WsClient, init},
};

/// PostgreSQL's server binaries (Debian's layout, the newest version installed).
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server binaries in /usr/lib/postgresql")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("an initdb")
}

/// A command run as `postgres` when this process is root (PostgreSQL refuses to run as root).
fn as_postgres(program: &Path) -> Command {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// A PostgreSQL server of the test's own.
struct Server {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl Server {
    fn create() -> Self {
        let bin = postgres_bin();
        let dir = tempfile::Builder::new().prefix("sinergi-outage").tempdir().expect("dir");
        let data = dir.path().join("data");
        // The folder must belong to the user the server runs as.
        let owner = Command::new("id").args(["-u", "postgres"]).output().expect("id");
        let uid: u32 = String::from_utf8_lossy(&owner.stdout).trim().parse().unwrap_or(0);
        if uid != 0 {
            let _ = std::os::unix::fs::chown(dir.path(), Some(uid), None);
        }
        let initdb = as_postgres(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
            .output()
            .expect("initdb");
        assert!(initdb.status.success(), "initdb: {}", String::from_utf8_lossy(&initdb.stderr));
        // Only a Unix socket in the test's folder: no TCP port another test could take meanwhile.
        let port = 5432;
        let mut server = Self { bin, data, port, child: None, _dir: dir };
        server.start();
        server
    }

    fn socket_dir(&self) -> PathBuf {
        self.data.parent().expect("parent").to_owned()
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@localhost/postgres?host={}&port={}",
            self.socket_dir().display(),
            self.port
        )
    }

    fn start(&mut self) {
        let socket_dir = self.socket_dir();
        let child = as_postgres(&self.bin.join("postgres"))
            .arg("-D")
            .arg(&self.data)
            .args(["-p", &self.port.to_string(), "-c", "listen_addresses=", "-c", "fsync=off"])
            .arg("-k")
            .arg(&socket_dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("postgres");
        self.child = Some(child);
        let started = Instant::now();
        let socket = socket_dir.join(format!(".s.PGSQL.{}", self.port));
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "PostgreSQL starts");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server at once (connections cut, as when a database host fails).
    fn stop(&mut self) {
        assert!(self.halt(), "pg_ctl stop");
    }

    fn halt(&mut self) -> bool {
        let stopped = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "immediate", "-w"])
            .output()
            .is_ok_and(|o| o.status.success());
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        stopped
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Never a panic here: the test may be failing already.
        if self.child.is_some() {
            self.halt();
        }
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL's server binaries and the built `sinergi` binary: cargo build -p sinergi-api && cargo test --test api outage -- --ignored"]
async fn a_database_outage_is_answered_unavailable_and_recovered_from_without_a_restart() {
    assert!(sinergi_binary().exists(), "cargo build -p sinergi-api first");
    let mut database = Server::create();
    let url = database.url();
    let secret = "a-shared-secret-of-at-least-thirty-two-bytes";
    let gateway = start_gateway(&[
        ("DATABASE_URL", url.as_str()),
        ("SINERGI_DEMO_DATA", "false"),
        ("SINERGI_JWT_SECRET", secret),
    ]);
    let token = crate::helpers::binary_token(
        secret,
        "portal",
        "beneficiary:read beneficiary:write pii:read events:subscribe",
    );
    let base = format!("http://{}", gateway.addr);
    let client = reqwest::Client::new();
    let post = |query: &'static str, variables: Value| {
        let (client, token, base) = (client.clone(), token.clone(), base.clone());
        async move {
            let started = Instant::now();
            let response = client
                .post(format!("{base}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": query, "variables": variables }))
                .send()
                .await
                .expect("post");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("json"), started.elapsed())
        }
    };
    let create = |serial: u32| {
        let input =
            beneficiary_input(&format!("647201150290{serial:04}"), &format!("647201010115{serial:04}"), 2);
        post(CREATE_BENEFICIARY, json!({ "input": input }))
    };
    let (_, body, _) = create(1).await;
    let before = body["data"]["createBeneficiary"]["beneficiary"]["id"].as_str().expect("created").to_owned();

    database.stop();
    let stopped = Instant::now();
    let readyz = || {
        let (client, base) = (client.clone(), base.clone());
        async move { client.get(format!("{base}/readyz")).send().await.expect("readyz").status().as_u16() }
    };
    while readyz().await != 503 {
        assert!(stopped.elapsed() < Duration::from_secs(5), "/readyz fails within seconds");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let check = Instant::now();
    assert_eq!(readyz().await, 503);
    assert!(check.elapsed() < Duration::from_millis(1500), "/readyz answers within a second");
    // Requests are refused at once, cleanly, once the health check has seen it (two checks, a
    // second apart): poll for that, then time one.
    let seen = Instant::now();
    while post("{ me { agency } }", json!({})).await.0 != 503 {
        assert!(seen.elapsed() < Duration::from_secs(20), "the health check sees the outage");
    }
    let (status, body, took) = create(2).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAVAILABLE", "{body}");
    assert!(!body.to_string().to_lowercase().contains("sqlx"), "{body}");
    assert!(took < Duration::from_secs(1), "refused at once: {took:?}");

    database.start();
    let back = Instant::now();
    while readyz().await != 200 {
        assert!(back.elapsed() < Duration::from_secs(15), "ready again without a restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut ws = None;
    for _ in 0..50 {
        // The health check may still remember the outage for up to a second.
        match WsClient::connect_to(gateway.addr, "/graphql/ws", init(&token)).await {
            Ok(socket) => {
                ws = Some(socket);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let mut ws = ws.expect("a socket after the outage");
    ws.subscribe("s", EVENTS, json!({ "after": "0" })).await;
    let first = ws.next("s").await;
    assert_eq!(
        first["payload"]["data"]["caseEvents"]["entityId"],
        before.as_str(),
        "the committed write: {first}"
    );
    let (status, body, _) = create(3).await;
    assert_eq!(status, 200, "{body}");
    let after = body["data"]["createBeneficiary"]["beneficiary"]["id"].as_str().expect("created").to_owned();
    let live = ws.next("s").await;
    assert_eq!(
        live["payload"]["data"]["caseEvents"]["entityId"],
        after.as_str(),
        "the feed follows again: {live}"
    );
    let (_, body, _) = post("{ beneficiaries { totalCount } }", json!({})).await;
    assert_eq!(
        body["data"]["beneficiaries"]["totalCount"], 2,
        "nothing lost, nothing written while down: {body}"
    );
}
