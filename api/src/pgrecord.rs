//! Rows of a table read from PostgreSQL's binary format, by position rather than by name.
//!
//! - [`records`]: an array of anonymous records (`ARRAY(SELECT ROW(c.id, c.business_id, …) FROM
//!   … c)`), how a relation folded into its parent's statement arrives (`loaders.rs`).
//! - [`all`] and [`Positions`]: the rows of a `SELECT` of an entity's columns. SeaORM's derived
//!   reader looks every column up by name and checks its type through the driver, which cost a
//!   quarter of a list page's CPU (BENCHMARKS.md, step 13); here each value is read at its
//!   position once the statement's columns are known to be the entity's, in its order.
//!
//! Each field carries its type, so a value is read straight into the model's field, as that
//! field's type ([`BinaryModel`]): a field of another type is an error, never a coercion. Nothing
//! here panics on bad bytes or values out of range: it is an error. A statement whose columns are
//! not the entity's, a row in the text format and another database are read by SeaORM's reader.

use chrono::NaiveDate;
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable, QueryResult,
    QuerySelect, QueryTrait, Select,
    sqlx::{
        Column, Row, ValueRef,
        postgres::{PgRow, PgValueFormat},
    },
};
use uuid::Uuid;

use crate::columns::Read;

/// The rows `select` reads, as models: by position on PostgreSQL, by SeaORM elsewhere.
pub async fn all<E>(db: &impl ConnectionTrait, select: Select<E>) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: BinaryModel,
{
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres {
        return select.all(db).await;
    }
    let rows = db.query_all_raw(select.build(backend)).await?;
    let positions = Positions::<E>::of(rows.first());
    models(&rows, &positions)
}

/// `rows` read into models, into a vector of their number (collecting the results would grow
/// it step by step, copying the models each time).
fn models<E: EntityTrait>(rows: &[QueryResult], positions: &Positions<E>) -> Result<Vec<E::Model>, DbErr>
where
    E::Model: BinaryModel,
{
    let mut models = Vec::with_capacity(rows.len());
    for row in rows {
        models.push(positions.model(row)?);
    }
    Ok(models)
}

/// The first `limit` rows `select` reads (a page), of whose text columns only those in `read`
/// (`columns.rs`): the other fields take their type's default. On PostgreSQL, by position, with
/// the limit written into the statement rather than bound: PostgreSQL plans a statement whose
/// limit is a parameter anew at every execution (a generic plan cannot tell a page from the
/// whole table), which cost a list page more than reading it; with the limit written, the
/// prepared statement keeps its plan. Elsewhere, or for rows that cannot be read by position,
/// every column is read.
pub async fn page<E>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    read: Read<E>,
    limit: u64,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: BinaryModel,
{
    let backend = db.get_database_backend();
    if backend != DbBackend::Postgres {
        return select.limit(limit).all(db).await;
    }
    let mut statement = read.apply(select.clone()).build(backend);
    // A number, never a client's text (a page holds at most `page::MAX_PAGE` + 1 rows).
    statement.sql.push_str(&format!(" LIMIT {limit}"));
    let rows = db.query_all_raw(statement).await?;
    let positions = Positions::<E>::reading(rows.first(), read);
    if !rows.is_empty() && read != Read::ALL && !positions.by_position() {
        // Rows in the text format are SeaORM's to read, which takes no placeholder: read whole.
        return all(db, select.limit(limit)).await;
    }
    models(&rows, &positions)
}

/// How the leading columns of a statement's rows are read into `E`'s models: by position when
/// they are `E`'s columns in `E`'s order and no later column repeats one of their names (SeaORM
/// would read the later one), decided once from the first row (a statement's rows all have the
/// same columns); by SeaORM's reader otherwise. Columns after them (relations folded into the
/// statement) are left to their readers.
pub struct Positions<E: EntityTrait> {
    by_position: bool,
    /// The columns the statement reads; the others hold a placeholder.
    read: Read<E>,
}

