//! The register-import scenario: writes a synthetic DTSEN extract (with bad rows mixed in),
//! runs `sinergi import beneficiaries` on the bench database three times — new people, the same
//! file again (nothing changes), every decile reassessed (every person updated) — and reports
//! rows per second. Afterwards it removes what it imported, so the database is as it was.

use std::{io::Write, path::Path, time::Instant};

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};

use crate::{Error, Gateway};

/// Districts the synthetic people live in: (regency, district).
const DISTRICTS: [(&str, &str); 6] = [
    ("6472", "647201"),
    ("6472", "647204"),
    ("6401", "640101"),
    ("6402", "640201"),
    ("6403", "640301"),
    ("6471", "647101"),
];

/// Writes `rows` rows; one in fifty is bad in one of seven ways. Returns the bad rows' count.
pub fn extract(path: &Path, rows: u64, assessed_on: &str, decile_shift: u64) -> Result<u64, Error> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "nik,kk_number,is_head_of_family,full_name,birth_date,sex,phone,address,regency_code,district_code,decile,decile_source,decile_assessed_on"
    )?;
    let born0 = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default();
    let recorded0 = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap_or_default();
    let mut bad = 0;
    let mut previous = String::new();
    for k in 0..rows {
        let (regency, district) = DISTRICTS[((k / 4) % DISTRICTS.len() as u64) as usize];
        let born = born0 + chrono::Days::new(k / 8000);
        let female = (k / 7) % 2 == 1;
        let day = born.format("%d").to_string().parse::<u32>().unwrap_or(1) + if female { 40 } else { 0 };
        let mut nik = format!("{district}{day:02}{}{:04}", born.format("%m%y"), 1 + k % 8000);
        let household = k / 4;
        let recorded = recorded0 + chrono::Days::new(household / 8000);
        let kk = format!("{district}{}{:04}", recorded.format("%d%m%y"), 1 + household % 8000);
        let mut head = k % 4 == 0;
        let mut name = format!("Warga Uji {k}");
        let mut birth = born.to_string();
        let mut decile = (1 + (k + decile_shift) % 10).to_string();
        let mut district_code = district.to_owned();
        if k % 50 == 49 {
            bad += 1;
            match (k / 50) % 7 {
                0 => nik.truncate(15),
                1 => decile = "0".into(),
                2 => district_code = "649999".into(),
                3 => birth = "31-02-1990".into(),
                4 => name.clear(),
                // The NIK of the row before.
                5 => nik = previous.clone(),
                // A second head for the household (whose first member is its head).
                _ => head = true,
            }
        }
        let sex = if female { "FEMALE" } else { "MALE" };
        previous.clone_from(&nik);
        writeln!(
            out,
            "{nik},{kk},{head},{name},{birth},{sex},0812{k:08},Jl. Uji No. {k},{regency},{district_code},{decile},DTSEN,{assessed_on}"
        )?;
    }
    out.flush()?;
    Ok(bad)
}

/// Removes what the import wrote (its people and their events).
async fn clean(db: &DatabaseConnection) -> Result<(), Error> {
    db.execute_unprepared("DELETE FROM case_event WHERE actor_client = 'import'").await?;
    db.execute_unprepared("DELETE FROM beneficiary WHERE created_by_client = 'import'").await?;
    Ok(())
}

/// Runs the three imports of `rows` rows.
pub async fn run(gateway: &Gateway, db: &DatabaseConnection, rows: u64) -> Result<Value, Error> {
    clean(db).await?;
    let dir = Path::new("target/bench");
    let first = dir.join("extract.csv");
    let bad = extract(&first, rows, "2026-09-30", 0)?;
    let reassessed = dir.join("extract-reassessed.csv");
    extract(&reassessed, rows, "2026-10-31", 3)?;
    let mut runs = Vec::new();
    for (title, file) in [
        ("import: new people", &first),
        ("re-import: nothing changed", &first),
        ("re-import: every decile reassessed", &reassessed),
    ] {
        let started = Instant::now();
        let summary = gateway.import(file)?;
        let seconds = started.elapsed().as_secs_f64();
        eprintln!("{title}: {rows} rows in {seconds:.2} s");
        runs.push(json!({
            "run": title,
            "rows": rows,
            "seconds": (seconds * 100.0).round() / 100.0,
            "rows_per_s": (rows as f64 / seconds).round(),
            "created": summary["created"],
            "updated": summary["updated"],
            "unchanged": summary["unchanged"],
            "rejected": summary["rejected"],
            "events": summary["events"],
        }));
    }
    clean(db).await?;
    Ok(json!({ "rows": rows, "bad_rows": bad, "runs": runs }))
}
