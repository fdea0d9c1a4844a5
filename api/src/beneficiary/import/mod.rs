//! Register import: loads a DTKS/DTSEN extract (CSV) into the beneficiary register. No GraphQL.
//!
//! Two passes over the file, so that memory stays bounded by the batch, not the file:
//! 1. **Check.** Every row is checked on its own (NIK, KK, dates, region codes, the import's
//!    regions); then across the file and against the register: a NIK twice in the file, two
//!    heads of family for one KK, a head of family for a KK whose registered head this file does
//!    not demote, a NIK registered outside the import's regions. Bad rows go to the reject file
//!    (line, column, reason). Only a key per row is kept (~100 bytes), never the rows.
//! 2. **Load.** The file is read again and the good rows are written in batches: one statement
//!    inserts a batch's new people, one updates its changed people (compare-and-set on each
//!    one's version; one by one on SQLite), and one appends the batch's case events. A row already registered
//!    with the same details writes nothing, so a re-import changes nothing. New heads of family
//!    that replace a registered head are written after every other row (the register's unique
//!    index admits one head per KK at every moment).
//!
//! Each batch commits on its own, so that the import's events reach subscribers and webhooks as
//! it goes and the gateway's own writes are not held up: an interrupted import is finished by
//! running it again. With `strict`, any bad row stops the import before it writes anything.

mod columns;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    path::{Path, PathBuf},
    time::Instant,
};

use chrono::{NaiveDate, Utc};
use csv::ByteRecord;
use entity::beneficiary::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, Statement, TransactionTrait,
};
use uuid::Uuid;

pub use columns::Problem;
use columns::{Checks, Header, Key, Row};

use super::BeneficiaryStatus;
use crate::{
    auth::{Actor, Scope},
    error::ServiceError,
    events::{self, CaseAction},
    policy::Policy,
    records::{EntityType, in_regions, wire},
    regions::{KALTIM, Regions},
};

/// The largest batch: a batch's insert binds 22 values a row, and SQLite binds at most 32,766.
pub const MAX_BATCH: usize = 1000;

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// The extract (CSV with a header row; docs/import.md).
    pub file: PathBuf,
    /// Where the reject file goes (`line,column,reason`).
    pub rejects: PathBuf,
    /// Load nothing unless every row is good.
    pub strict: bool,
    /// The field delimiter (`,`; `;` for spreadsheets set to Indonesian).
    pub delimiter: u8,
    /// Rows per batch (at most [`MAX_BATCH`]).
    pub batch_size: usize,
    /// The day dates are checked against (birth and assessment dates may not be later).
    pub today: NaiveDate,
}

impl Options {
    /// The defaults for `file`: rejects beside it as `<file>.rejects.csv`.
    pub fn new(file: impl Into<PathBuf>) -> Self {
        let file = file.into();
        let mut rejects = file.clone().into_os_string();
        rejects.push(".rejects.csv");
        Self {
            file,
            rejects: rejects.into(),
            strict: false,
            delimiter: b',',
            batch_size: MAX_BATCH,
            today: Utc::now().date_naive(),
        }
    }
}

/// A step of the import, for a progress display.
#[derive(Debug, Clone, Copy, Eq, PartialEq)]
pub enum Step {
    /// Checking the file; progress in bytes.
    Check,
    /// Loading the good rows; progress in rows.
    Load,
}

/// Progress reports (a progress bar on a terminal; nothing elsewhere).
pub trait Progress {
    fn begin(&self, step: Step, total: u64);
    fn advance_to(&self, done: u64);
    fn end(&self);
}

/// No progress display.
pub struct Quiet;