impl<E> Positions<E>
where
    E: EntityTrait,
    E::Model: BinaryModel,
{
    /// The reader for rows like `first` (a statement's rows share their columns and their format:
    /// binary for every statement SeaORM binds values to).
    pub fn of(first: Option<&QueryResult>) -> Self {
        Self::reading(first, Read::ALL)
    }

    /// Like [`Positions::of`], for a statement that reads the columns in `read` (the others as
    /// placeholders, `Read::apply`): those fields take their type's default. Such rows are read
    /// by position only ([`Positions::read`]): SeaORM's reader would take a placeholder for a
    /// value.
    pub fn reading(first: Option<&QueryResult>, read: Read<E>) -> Self {
        let columns: Vec<E::Column> = E::Column::iter().collect();
        let by_position = first.and_then(QueryResult::try_as_pg_row).is_some_and(|row| {
            let (leading, later) = row.columns().split_at(columns.len().min(row.columns().len()));
            let binary = row.try_get_raw(0).is_ok_and(|value| value.format() == PgValueFormat::Binary);
            binary
                && leading.len() == columns.len()
                && leading.iter().zip(&columns).all(|(found, column)| found.name() == column.as_str())
                && !later.iter().any(|found| columns.iter().any(|column| found.name() == column.as_str()))
        });
        Self { by_position, read }
    }

    /// Whether rows are read by position (else by SeaORM's reader).
    pub fn by_position(&self) -> bool {
        self.by_position
    }

    /// The model in `row`: by position when the statement's columns are `E`'s in the binary
    /// format, by SeaORM's reader otherwise. A value the positional reader refuses is an error,
    /// not left to SeaORM's reader: both read the same types, and SeaORM's panics on some values
    /// (an `infinity` date).
    pub fn model(&self, row: &QueryResult) -> Result<E::Model, DbErr> {
        if self.by_position || self.read != Read::ALL {
            return self.read(row);
        }
        E::Model::from_query_result(row, "")
    }

    /// The model in `row`, read by position only: an error where [`Positions::model`] would fall
    /// back to SeaORM's reader, and for rows whose columns are not `E`'s in order.
    pub fn read(&self, row: &QueryResult) -> Result<E::Model, DbErr> {
        if !self.by_position {
            return Err(bad("the statement's columns are not the entity's, in its order"));
        }
        let row: &PgRow = row.try_as_pg_row().ok_or_else(|| bad("not a PostgreSQL row"))?;
        let mut position = 0;
        E::Model::read(|| {
            position += 1;
            if !self.read.has(position - 1) {
                return Ok(None);
            }
            let raw = row.try_get_raw(position - 1).map_err(bad)?;
            if raw.format() != PgValueFormat::Binary {
                return Err(bad("a value in the text format"));
            }
            let kind = raw.type_info().oid().map_or(0, |oid| oid.0);
            Ok(Some((kind, if raw.is_null() { None } else { Some(raw.as_bytes().map_err(bad)?) })))
        })
    }
}

/// A model read from its columns' fields in order, each given by a function as its type (a
/// PostgreSQL type id) and its binary form (`None` for NULL): each field is read as the model's
/// field's type, and a field of another type is an error, never a coercion. Implemented by
/// [`binary_models!`] for every table whose rows are read here.
pub trait BinaryModel: Sized {
    /// The model's fields, in the order they are read: its entity's columns, in their order.
    const FIELDS: &'static [&'static str];

    /// Reads the model: `field` gives each field's type and binary form, or `None` for a column
    /// the statement did not read (`columns.rs`), which takes its type's default.
    fn read<'a>(field: impl FnMut() -> Result<Option<(u32, Option<&'a [u8]>)>, DbErr>)
    -> Result<Self, DbErr>;
}

/// A field's value from its type and binary form; `Err` says what is wrong with it.
trait Field: Sized {
    fn field(kind: u32, bytes: Option<&[u8]>) -> Result<Self, String>;
}

