//! Register import (`sinergi import beneficiaries`): every row checked, bad rows in the reject
//! file, good rows registered or updated by NIK with their case events, one head of family per
//! KK, regions kept, `--strict` all or nothing, a re-import changing nothing. The import runs
//! against the test gateway's own database; what it wrote is read back through the API.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sinergi_api::{
    beneficiary::import::{ImportError, Options, Quiet, Summary, import, importer},
    policy::Policy,
    regions::Regions,
};

use crate::helpers::{CREATE_BENEFICIARY, TestApp, beneficiary_input, spawn_app};

const HEADER: &str = "nik,kk_number,is_head_of_family,full_name,birth_date,sex,phone,address,regency_code,district_code,village_code,decile,decile_source,decile_assessed_on,pekerjaan";

/// A good row: person `n` (male, born 15 Feb 1990 in Palaran, Samarinda) of KK `kk`.
fn row(n: u32, kk: u32, head: bool, decile: u32, assessed: &str) -> String {
    format!(
        "64720115029{n:05},64720101011{kk:05},{head},Warga {n},1990-02-15,MALE,0812{n:08},Jl. Uji {n},6472,647201,,{decile},DTSEN,{assessed},petani"
    )
}

fn write(dir: &Path, name: &str, rows: &[String]) -> PathBuf {
    let path = dir.join(name);
    let mut text = String::from(HEADER);
    for r in rows {
        text.push('\n');
        text.push_str(r);
    }
    text.push('\n');
    std::fs::write(&path, text).expect("write the extract");
    path
}

async fn run(app: &TestApp, options: &Options, regions: &[&str]) -> Result<Summary, ImportError> {
    let reference = Regions::load();
    let actor = importer(
        &Policy::default_policy(),
        &reference,
        "DINSOS",
        regions.iter().map(|r| (*r).to_owned()).collect(),
    )
    .expect("DINSOS may import");
    import(&app.db, &reference, &actor, options, &Quiet).await
}

async fn province(app: &TestApp, path: &Path) -> Summary {
    run(app, &Options::new(path), &["64"]).await.expect("the import runs")
}

/// The reject file's rows as (line, column, reason).
fn rejects(path: &Path) -> Vec<(u64, String, String)> {
    let mut reader = csv::Reader::from_path(path).expect("the reject file");
    reader
        .records()
        .map(|r| {
            let r = r.expect("a reject row");
            (r[0].parse().expect("a line"), r[1].to_owned(), r[2].to_owned())
        })
        .collect()
}

/// A person read through the API, by NIK.
async fn person(app: &TestApp, nik: &str) -> Value {
    let body = app
        .gql(
            &app.admin(),
            "query($nik: String!) { beneficiaries(filter: {nik: $nik}) { nodes { id fullName kkNumber isHeadOfFamily decile decileAssessedOn phone regencyCode version createdBy { agency client } } } }",
            json!({ "nik": nik }),
        )
        .await;
    body["data"]["beneficiaries"]["nodes"][0].clone()
}

async fn events(app: &TestApp, id: &str) -> Vec<Value> {
    let body = app
        .gql(
            &app.admin(),
            "query($id: UUID!) { caseEvents(filter: {entityId: $id}) { nodes { action changedFields actorAgency actorClient } } }",
            json!({ "id": id }),
        )
        .await;
    body["data"]["caseEvents"]["nodes"].as_array().cloned().unwrap_or_default()
}

fn nik(n: u32) -> String {
    format!("64720115029{n:05}")
}