impl Progress for Quiet {
    fn begin(&self, _: Step, _: u64) {}
    fn advance_to(&self, _: u64) {}
    fn end(&self) {}
}

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Data rows read.
    pub rows: u64,
    /// People registered.
    pub created: u64,
    /// People whose details changed.
    pub updated: u64,
    /// People already registered with the same details.
    pub unchanged: u64,
    /// Rows rejected (each once, however many problems it had).
    pub rejected: u64,
    /// Rejected rows by column (a row with problems in two columns counts in both).
    pub rejected_by_column: BTreeMap<String, u64>,
    /// Warnings on loaded rows: a NIK or KK issued outside Kaltim, a birth date the NIK disagrees with.
    pub warnings: u64,
    /// Rows whose decile was older than the one registered (a later assessment is kept).
    pub kept_newer_assessment: u64,
    /// Case events written.
    pub events: u64,
    /// Columns the file has that the import does not read.
    pub ignored_columns: Vec<String>,
    /// Whether anything was loaded (false when `strict` found bad rows).
    pub loaded: bool,
    /// Seconds the import took.
    pub seconds: f64,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: {message}")]
    Header { path: String, message: String },
    #[error("cannot write the reject file {path}: {message}")]
    Rejects { path: String, message: String },
    #[error("{0}")]
    Refused(String),
    #[error("database: {0}")]
    Database(sea_orm::DbErr),
    #[error("{0}")]
    Service(ServiceError),
}

impl From<sea_orm::DbErr> for ImportError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Database(err)
    }
}

impl From<ServiceError> for ImportError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Database(err) => Self::Database(err),
            other => Self::Service(other),
        }
    }
}

/// The reject file: one line per problem.
struct Rejects {
    writer: csv::Writer<std::fs::File>,
    path: String,
    lines: HashSet<u64>,
}