/// A type a field is read as: the PostgreSQL types it is read from, and its value from the
/// binary form of one of them.
trait Scalar: Sized {
    const KINDS: &'static [u32];

    fn scalar(bytes: &[u8]) -> Result<Self, String>;

    /// Whether a field of type `kind` can be read as this type (a NULL too: a column of another
    /// type is refused whatever its value).
    fn accepts(kind: u32) -> Result<(), String> {
        match Self::KINDS.contains(&kind) {
            true => Ok(()),
            false => {
                Err(format!("a field of type {kind} where one of the types {:?} was expected", Self::KINDS))
            }
        }
    }
}

impl<T: Scalar> Field for T {
    fn field(kind: u32, bytes: Option<&[u8]>) -> Result<Self, String> {
        T::accepts(kind)?;
        T::scalar(bytes.ok_or("a NULL in a column that holds none")?)
    }
}

impl<T: Scalar> Field for Option<T> {
    fn field(kind: u32, bytes: Option<&[u8]>) -> Result<Self, String> {
        T::accepts(kind)?;
        bytes.map(T::scalar).transpose()
    }
}

/// The `N` bytes of a fixed-size value.
fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    bytes.try_into().map_err(|_| format!("{} bytes for a value of {N} bytes", bytes.len()))
}

impl Scalar for bool {
    const KINDS: &'static [u32] = &[BOOL];

    fn scalar(bytes: &[u8]) -> Result<Self, String> {
        fixed::<1>(bytes).map(|[b]| b != 0)
    }
}

impl Scalar for i32 {
    const KINDS: &'static [u32] = &[INT4];

    fn scalar(bytes: &[u8]) -> Result<Self, String> {
        fixed(bytes).map(i32::from_be_bytes)
    }
}

impl Scalar for i64 {
    const KINDS: &'static [u32] = &[INT8];

    fn scalar(bytes: &[u8]) -> Result<Self, String> {
        fixed(bytes).map(i64::from_be_bytes)
    }
}

impl Scalar for String {
    const KINDS: &'static [u32] = &[TEXT, VARCHAR, BPCHAR];

    fn scalar(bytes: &[u8]) -> Result<Self, String> {
        std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| "text that is not UTF-8".into())
    }
}

impl Scalar for Uuid {
    const KINDS: &'static [u32] = &[UUID];

    fn scalar(bytes: &[u8]) -> Result<Self, String> {
        fixed(bytes).map(Uuid::from_bytes)
    }
}

impl Scalar for NaiveDate {
    const KINDS: &'static [u32] = &[DATE];

    fn scalar(bytes: &[u8]) -> Result<Self, String> {
        let days = fixed(bytes).map(i32::from_be_bytes)?;
        // `infinity` and `-infinity` are the extremes of the type: out of range, an error.
        days.checked_add(EPOCH_DAYS_FROM_CE)
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .ok_or_else(|| "a date out of range".into())
    }
}

impl Scalar for chrono::DateTime<chrono::Utc> {
    const KINDS: &'static [u32] = &[TIMESTAMPTZ];

    fn scalar(bytes: &[u8]) -> Result<Self, String> {
        let micros = fixed(bytes).map(i64::from_be_bytes)?;
        micros
            .checked_add(EPOCH_UNIX_MICROS)
            .and_then(chrono::DateTime::from_timestamp_micros)
            .ok_or_else(|| "an instant out of range".into())
    }
}