#[tokio::test]
async fn an_extract_is_checked_row_by_row_and_loaded_once() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let recent = "2026-09-30";
    let mut rows = vec![
        row(1, 1, true, 2, recent),
        row(2, 1, false, 2, recent),
        row(3, 2, true, 4, recent),
        // Line 5: the NIK of line 2 again.
        row(2, 3, false, 3, recent),
        // Line 6: a second head for KK 1.
        row(4, 1, true, 2, recent),
        // Line 7: NIK, decile and district all wrong: three problems, one rejected row.
        row(5, 4, false, 11, recent)
            .replacen("6472011502900005", "647201150290005", 1)
            .replacen(",647201,", ",640101,", 1),
        // Line 8: a birth date that does not exist and an assessment in the future.
        row(6, 5, true, 3, "2999-01-01").replacen("1990-02-15", "31-02-1990", 1),
        // Line 9: fields missing.
        "6472011502900007,6472010101100007".to_owned(),
    ];
    rows.push(row(8, 6, true, 1, recent));
    let file = write(dir.path(), "dtsen.csv", &rows);
    let summary = province(&app, &file).await;
    assert_eq!(
        (summary.rows, summary.created, summary.rejected, summary.events, summary.loaded),
        (9, 4, 5, 4, true),
        "{summary:?}"
    );
    assert_eq!(summary.ignored_columns, ["pekerjaan"]);
    let found = rejects(&dir.path().join("dtsen.csv.rejects.csv"));
    let at = |line: u64| {
        found.iter().filter(|r| r.0 == line).map(|r| (r.1.as_str(), r.2.as_str())).collect::<Vec<_>>()
    };
    assert_eq!(at(5), [("nik", "this NIK is also on line 3 (only its first row is read)")]);
    assert_eq!(at(6), [("is_head_of_family", "the KK already has a head of family on line 2")]);
    assert_eq!(at(7).iter().map(|r| r.0).collect::<Vec<_>>(), ["nik", "decile", "district_code"]);
    assert_eq!(at(8).iter().map(|r| r.0).collect::<Vec<_>>(), ["birth_date", "decile_assessed_on"]);
    assert!(at(9).iter().any(|r| r.0.is_empty() && r.1.contains("fields")), "{found:?}");
    assert_eq!(summary.rejected_by_column.get("nik"), Some(&2));

    // Read back through the API, with a CREATED event by the importing agency's `import` client.
    let first = person(&app, &nik(1)).await;
    assert_eq!(first["fullName"], "Warga 1");
    assert_eq!(first["isHeadOfFamily"], true);
    assert_eq!(first["createdBy"], json!({ "agency": "DINSOS", "client": "import" }));
    let id = first["id"].as_str().expect("an id");
    let trail = events(&app, id).await;
    assert_eq!(
        trail,
        [
            json!({ "action": "CREATED", "changedFields": ["*"], "actorAgency": "DINSOS", "actorClient": "import" })
        ]
    );
    assert!(person(&app, &nik(4)).await.is_null(), "the second head was not loaded");

    // The same file again changes nothing and writes no event.
    let again = province(&app, &file).await;
    assert_eq!((again.created, again.updated, again.unchanged, again.events), (0, 0, 4, 0), "{again:?}");
    assert_eq!(events(&app, id).await.len(), 1);

    // A later assessment updates the decile; an older one is kept out; an empty phone keeps the phone.
    let newer = write(
        dir.path(),
        "newer.csv",
        &[
            row(1, 1, true, 3, "2026-10-31"),
            row(2, 1, false, 5, "2025-01-31"),
            row(3, 2, true, 4, recent).replacen(",081200000003,", ",,", 1).replacen(
                "Warga 3",
                "Warga Tiga",
                1,
            ),
        ],
    );
    let changed = province(&app, &newer).await;
    assert_eq!(
        (changed.updated, changed.unchanged, changed.kept_newer_assessment, changed.events),
        (2, 1, 1, 2),
        "{changed:?}"
    );
    let first = person(&app, &nik(1)).await;
    assert_eq!((first["decile"].clone(), first["version"].clone()), (json!(3), json!(2)));
    assert_eq!(events(&app, id).await[1]["changedFields"], json!(["decile", "decileAssessedOn"]));
    let second = person(&app, &nik(2)).await;
    assert_eq!(second["decile"], 2, "an older assessment does not replace a newer one");
    let third = person(&app, &nik(3)).await;
    assert_eq!(
        (third["fullName"].as_str(), third["phone"].as_str()),
        (Some("Warga Tiga"), Some("081200000003"))
    );
}