impl Rejects {
    fn create(path: &Path) -> Result<Self, ImportError> {
        let failed = |e: &dyn std::fmt::Display| ImportError::Rejects {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let mut writer = csv::Writer::from_path(path).map_err(|e| failed(&e))?;
        writer.write_record(["line", "column", "reason"]).map_err(|e| failed(&e))?;
        Ok(Self { writer, path: path.display().to_string(), lines: HashSet::new() })
    }

    fn reject(&mut self, summary: &mut Summary, line: u64, problems: &[Problem]) -> Result<(), ImportError> {
        if self.lines.insert(line) {
            summary.rejected += 1;
        }
        for problem in problems {
            *summary.rejected_by_column.entry(problem.column.clone()).or_default() += 1;
            let line = line.to_string();
            self.writer
                .write_record([line.as_str(), problem.column.as_str(), problem.reason.as_str()])
                .map_err(|e| ImportError::Rejects { path: self.path.clone(), message: e.to_string() })?;
        }
        Ok(())
    }

    fn one(
        &mut self,
        summary: &mut Summary,
        line: u64,
        column: &str,
        reason: &str,
    ) -> Result<(), ImportError> {
        self.reject(summary, line, &[Problem { column: column.into(), reason: reason.into() }])
    }

    fn finish(mut self) -> Result<HashSet<u64>, ImportError> {
        self.writer
            .flush()
            .map_err(|e| ImportError::Rejects { path: self.path.clone(), message: e.to_string() })?;
        Ok(self.lines)
    }
}

/// One row's key in the file-wide index.
struct Entry {
    line: u64,
    kk: Option<[u8; 16]>,
    head: bool,
    ok: bool,
}

fn text(key: &[u8; 16]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

/// Whether two paths name one file (the second need not exist).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// A row's line: its record number, the header being line 1. The same as the line in the file
/// unless a quoted cell spans lines; unlike the reader's line count it is also right for files
/// ending their lines with CR LF or CR alone (spreadsheets on Windows and old Macs).
fn row_line(record: &ByteRecord) -> u64 {
    record.position().map(|p| p.record() + 1).unwrap_or_default()
}

fn reader(options: &Options) -> Result<csv::Reader<std::fs::File>, ImportError> {
    csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        .flexible(true)
        .has_headers(true)
        .from_path(&options.file)
        .map_err(|e| read_error(options, &e))
}

fn read_error(options: &Options, err: &dyn std::fmt::Display) -> ImportError {
    ImportError::Read { path: options.file.display().to_string(), message: err.to_string() }
}

/// The actor an import writes as: `agency` (which must own beneficiaries and read personal data
/// under the policy, and not be an agency of volunteers) within `regions` (regency/city codes, or
/// 64 for the province). Its case events name the API client `import`.
pub fn importer(
    policy: &Policy,
    regions: &Regions,
    agency: &str,
    codes: Vec<String>,
) -> Result<Actor, String> {
    let Some(rules) = policy.agency(agency) else {
        return Err(format!("unknown agency `{agency}` (the policy lists the agencies)"));
    };
    if !policy.owns(agency, EntityType::Beneficiary)
        || !rules.scopes.contains(&Scope::BeneficiaryWrite)
        || !rules.scopes.contains(&Scope::PiiRead)
        || rules.per_volunteer
    {
        return Err(format!(
            "agency {agency} may not import the register: the policy must let it own beneficiaries, with `beneficiary:write` and `pii:read`"
        ));
    }
    if codes.is_empty() {
        return Err("at least one region is required".into());
    }
    for code in &codes {
        if code != KALTIM && !regions.get(code).is_some_and(|r| r.is_regency()) {
            return Err(format!("`{code}` is not a Kaltim regency/city Kemendagri code or 64"));
        }
    }
    Ok(Actor::command_line(agency, "import", rules.scopes.clone(), codes))
}

/// Imports an extract as `actor` ([`importer`]).
pub async fn import(
    db: &DatabaseConnection,
    regions: &Regions,
    actor: &Actor,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Summary, ImportError> {
    let started = Instant::now();
    let batch_size = options.batch_size.clamp(1, MAX_BATCH);
    let checks = Checks { regions, actor, today: options.today };
    let mut summary = Summary::default();
    if same_file(&options.rejects, &options.file) {
        return Err(ImportError::Refused("the reject file must not be the extract itself".into()));
    }

    // Pass 1: check every row, keep a key per row.
    let size = std::fs::metadata(&options.file).map(|m| m.len()).map_err(|e| read_error(options, &e))?;
    let mut file = reader(options)?;
    let header = Header::parse(&file.byte_headers().map_err(|e| read_error(options, &e))?.clone())
        .map_err(|message| ImportError::Header { path: options.file.display().to_string(), message })?;
    let mut rejects = Rejects::create(&options.rejects)?;
    summary.ignored_columns = header.ignored.clone();
    let mut by_nik: HashMap<[u8; 16], Entry> = HashMap::new();
    let mut head_of: HashMap<[u8; 16], [u8; 16]> = HashMap::new();
    let mut record = ByteRecord::new();
    progress.begin(Step::Check, size);
    while file.read_byte_record(&mut record).map_err(|e| read_error(options, &e))? {
        let line = row_line(&record);
        summary.rows += 1;
        if summary.rows % 1024 == 0 {
            progress.advance_to(record.position().map(|p| p.byte()).unwrap_or_default());
        }
        let parsed = columns::parse(&header, &record, line, &checks);
        let mut ok = parsed.row.is_ok();
        if let Err(problems) = &parsed.row {
            rejects.reject(&mut summary, line, problems)?;
        }
        let Some(Key { nik, kk, head }) = parsed.key else { continue };
        if let Some(first) = by_nik.get(&nik) {
            let reason = format!("this NIK is also on line {} (only its first row is read)", first.line);
            rejects.one(&mut summary, line, header.name(columns::Field::Nik), &reason)?;
            continue;
        }
        if ok
            && head
            && let Some(kk) = kk
        {
            if let Some(first) = head_of.get(&kk).and_then(|n| by_nik.get(n)) {
                let reason = format!("the KK already has a head of family on line {}", first.line);
                rejects.one(&mut summary, line, header.name(columns::Field::IsHeadOfFamily), &reason)?;
                ok = false;
            } else {
                head_of.insert(kk, nik);
            }
        }
        by_nik.insert(nik, Entry { line, kk, head, ok });
    }
    progress.end();

    // Against the register: people registered outside the import's regions, and heads of
    // family this file would add beside a registered head it does not demote.
    let keys: Vec<[u8; 16]> = by_nik.iter().filter(|(_, e)| e.ok).map(|(k, _)| *k).collect();
    for chunk in keys.chunks(MAX_BATCH) {
        let found: Vec<(String, String)> = Entity::find()
            .select_only()
            .column(Column::Nik)
            .column(Column::RegencyCode)
            .filter(Column::Nik.is_in(chunk.iter().map(text)))
            .into_tuple()
            .all(db)
            .await?;
        for (nik, regency) in found {
            if in_regions(actor, &regency) {
                continue;
            }
            let Some(entry) = columns::digits16(&nik).and_then(|k| by_nik.get_mut(&k)) else { continue };
            entry.ok = false;
            let reason = "this NIK is registered outside this import's regions";
            rejects.one(&mut summary, entry.line, header.name(columns::Field::Nik), reason)?;
            if let Some(kk) = entry.kk {
                head_of
                    .retain(|claimed, claimant| !(*claimed == kk && claimant.as_slice() == nik.as_bytes()));
            }
        }
    }
    let claimed: Vec<[u8; 16]> = head_of.keys().copied().collect();
    let mut registered_head: HashMap<[u8; 16], [u8; 16]> = HashMap::new();
    for chunk in claimed.chunks(MAX_BATCH) {
        let found: Vec<(String, String)> = Entity::find()
            .select_only()
            .column(Column::KkNumber)
            .column(Column::Nik)
            .filter(Column::IsHeadOfFamily.eq(true))
            .filter(Column::KkNumber.is_in(chunk.iter().map(text)))
            .into_tuple()
            .all(db)
            .await?;
        for (kk, nik) in found {
            if let (Some(kk), Some(nik)) = (columns::digits16(&kk), columns::digits16(&nik))
                && head_of.get(&kk) != Some(&nik)
            {
                registered_head.insert(kk, nik);
            }
        }
    }
    // A refused head may have been demoting another KK's head: repeat until nothing changes.
    // A new head waits until the registered head has been demoted, in a second sweep; a chain
    // (the registered head is itself to replace another KK's registered head) would need a third,
    // so it is refused and loads on the next import, once the first link is written.
    const KEPT: &str = "the KK already has another head of family in the register, and this file does not change that person's row";
    const CHAIN: &str = "the KK's registered head is to head another family that has a registered head too; import the file again once that change is loaded";
    loop {
        let refused: Vec<([u8; 16], [u8; 16], &str)> = registered_head
            .iter()
            .filter_map(|(kk, registered)| {
                let claimant = head_of.get(kk)?;
                let entry = by_nik.get(registered);
                let demoted = entry.is_some_and(|e| e.ok && !(e.head && e.kk.as_ref() == Some(kk)));
                let waits = entry.is_some_and(|e| {
                    e.ok && e.head
                        && e.kk.is_some_and(|other| {
                            head_of.get(&other) == Some(registered) && registered_head.contains_key(&other)
                        })
                });
                if !demoted {
                    Some((*kk, *claimant, KEPT))
                } else if waits {
                    Some((*kk, *claimant, CHAIN))
                } else {
                    None
                }
            })
            .collect();
        if refused.is_empty() {
            break;
        }
        for (kk, claimant, reason) in refused {
            head_of.remove(&kk);
            if let Some(entry) = by_nik.get_mut(&claimant) {
                entry.ok = false;
                rejects.one(&mut summary, entry.line, header.name(columns::Field::IsHeadOfFamily), reason)?;
            }
        }
    }
    // New heads that replace a registered head wait until every other row is written.
    let deferred: HashSet<u64> = registered_head
        .keys()
        .filter_map(|kk| head_of.get(kk).and_then(|n| by_nik.get(n)).map(|e| e.line))
        .collect();
    let good = by_nik.values().filter(|e| e.ok).count() as u64;
    drop(by_nik);
    drop(head_of);
    let rejected = rejects.finish()?;

    if options.strict && summary.rejected > 0 {
        summary.seconds = started.elapsed().as_secs_f64();
        return Ok(summary);
    }

    // Pass 2: load, in batches.
    let mut load =
        Load { db, actor, rejects: Rejects::append(&options.rejects)?, summary, done: 0, progress };
    load.progress.begin(Step::Load, good);
    for second_sweep in [false, true] {
        if second_sweep && deferred.is_empty() {
            break;
        }
        let mut file = reader(options)?;
        let mut batch = Vec::with_capacity(batch_size);
        while file.read_byte_record(&mut record).map_err(|e| read_error(options, &e))? {
            let line = row_line(&record);
            if rejected.contains(&line) || deferred.contains(&line) != second_sweep {
                continue;
            }
            let Ok(row) = columns::parse(&header, &record, line, &checks).row else { continue };
            batch.push(row);
            if batch.len() == batch_size {
                load.batch(std::mem::take(&mut batch)).await?;
            }
        }
        load.batch(batch).await?;
    }
    load.progress.end();
    load.rejects.finish()?;
    let mut summary = load.summary;
    summary.loaded = true;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

impl Rejects {
    /// Reopens the reject file to add the rows the load itself refused.
    fn append(path: &Path) -> Result<Self, ImportError> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| ImportError::Rejects { path: path.display().to_string(), message: e.to_string() })?;
        Ok(Self {
            writer: csv::WriterBuilder::new().from_writer(file),
            path: path.display().to_string(),
            lines: HashSet::new(),
        })
    }
}

/// The load step's state.
struct Load<'a> {
    db: &'a DatabaseConnection,
    actor: &'a Actor,
    rejects: Rejects,
    summary: Summary,
    done: u64,
    progress: &'a dyn Progress,
}

/// What writing a batch did.
#[derive(Default)]
struct Written {
    created: u64,
    updated: u64,
    unchanged: u64,
    kept_newer_assessment: u64,
    events: u64,
    /// Rows of people registered outside the import's regions (refused).
    outside: Vec<u64>,
}

impl Load<'_> {
    /// Writes a batch in one transaction. Should a concurrent writer get in the way (a NIK
    /// registered, a record changed meanwhile), the batch is written again row by row and only
    /// the rows still in the way are rejected.
    async fn batch(&mut self, rows: Vec<Row>) -> Result<(), ImportError> {
        if rows.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin().await?;
        match write(&txn, self.actor, &rows).await {
            Ok(written) => {
                txn.commit().await?;
                self.count(&rows, written)?;
            }
            Err(err) if err.user_error().is_none() => return Err(err.into()),
            Err(_) => {
                txn.rollback().await?;
                for row in rows {
                    let txn = self.db.begin().await?;
                    match write(&txn, self.actor, std::slice::from_ref(&row)).await {
                        Ok(written) => {
                            txn.commit().await?;
                            self.count(std::slice::from_ref(&row), written)?;
                        }
                        Err(err) if err.user_error().is_some() => {
                            txn.rollback().await?;
                            let reason = match err {
                                ServiceError::Conflict { .. } => {
                                    "the person was changed by someone else while the import ran; run it again".to_owned()
                                }
                                other => format!("{other} (registered by someone else while the import ran?)"),
                            };
                            self.rejects.one(&mut self.summary, row.line, "", &reason)?;
                        }
                        Err(err) => return Err(err.into()),
                    }
                }
            }
        }
        events::nudge();
        self.progress.advance_to(self.done);
        Ok(())
    }