/// Implements [`BinaryModel`] for the models of `entity::…` modules, each with its fields in its
/// columns' order (a unit test holds each list to its entity's columns, through
/// `binary_models()`; a field left out does not compile).
macro_rules! binary_models {
    ($($table:ident { $($field:ident),* $(,)? }),* $(,)?) => {
        /// Each table with a [`BinaryModel`]: its name, the model's fields and the entity's
        /// columns with their types, in order.
        #[cfg(test)]
        fn binary_models() -> Vec<(&'static str, &'static [&'static str], Vec<(&'static str, sea_orm::ColumnType)>)> {
            use sea_orm::ColumnTrait;
            vec![$((
                stringify!($table),
                <entity::$table::Model as BinaryModel>::FIELDS,
                <entity::$table::Column as Iterable>::iter()
                    .map(|c| (c.as_str(), c.def().get_column_type().clone()))
                    .collect(),
            )),*]
        }
        $(
        impl BinaryModel for entity::$table::Model {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn read<'a>(
                mut field: impl FnMut() -> Result<Option<(u32, Option<&'a [u8]>)>, DbErr>,
            ) -> Result<Self, DbErr> {
                // A struct's fields are evaluated in the order written: the columns' order.
                Ok(Self {$(
                    $field: match field()? {
                        Some((kind, bytes)) => Field::field(kind, bytes).map_err(|err| {
                            bad(format!("{}.{}: {err}", stringify!($table), stringify!($field)))
                        })?,
                        None => Default::default(),
                    },
                )*})
            }
        }
    )*};
}

binary_models! {
    assistance { id, beneficiary_id, regency_code, programme, amount, items, period_start, period_end, fund_source, disbursed_on, decile, decile_source, decile_assessed_on, status, status_reason, version, created_by_agency, created_by_client, created_at, updated_at, business_id, interest, requested_goods, price_assessment, price_assessed_on },
    beneficiary { id, nik, kk_number, is_head_of_family, full_name, birth_date, sex, phone, address, regency_code, district_code, village_code, decile, decile_source, decile_assessed_on, status, status_reason, is_demo, version, created_by_agency, created_by_client, created_at, updated_at },
    business { id, beneficiary_id, regency_code, name, sector, previously_stopped, stop_cause, nib, monthly_revenue, workers, lead_agency, started_on, status, status_reason, status_changed_on, closure_proposed_by_visit, closure_proposed_on, version, created_by_agency, created_by_client, created_at, updated_at, level, volunteer_id, graduated_on },
    infrastructure_request { id, beneficiary_id, regency_code, district_code, village_code, kind, location, estimated_cost, survey_notes, has_land_proof, is_only_house, housing_aid_last_10_years, decision_reason, status, status_reason, version, created_by_agency, created_by_client, created_at, updated_at },
    loan_application { id, business_id, beneficiary_id, regency_code, product, lender, requested_amount, approved_amount, tenor_months, has_collateral, decision_reason, status, status_reason, version, created_by_agency, created_by_client, created_at, updated_at },
    market_service { id, business_id, beneficiary_id, regency_code, kind, provider, description, planned_on, started_on, completed_on, result, status, status_reason, version, created_by_agency, created_by_client, created_at, updated_at },
    monitoring_visit { id, business_id, beneficiary_id, regency_code, volunteer_name, visited_on, observed_status, revenue_estimate, obstacles, notes, follow_up_needed, version, created_by_agency, created_by_client, created_at, updated_at },
    pii_access_log { id, beneficiary_id, regency_code, fields, actor_agency, actor_client, token_id, operation, purpose, accessed_at },
    referral { id, beneficiary_id, business_id, regency_code, from_agency, to_agency, service, reason, due_by, outcome_type, outcome_id, response_note, status, status_reason, version, created_by_agency, created_by_client, created_at, updated_at, resent_from, visit_id },
    training { id, organiser_agency, title, topic, regency_code, venue, starts_on, ends_on, capacity, seats_taken, status, status_reason, version, created_by_agency, created_by_client, created_at, updated_at },
    training_enrollment { id, training_id, beneficiary_id, business_id, regency_code, certificate_no, status, status_reason, version, created_by_agency, created_by_client, created_at, updated_at },
    volunteer { id, name, kind, regency_code, district_code, status, status_reason, version, created_by_agency, created_by_client, created_at, updated_at },
    webhook_delivery { id, webhook_id, seq, attempt, outcome, response_status, error, duration_ms, attempted_at },
}