#[tokio::test]
async fn one_head_of_family_per_kk_across_imports() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let recent = "2026-09-30";
    // Registered through the API: the head of KK 6472010101100009.
    let registered = registered_head(&app, 90, "6472010101100009").await;

    // A new head for that KK while the file leaves the registered head as head: refused.
    let file = write(dir.path(), "a.csv", &[row(91, 9, true, 2, recent)]);
    let summary = province(&app, &file).await;
    assert_eq!((summary.created, summary.rejected), (0, 1), "{summary:?}");
    let found = rejects(&dir.path().join("a.csv.rejects.csv"));
    assert!(found[0].2.contains("already has another head of family in the register"), "{found:?}");

    // The same new head with the registered one demoted later in the file: both are written,
    // the demotion first, whatever the order in the file (the batches are one row each here).
    let file = write(dir.path(), "b.csv", &[row(91, 9, true, 2, recent), row(90, 9, false, 3, recent)]);
    let mut options = Options::new(&file);
    options.batch_size = 1;
    let summary = run(&app, &options, &["64"]).await.expect("imported");
    assert_eq!((summary.created, summary.updated, summary.rejected), (1, 1, 0), "{summary:?}");
    assert_eq!(person(&app, &nik(91)).await["isHeadOfFamily"], true);
    let old = person(&app, &nik(90)).await;
    assert_eq!(
        (old["isHeadOfFamily"].clone(), old["id"].as_str()),
        (json!(false), Some(registered.as_str()))
    );

    // Refusals cascade. 95 would head KK 9 because 91, its head, moves to head KK 11; but KK 11
    // has a registered head (94) this file leaves alone, so 91's row is refused, 91 stays head
    // of KK 9, and 95's claim is refused too. Nothing is half-written.
    registered_head(&app, 94, "6472010101100011").await;
    let file = write(dir.path(), "c.csv", &[row(95, 9, true, 2, recent), row(91, 11, true, 2, recent)]);
    let summary = province(&app, &file).await;
    assert_eq!((summary.rejected, summary.created, summary.updated), (2, 0, 0), "{summary:?}");
    let found = rejects(&dir.path().join("c.csv.rejects.csv"));
    let mut lines: Vec<u64> = found.iter().map(|r| r.0).collect();
    lines.sort_unstable();
    assert_eq!(lines, [2, 3], "{found:?}");
    assert!(person(&app, &nik(95)).await.is_null());
    assert_eq!(person(&app, &nik(91)).await["kkNumber"], "6472010101100009");

    // A chain: 96 would replace 91 as head of KK 9 while 91 replaces 94 as head of KK 11. The
    // second link loads now; the first on the next import, once 91 has left KK 9.
    let file = write(
        dir.path(),
        "d.csv",
        &[row(96, 9, true, 2, recent), row(91, 11, true, 2, recent), row(94, 11, false, 2, recent)],
    );
    let summary = province(&app, &file).await;
    assert_eq!((summary.rejected, summary.created, summary.updated), (1, 0, 2), "{summary:?}");
    let found = rejects(&dir.path().join("d.csv.rejects.csv"));
    assert!(found[0].0 == 2 && found[0].2.contains("import the file again"), "{found:?}");
    let summary = province(&app, &file).await;
    assert_eq!((summary.rejected, summary.created, summary.unchanged), (0, 1, 2), "{summary:?}");
    assert_eq!(person(&app, &nik(96)).await["isHeadOfFamily"], true);
    assert_eq!(person(&app, &nik(91)).await["kkNumber"], "6472010101100011");
}

/// Registers person `n` through the API as the head of `kk`; returns its id.
async fn registered_head(app: &TestApp, n: u32, kk: &str) -> String {
    let mut input = beneficiary_input(&nik(n), kk, 3);
    input["birthDate"] = json!("1990-02-15");
    let body = app.gql(&app.admin(), CREATE_BENEFICIARY, json!({ "input": input })).await;
    body["data"]["createBeneficiary"]["beneficiary"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("not created: {body}"))
        .to_owned()
}

#[tokio::test]
async fn strict_loads_all_or_nothing() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let good = (1..=30).map(|n| row(n, n, true, 2, "2026-09-30")).collect::<Vec<_>>();
    let mut bad = good.clone();
    bad.push(row(31, 31, true, 0, "2026-09-30"));
    let file = write(dir.path(), "bad.csv", &bad);
    let mut options = Options::new(&file);
    options.strict = true;
    options.batch_size = 7;
    let before = app.event_count().await;
    let summary = run(&app, &options, &["64"]).await.expect("the import runs");
    assert_eq!((summary.loaded, summary.created, summary.rejected), (false, 0, 1), "{summary:?}");
    assert!(person(&app, &nik(1)).await.is_null());
    assert_eq!(app.event_count().await, before);

    let file = write(dir.path(), "good.csv", &good);
    let mut options = Options::new(&file);
    options.strict = true;
    options.batch_size = 7;
    let summary = run(&app, &options, &["64"]).await.expect("the import runs");
    assert_eq!((summary.loaded, summary.created, summary.events), (true, 30, 30), "{summary:?}");
    assert_eq!(app.event_count().await, before + 30);
}