    fn count(&mut self, rows: &[Row], written: Written) -> Result<(), ImportError> {
        for line in &written.outside {
            let reason =
                "this NIK is registered outside this import's regions (moved there while the import ran)";
            self.rejects.one(&mut self.summary, *line, "", reason)?;
        }
        let s = &mut self.summary;
        s.created += written.created;
        s.updated += written.updated;
        s.unchanged += written.unchanged;
        s.kept_newer_assessment += written.kept_newer_assessment;
        s.events += written.events;
        s.warnings += rows.iter().map(|r| r.warnings).sum::<u64>();
        self.done += rows.len() as u64;
        Ok(())
    }
}

/// Writes one batch inside `txn`: new people in one statement, changed people in one statement
/// on PostgreSQL (one by one on SQLite, in process), and the batch's case events in one statement.
async fn write(txn: &DatabaseTransaction, actor: &Actor, rows: &[Row]) -> Result<Written, ServiceError> {
    let existing: HashMap<String, Model> = Entity::find()
        .filter(Column::Nik.is_in(rows.iter().map(|r| r.nik.clone())))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| (m.nik.clone(), m))
        .collect();
    let now = Utc::now();
    let mut written = Written::default();
    let mut created = Vec::new();
    let mut updated = Vec::new();
    let mut moved = Vec::new();
    for row in rows {
        let Some(before) = existing.get(&row.nik) else {
            created.push(registered(row, actor, now));
            continue;
        };
        if !in_regions(actor, &before.regency_code) {
            written.outside.push(row.line);
            continue;
        }
        let (after, fields, kept) = changes(before, row);
        written.kept_newer_assessment += u64::from(kept);
        if fields.is_empty() {
            written.unchanged += 1;
            continue;
        }
        if after.regency_code != before.regency_code {
            moved.push((after.id, after.regency_code.clone()));
        }
        updated.push((Model { version: before.version + 1, updated_at: now, ..after }, fields));
    }
    insert_people(txn, &created).await?;
    update_people(txn, &updated).await?;
    for (id, regency) in moved {
        super::service::move_case(txn, id, &regency).await?;
    }
    written.created = created.len() as u64;
    written.updated = updated.len() as u64;
    let created_events = created.iter().map(|m| (m, CaseAction::Created, vec!["*"]));
    let updated_events = updated.iter().map(|(m, fields)| (m, CaseAction::Updated, fields.clone()));
    written.events = events::record_many(txn, actor, created_events.chain(updated_events)).await?;
    Ok(written)
}