/// The rows of `E` in `bytes` (a one-dimensional array of records, or an empty array); the
/// columns outside `read` hold a placeholder (`NULL`), and their fields take their type's default.
pub fn records<E>(bytes: &[u8], read: Read<E>) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: BinaryModel,
{
    let mut array = Bytes(bytes);
    let dimensions = array.i32()?;
    if dimensions == 0 {
        return Ok(Vec::new());
    }
    if dimensions != 1 {
        return Err(bad(format!("an array of {dimensions} dimensions")));
    }
    let _has_nulls = array.i32()?;
    let _element_type = array.u32()?;
    let length = usize::try_from(array.i32()?).map_err(|_| bad("a negative length"))?;
    let _lower_bound = array.i32()?;
    let columns = E::Model::FIELDS;
    // Each row takes at least its 4-byte length: a length the bytes cannot hold is not believed.
    let mut rows = Vec::with_capacity(length.min(array.0.len() / 4));
    for _ in 0..length {
        let mut record = Bytes(array.sized()?.ok_or_else(|| bad("a null row"))?);
        let fields = record.i32()?;
        if usize::try_from(fields).ok() != Some(columns.len()) {
            return Err(bad(format!("a row of {fields} fields, not {}", columns.len())));
        }
        let mut column = 0;
        rows.push(E::Model::read(|| {
            let field = (record.u32()?, record.sized()?);
            column += 1;
            Ok(read.has(column - 1).then_some(field))
        })?);
        if !record.0.is_empty() {
            return Err(bad("bytes after a row's last field"));
        }
    }
    if !array.0.is_empty() {
        return Err(bad("bytes after the last row"));
    }
    Ok(rows)
}

/// PostgreSQL's epoch for dates and instants in the binary format.
/// PostgreSQL's epoch, 2000-01-01, in days from 0001-01-01 (chrono's day numbers): a date is
/// stored as days from it.
const EPOCH_DAYS_FROM_CE: i32 = 730_120;
/// PostgreSQL's epoch in microseconds from the Unix epoch: an instant is stored as microseconds
/// from it.
const EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

// PostgreSQL's type ids (`pg_type.oid`) of the types case records use.
const BOOL: u32 = 16;
const INT8: u32 = 20;
const INT4: u32 = 23;
const TEXT: u32 = 25;
const BPCHAR: u32 = 1042;
const VARCHAR: u32 = 1043;
const DATE: u32 = 1082;
const TIMESTAMPTZ: u32 = 1184;
const UUID: u32 = 2950;

fn bad(what: impl std::fmt::Display) -> DbErr {
    DbErr::Type(format!("rows in PostgreSQL's binary format: {what}"))
}