#[tokio::test]
async fn an_import_writes_only_in_its_regions_and_moves_cases_with_people() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    // Registered in Samarinda (6472) with a business.
    let id = registered_head(&app, 50, "6472010101100050").await;
    let business = app.business(&id, "Warung Uji", "FOOD").await;

    // An import for Paser (6401) only: a row in Samarinda is refused, and so is a row that would
    // move someone registered in Samarinda.
    let moved = row(50, 50, true, 3, "2026-09-30").replacen(",6472,647201,", ",6401,640101,", 1);
    let file = write(dir.path(), "paser.csv", &[row(51, 51, true, 3, "2026-09-30"), moved.clone()]);
    let summary = run(&app, &Options::new(&file), &["6401"]).await.expect("runs");
    assert_eq!((summary.created, summary.updated, summary.rejected), (0, 0, 2), "{summary:?}");
    let found = rejects(&dir.path().join("paser.csv.rejects.csv"));
    assert!(
        found
            .iter()
            .any(|r| r.0 == 2 && r.1 == "regency_code" && r.2.contains("outside this import's regions"))
    );
    assert!(found.iter().any(|r| r.0 == 3 && r.1 == "nik" && r.2.contains("outside this import's regions")));

    // A province-wide import moves the person, and the case follows.
    let file = write(dir.path(), "province.csv", &[moved]);
    let summary = province(&app, &file).await;
    assert_eq!(summary.updated, 1, "{summary:?}");
    assert_eq!(person(&app, &nik(50)).await["regencyCode"], "6401");
    let body = app
        .gql(
            &app.admin(),
            "query($id: UUID!) { business(id: $id) { regencyCode } }",
            json!({ "id": business }),
        )
        .await;
    assert_eq!(body["data"]["business"]["regencyCode"], "6401");
}

#[tokio::test]
async fn unusable_files_and_importers_are_refused_before_anything_is_written() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let before = app.event_count().await;
    let path = dir.path().join("short.csv");
    std::fs::write(&path, "nik,nama\n6472011502900001,Budi\n").expect("write");
    let err = run(&app, &Options::new(&path), &["64"]).await.expect_err("no required columns");
    assert!(err.to_string().contains("kk_number"), "{err}");
    let missing = run(&app, &Options::new(dir.path().join("nope.csv")), &["64"]).await;
    assert!(matches!(missing, Err(ImportError::Read { .. })));
    assert_eq!(app.event_count().await, before);

    // A semicolon file with the Indonesian column names and dotted region codes loads.
    let path = dir.path().join("excel.csv");
    std::fs::write(
        &path,
        "NIK;No KK;Kepala Keluarga;Nama;Tgl Lahir;Jenis Kelamin;Kode Kab;Kode Kec;Desil;Sumber Desil;Tgl Penilaian\n\
         6472011502900001;6472010101100001;ya;Budi;15-02-1990;L;64.72;64.72.01;2;dtsen;30/09/2026\n",
    )
    .expect("write");
    let mut options = Options::new(&path);
    options.delimiter = b';';
    let summary = run(&app, &options, &["64"]).await.expect("runs");
    assert_eq!((summary.created, summary.rejected), (1, 0), "{summary:?}");

    // Windows line ends, a two-digit year, an empty head-of-family cell and an unquoted comma:
    // each rejected on its own line.
    let rows = [
        row(60, 60, true, 2, "2026-09-30").replacen("1990-02-15", "15-02-90", 1),
        row(61, 61, true, 2, "2026-09-30").replacen(",true,", ",,", 1),
        row(62, 62, true, 2, "2026-09-30").replacen("Jl. Uji 62", "Jl. Uji, 62", 1),
        row(63, 63, true, 2, "2026-09-30"),
    ];
    let path = dir.path().join("windows.csv");
    std::fs::write(&path, format!("{HEADER}\r\n{}\r\n", rows.join("\r\n"))).expect("write");
    let summary = run(&app, &Options::new(&path), &["64"]).await.expect("runs");
    assert_eq!((summary.created, summary.rejected), (1, 3), "{summary:?}");
    let found = rejects(&dir.path().join("windows.csv.rejects.csv"));
    let lines: Vec<(u64, &str)> = found.iter().map(|r| (r.0, r.1.as_str())).collect();
    assert_eq!(lines, [(2, "birth_date"), (3, "is_head_of_family"), (4, "")], "{found:?}");

    let policy = Policy::default_policy();
    let regions = Regions::load();
    for (agency, region) in [("DISPERINDAGKOP", "64"), ("RELAWAN", "64"), ("NOPE", "64"), ("DINSOS", "99")] {
        assert!(importer(&policy, &regions, agency, vec![region.into()]).is_err(), "{agency} {region}");
    }
}