/// A person as one element of the JSON parameter of the PostgreSQL statements below: the row's
/// columns by name, and the version an update expects to find (compare-and-set).
#[derive(serde::Serialize)]
struct Person<'a> {
    #[serde(flatten)]
    model: &'a Model,
    before_version: i32,
}

impl<'a> From<&'a Model> for Person<'a> {
    fn from(model: &'a Model) -> Self {
        Self { model, before_version: model.version - 1 }
    }
}

/// The columns of `json_to_recordset` for [`Person`].
const PERSON_TYPES: &str = "id uuid, nik text, kk_number text, is_head_of_family boolean, full_name text, \
     birth_date date, sex text, phone text, address text, regency_code text, district_code text, village_code text, \
     decile integer, decile_source text, decile_assessed_on date, status text, is_demo boolean, version integer, \
     created_by_agency text, created_by_client text, created_at timestamptz, updated_at timestamptz, \
     before_version integer";

fn people_json<'a>(people: impl Iterator<Item = Person<'a>>) -> Result<String, ServiceError> {
    serde_json::to_string(&people.collect::<Vec<_>>()).map_err(|e| ServiceError::BadRequest(e.to_string()))
}

/// Registers a batch's new people in one statement. On PostgreSQL the rows travel as one JSON
/// parameter: a multi-row VALUES of 22 placeholders a row is parsed and planned anew for every
/// batch, and took most of the import's time.
async fn insert_people(txn: &DatabaseTransaction, people: &[Model]) -> Result<(), ServiceError> {
    if people.is_empty() {
        return Ok(());
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        let columns = "id, nik, kk_number, is_head_of_family, full_name, birth_date, sex, phone, address, \
             regency_code, district_code, village_code, decile, decile_source, decile_assessed_on, status, is_demo, \
             version, created_by_agency, created_by_client, created_at, updated_at";
        let sql = format!(
            "INSERT INTO beneficiary ({columns}) SELECT {columns} FROM json_to_recordset($1::json) AS t({PERSON_TYPES})"
        );
        let rows = people_json(people.iter().map(Person::from))?;
        txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [rows.into()])).await?;
    } else {
        let models: Vec<ActiveModel> = people.iter().cloned().map(Into::into).collect();
        Entity::insert_many(models).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// Writes a batch's changed people, each only if still at the version read (compare-and-set):
/// `CONFLICT` when any has changed meanwhile. `people` are the people after, version bumped.
async fn update_people(
    txn: &DatabaseTransaction,
    people: &[(Model, Vec<&'static str>)],
) -> Result<(), ServiceError> {
    if people.is_empty() {
        return Ok(());
    }
    let conflict = || ServiceError::Conflict { expected: 0, actual: 0 };
    if txn.get_database_backend() == DbBackend::Postgres {
        let set = "kk_number = t.kk_number, is_head_of_family = t.is_head_of_family, full_name = t.full_name, \
             birth_date = t.birth_date, sex = t.sex, phone = t.phone, address = t.address, regency_code = t.regency_code, \
             district_code = t.district_code, village_code = t.village_code, decile = t.decile, \
             decile_source = t.decile_source, decile_assessed_on = t.decile_assessed_on, version = t.version, \
             updated_at = t.updated_at";
        let sql = format!(
            "UPDATE beneficiary AS b SET {set} FROM json_to_recordset($1::json) AS t({PERSON_TYPES}) \
             WHERE b.id = t.id AND b.version = t.before_version"
        );
        let rows = people_json(people.iter().map(|(m, _)| Person::from(m)))?;
        let result =
            txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [rows.into()])).await?;
        if result.rows_affected() != people.len() as u64 {
            return Err(conflict());
        }
        return Ok(());
    }
    for (after, _) in people {
        // Every column set (a model converted is "unchanged" and would write nothing).
        let mut active = sea_orm::ActiveModelTrait::reset_all(ActiveModel::from(after.clone()));
        active.id = sea_orm::ActiveValue::NotSet;
        let result = Entity::update_many()
            .set(active)
            .filter(Column::Id.eq(after.id))
            .filter(Column::Version.eq(after.version - 1))
            .exec(txn)
            .await?;
        if result.rows_affected != 1 {
            return Err(conflict());
        }
    }
    Ok(())
}

/// A new person from a row.
fn registered(row: &Row, actor: &Actor, now: chrono::DateTime<Utc>) -> Model {
    Model {
        id: Uuid::now_v7(),
        nik: row.nik.clone(),
        kk_number: row.kk_number.clone(),
        is_head_of_family: row.is_head_of_family,
        full_name: row.full_name.clone(),
        birth_date: row.birth_date,
        sex: wire(row.sex),
        phone: row.phone.clone(),
        address: row.address.clone(),
        regency_code: row.regency_code.clone(),
        district_code: row.district_code.clone(),
        village_code: row.village_code.clone(),
        decile: row.decile,
        decile_source: wire(row.decile_source),
        decile_assessed_on: row.decile_assessed_on,
        status: wire(BeneficiaryStatus::Active),
        status_reason: None,
        is_demo: false,
        version: 1,
        created_by_agency: actor.agency.clone(),
        created_by_client: actor.client.clone(),
        created_at: now,
        updated_at: now,
    }
}

/// What a row changes of a registered person: the person after, the changed fields' GraphQL
/// names, and whether the row's assessment was older than the registered one (kept). An empty
/// optional cell keeps what is registered: an extract never erases a phone number an agency
/// recorded.
fn changes(before: &Model, row: &Row) -> (Model, Vec<&'static str>, bool) {
    let mut after = before.clone();
    let mut fields = Vec::new();
    macro_rules! change {
        ($column:ident, $name:literal, $value:expr) => {{
            let value = $value;
            if after.$column != value {
                after.$column = value;
                fields.push($name);
            }
        }};
    }
    change!(kk_number, "kkNumber", row.kk_number.clone());
    change!(is_head_of_family, "isHeadOfFamily", row.is_head_of_family);
    change!(full_name, "fullName", row.full_name.clone());
    change!(birth_date, "birthDate", row.birth_date);
    change!(sex, "sex", wire(row.sex));
    if row.phone.is_some() {
        change!(phone, "phone", row.phone.clone());
    }
    if row.address.is_some() {
        change!(address, "address", row.address.clone());
    }
    change!(regency_code, "regencyCode", row.regency_code.clone());
    change!(district_code, "districtCode", row.district_code.clone());
    if row.village_code.is_some() || row.district_code != before.district_code {
        // A person who moved district keeps no village of the old one.
        change!(village_code, "villageCode", row.village_code.clone());
    }
    let same_assessment = row.decile == before.decile
        && wire(row.decile_source) == before.decile_source
        && row.decile_assessed_on == before.decile_assessed_on;
    let older = row.decile_assessed_on < before.decile_assessed_on;
    if !same_assessment && !older {
        change!(decile, "decile", row.decile);
        change!(decile_source, "decileSource", wire(row.decile_source));
        change!(decile_assessed_on, "decileAssessedOn", row.decile_assessed_on);
    }
    (after, fields, !same_assessment && older)
}