/// The bytes not read yet.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DbErr> {
        if self.0.len() < n {
            return Err(bad("the bytes end early"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, DbErr> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i32(&mut self) -> Result<i32, DbErr> {
        self.u32().map(|n| n as i32)
    }

    /// A length-prefixed value: `None` for NULL (length −1).
    fn sized(&mut self) -> Result<Option<&'a [u8]>, DbErr> {
        match self.i32()? {
            -1 => Ok(None),
            n => self.take(usize::try_from(n).map_err(|_| bad("a negative length"))?).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::loan_application;

    /// One field in the binary record format.
    fn field(out: &mut Vec<u8>, kind: u32, bytes: Option<&[u8]>) {
        out.extend(kind.to_be_bytes());
        match bytes {
            Some(b) => {
                out.extend((b.len() as i32).to_be_bytes());
                out.extend(b);
            }
            None => out.extend((-1i32).to_be_bytes()),
        }
    }

    /// A loan application as PostgreSQL sends it inside `ARRAY(SELECT ROW(…))`.
    fn loan(id: Uuid, approved: Option<i64>) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend(18i32.to_be_bytes());
        let business = Uuid::from_u128(2);
        field(&mut r, UUID, Some(id.as_bytes()));
        field(&mut r, UUID, Some(business.as_bytes()));
        field(&mut r, UUID, Some(Uuid::from_u128(3).as_bytes()));
        field(&mut r, VARCHAR, Some(b"6472"));
        field(&mut r, VARCHAR, Some(b"KUR_MICRO"));
        field(&mut r, VARCHAR, Some(b"Bank Kaltimtara"));
        field(&mut r, INT8, Some(&25_000_000i64.to_be_bytes()));
        field(&mut r, INT8, approved.map(i64::to_be_bytes).as_ref().map(|b| &b[..]));
        field(&mut r, INT4, Some(&24i32.to_be_bytes()));
        field(&mut r, BOOL, Some(&[1]));
        field(&mut r, TEXT, None);
        field(&mut r, VARCHAR, Some(b"SUBMITTED"));
        field(&mut r, TEXT, None);
        field(&mut r, INT4, Some(&1i32.to_be_bytes()));
        field(&mut r, VARCHAR, Some(b"DISPERINDAGKOP"));
        field(&mut r, VARCHAR, Some(b"koperasi"));
        // 2025-01-01T00:00:00.000001Z and a day later, in microseconds since 2000-01-01.
        let at = 789_004_800_000_001i64;
        field(&mut r, TIMESTAMPTZ, Some(&at.to_be_bytes()));
        field(&mut r, TIMESTAMPTZ, Some(&(at + 86_400_000_000).to_be_bytes()));
        r
    }

    /// The loan applications in `bytes`, every column read.
    fn loans(bytes: &[u8]) -> Result<Vec<loan_application::Model>, DbErr> {
        records::<loan_application::Entity>(bytes, Read::ALL)
    }

    fn array(records: &[Vec<u8>]) -> Vec<u8> {
        let mut a = Vec::new();
        for n in [1i32, 0, 2249, records.len() as i32, 1] {
            a.extend(n.to_be_bytes());
        }
        for r in records {
            a.extend((r.len() as i32).to_be_bytes());
            a.extend(r);
        }
        a
    }

    #[test]
    fn an_array_of_records_reads_back_as_the_rows_it_holds() {
        let (first, second) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let rows = loans(&array(&[loan(first, None), loan(second, Some(20_000_000))])).expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].id, rows[0].approved_amount), (first, None));
        assert_eq!((rows[1].id, rows[1].approved_amount), (second, Some(20_000_000)));
        let row = &rows[0];
        assert_eq!(
            (row.regency_code.as_str(), row.requested_amount, row.tenor_months),
            ("6472", 25_000_000, 24)
        );
        assert!(row.has_collateral && row.decision_reason.is_none());
        assert_eq!(row.created_at.to_rfc3339(), "2025-01-01T00:00:00.000001+00:00");
        assert_eq!(row.updated_at.to_rfc3339(), "2025-01-02T00:00:00.000001+00:00");
    }

    /// Every column of every table read here has a type this module reads: a column of another
    /// type (JSON, numeric, an enum, citext…) must be taught here first, or every page of its
    /// table fails (a value the reader refuses is an error, not left to SeaORM's reader).
    #[test]
    fn every_column_of_a_table_read_here_has_a_type_read_here() {
        use sea_orm::ColumnType;
        for (table, _, columns) in binary_models() {
            for (column, kind) in columns {
                let read = matches!(
                    kind,
                    ColumnType::Uuid
                        | ColumnType::String(_)
                        | ColumnType::Text
                        | ColumnType::Char(_)
                        | ColumnType::Integer
                        | ColumnType::BigInteger
                        | ColumnType::Boolean
                        | ColumnType::Date
                        | ColumnType::TimestampWithTimeZone
                );
                assert!(read, "{table}.{column}: {kind:?}");
            }
        }
    }

    /// Each model's fields are read in its entity's columns' order, which is the order of the
    /// columns a statement selects (`Entity::find()`) and folds (`ROW(…)`).
    #[test]
    fn every_model_reads_its_fields_in_its_columns_order() {
        let models = binary_models();
        assert_eq!(models.len(), 13);
        for (table, fields, columns) in models {
            let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
            assert_eq!(fields, names.as_slice(), "{table}");
        }
    }

    #[test]
    fn a_field_is_read_only_as_its_own_type() {
        assert_eq!(i32::field(INT4, Some(&7i32.to_be_bytes())).ok(), Some(7));
        assert!(i32::field(INT8, Some(&7i64.to_be_bytes())).is_err(), "a bigint is no integer");
        assert!(i64::field(INT4, Some(&7i32.to_be_bytes())).is_err(), "nor an integer a bigint");
        assert!(String::field(UUID, Some(Uuid::nil().as_bytes())).is_err());
        assert!(String::field(TEXT, None).is_err(), "a NULL where the column holds none");
        assert_eq!(Option::<String>::field(TEXT, None).ok(), Some(None));
        assert!(Option::<i32>::field(INT8, None).is_err(), "a NULL of a column of another type");
        assert!(String::field(TEXT, Some(&[0xff, 0xfe])).is_err(), "not UTF-8");
        assert!(bool::field(BOOL, Some(&[1, 0])).is_err(), "two bytes for a boolean");
        // `infinity` dates and instants: out of range, an error rather than a panic.
        assert!(NaiveDate::field(DATE, Some(&i32::MAX.to_be_bytes())).is_err());
        assert!(chrono::DateTime::<chrono::Utc>::field(TIMESTAMPTZ, Some(&i64::MAX.to_be_bytes())).is_err());
        assert!(chrono::DateTime::<chrono::Utc>::field(TIMESTAMPTZ, Some(&i64::MIN.to_be_bytes())).is_err());
        assert!(NaiveDate::field(DATE, Some(&i32::MIN.to_be_bytes())).is_err());
    }

    /// Dates are days and instants microseconds from 2000-01-01, PostgreSQL's epoch.
    #[test]
    fn dates_and_instants_count_from_the_postgresql_epoch() {
        let date = |days: i32| NaiveDate::field(DATE, Some(&days.to_be_bytes())).ok();
        assert_eq!(date(0), NaiveDate::from_ymd_opt(2000, 1, 1));
        assert_eq!(date(-1), NaiveDate::from_ymd_opt(1999, 12, 31));
        assert_eq!(date(9_561), NaiveDate::from_ymd_opt(2026, 3, 6));
        let instant = |micros: i64| {
            chrono::DateTime::<chrono::Utc>::field(TIMESTAMPTZ, Some(&micros.to_be_bytes())).ok()
        };
        let at = |text: &str| text.parse::<chrono::DateTime<chrono::Utc>>().ok();
        assert_eq!(instant(0), at("2000-01-01T00:00:00Z"));
        assert_eq!(instant(-1), at("1999-12-31T23:59:59.999999Z"));
        assert_eq!(instant(826_111_445_123_456), at("2026-03-06T11:24:05.123456Z"));
    }

    #[test]
    fn an_empty_array_is_no_rows() {
        assert_eq!(loans(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 201]).map(|r| r.len()).ok(), Some(0));
    }

    #[test]
    fn bad_bytes_are_an_error_not_a_panic() {
        let good = array(&[loan(Uuid::from_u128(1), None)]);
        for cut in 0..good.len() {
            assert!(loans(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut wrong_type = loan(Uuid::from_u128(1), None);
        wrong_type[4..8].copy_from_slice(&TEXT.to_be_bytes());
        assert!(loans(&array(&[wrong_type])).is_err(), "a uuid column given text");
        let mut inflated = good.clone();
        inflated[12..16].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(loans(&inflated).is_err(), "a length the bytes cannot hold");
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(loans(&trailing).is_err(), "bytes after the last row");
        let mut short = loan(Uuid::from_u128(1), None);
        short[..4].copy_from_slice(&17i32.to_be_bytes());
        assert!(loans(&array(&[short])).is_err(), "a field too few");
    }
}