#[tokio::test]
async fn the_sample_extract_in_the_docs_loads_as_they_say() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/dtsen-sample.csv");
    let mut options = Options::new(&sample);
    options.rejects = dir.path().join("rejects.csv");
    let summary = run(&app, &options, &["64"]).await.expect("the sample imports");
    assert_eq!(
        (summary.rows, summary.created, summary.rejected, summary.events),
        (6, 5, 1, 5),
        "{summary:?}"
    );
    let found = rejects(&options.rejects);
    assert_eq!(
        found,
        [(7, "kepala_keluarga".to_owned(), "the KK already has a head of family on line 6".to_owned())]
    );
    let again = run(&app, &options, &["64"]).await.expect("again");
    assert_eq!((again.created, again.unchanged, again.events), (0, 5, 0), "{again:?}");
    assert_eq!(person(&app, "6401024404750005").await["fullName"], "Maria Ubung");
}

#[tokio::test]
#[ignore = "needs the built `sinergi` binary: cargo build -p sinergi-api && cargo test --test api import_command -- --ignored"]
async fn import_command_reports_and_exits_as_documented() {
    let (url, _dir) = crate::helpers::fresh_database().await;
    let dir = tempfile::tempdir().expect("dir");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/dtsen-sample.csv");
    let copy = dir.path().join("dtsen-sample.csv");
    std::fs::copy(&sample, &copy).expect("copy the sample");
    let import = |args: &[&str]| {
        std::process::Command::new(crate::helpers::sinergi_binary())
            .current_dir(dir.path())
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .args(["import", "beneficiaries"])
            .args(args)
            .output()
            .expect("run sinergi")
    };
    let path = copy.to_str().expect("a path");

    // --strict: nothing loaded, exit 2, the reject file beside the extract.
    let strict = import(&[path, "--strict"]);
    assert_eq!(strict.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&strict.stderr).contains("nothing loaded (--strict)"));
    assert!(dir.path().join("dtsen-sample.csv.rejects.csv").exists());

    // Without: five registered, one rejected, exit 2, the summary as docs/import.md shows it.
    let first = import(&[path]);
    assert_eq!(first.status.code(), Some(2));
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        out.contains("registered (new)                 5")
            && out.contains("kepala_keluarga                1"),
        "{out}"
    );
    assert!(String::from_utf8_lossy(&first.stderr).contains("1 row(s) rejected: see"));

    // Again, as JSON: all unchanged.
    let again = import(&[path, "--json"]);
    let summary: Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!((summary["unchanged"].clone(), summary["created"].clone()), (json!(5), json!(0)), "{summary}");

    // A good file exits 0; a missing file or an agency that may not import exits 1.
    let good = dir.path().join("good.csv");
    let text = std::fs::read_to_string(&sample).expect("read");
    std::fs::write(&good, text.lines().take(6).collect::<Vec<_>>().join("\n")).expect("write");
    assert_eq!(import(&[good.to_str().expect("a path")]).status.code(), Some(0));
    assert_eq!(import(&["/nonexistent/extract.csv"]).status.code(), Some(1));
    let refused = import(&[path, "--agency", "DISPERINDAGKOP"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("may not import"));
}

/// Runs a mutation through the API when the load step begins: a change made by an agency
/// between the import's check and its load.
struct WhenLoading<'a> {
    app: &'a TestApp,
    mutation: &'static str,
    variables: Value,
}

impl sinergi_api::beneficiary::import::Progress for WhenLoading<'_> {
    fn begin(&self, step: sinergi_api::beneficiary::import::Step, _: u64) {
        if step != sinergi_api::beneficiary::import::Step::Load {
            return;
        }
        let body = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(self.app.gql(
                &self.app.admin(),
                self.mutation,
                self.variables.clone(),
            ))
        });
        assert!(body["errors"].is_null() && !body.to_string().contains("\"code\""), "{body}");
    }
    fn advance_to(&self, _: u64) {}
    fn end(&self) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_moved_out_of_the_imports_regions_during_the_import_is_left_alone() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let person = registered_head(&app, 70, "6472010101100070").await;
    // A Samarinda-only import that renames person 70 and registers person 71.
    let file = write(
        dir.path(),
        "samarinda.csv",
        &[row(70, 70, true, 3, "2026-09-30"), row(71, 71, true, 3, "2026-09-30")],
    );
    let reference = Regions::load();
    let actor =
        importer(&Policy::default_policy(), &reference, "DINSOS", vec!["6472".into()]).expect("importer");
    let progress = WhenLoading {
        app: &app,
        mutation: "mutation($i: UpdateBeneficiaryInput!) { updateBeneficiary(input: $i) { beneficiary { regencyCode } } }",
        variables: json!({ "i": { "id": person, "expectedVersion": 1, "regencyCode": "6401", "districtCode": "640101" } }),
    };
    let summary = import(&app.db, &reference, &actor, &Options::new(&file), &progress).await.expect("runs");
    assert_eq!((summary.created, summary.updated, summary.rejected), (1, 0, 1), "{summary:?}");
    let found = rejects(&dir.path().join("samarinda.csv.rejects.csv"));
    assert!(found[0].0 == 2 && found[0].2.contains("moved there while the import ran"), "{found:?}");
    let moved = person_by_id(&app, &person).await;
    assert_eq!(
        (moved["fullName"].as_str(), moved["regencyCode"].as_str()),
        (Some("Budi Santoso"), Some("6401"))
    );
}

async fn person_by_id(app: &TestApp, id: &str) -> Value {
    let body = app
        .gql(
            &app.admin(),
            "query($id: UUID!) { beneficiary(id: $id) { fullName regencyCode } }",
            json!({ "id": id }),
        )
        .await;
    body["data"]["beneficiary"].clone()
}

/// The row-by-row fallback: a head of family registered through the API for a KK after the
/// import checked the file makes the batch's insert fail on the register's one-head-per-KK
/// index; the batch is written again row by row, the one row in the way is rejected, and the
/// others are registered with their events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_a_concurrent_write_gets_in_the_way_of_is_loaded_row_by_row() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let recent = "2026-09-30";
    let file = write(
        dir.path(),
        "heads.csv",
        &[row(82, 82, true, 2, recent), row(81, 80, true, 2, recent), row(83, 83, true, 2, recent)],
    );
    let mut input = beneficiary_input(&nik(80), "6472010101100080", 3);
    input["birthDate"] = json!("1990-02-15");
    let progress =
        WhenLoading { app: &app, mutation: CREATE_BENEFICIARY, variables: json!({ "input": input }) };
    let reference = Regions::load();
    let actor =
        importer(&Policy::default_policy(), &reference, "DINSOS", vec!["64".into()]).expect("importer");
    let summary = import(&app.db, &reference, &actor, &Options::new(&file), &progress).await.expect("runs");
    assert_eq!((summary.created, summary.rejected, summary.events), (2, 1, 2), "{summary:?}");
    let found = rejects(&dir.path().join("heads.csv.rejects.csv"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].0 == 3 && found[0].2.contains("while the import ran"), "{found:?}");
    assert!(person(&app, &nik(81)).await.is_null(), "the row in the way wrote nothing");
    assert_eq!(person(&app, &nik(80)).await["isHeadOfFamily"], true, "the agency's head stays");
    for n in [82, 83] {
        let registered = person(&app, &nik(n)).await;
        let id = registered["id"].as_str().unwrap_or_else(|| panic!("{n} registered: {registered}"));
        let trail: Vec<Value> = events(&app, id).await.into_iter().map(|e| e["action"].clone()).collect();
        assert_eq!(trail, [json!("CREATED")], "one event each");
    }
    // The next import sees the registered head and refuses the row in its check instead.
    let summary = run(&app, &Options::new(&file), &["64"]).await.expect("runs again");
    assert_eq!((summary.created, summary.unchanged, summary.rejected), (0, 2, 1), "{summary:?}");
}
