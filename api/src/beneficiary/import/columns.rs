//! The columns of a register extract and the checks of one row, on its own (no database).

use chrono::NaiveDate;
use csv::ByteRecord;

use crate::{
    auth::Actor,
    beneficiary::{DecileSource, Sex},
    error::ServiceError,
    identity::{check_kk, check_nik},
    records::in_regions,
    regions::Regions,
};

/// A column of the extract, by its canonical name; docs/import.md lists them.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum Field {
    Nik,
    KkNumber,
    IsHeadOfFamily,
    FullName,
    BirthDate,
    Sex,
    Phone,
    Address,
    RegencyCode,
    DistrictCode,
    VillageCode,
    Decile,
    DecileSource,
    DecileAssessedOn,
}

/// Each column: its canonical name, the names DTKS/DTSEN extracts also use, and whether the
/// file must have it.
const COLUMNS: [(Field, &str, &[&str], bool); 14] = [
    (Field::Nik, "nik", &[], true),
    (Field::KkNumber, "kk_number", &["no_kk", "nomor_kk", "kk"], true),
    (Field::IsHeadOfFamily, "is_head_of_family", &["kepala_keluarga"], true),
    (Field::FullName, "full_name", &["nama", "nama_lengkap"], true),
    (Field::BirthDate, "birth_date", &["tanggal_lahir", "tgl_lahir"], true),
    (Field::Sex, "sex", &["jenis_kelamin"], true),
    (Field::Phone, "phone", &["no_hp", "telepon"], false),
    (Field::Address, "address", &["alamat"], false),
    (Field::RegencyCode, "regency_code", &["kode_kabupaten", "kode_kab"], true),
    (Field::DistrictCode, "district_code", &["kode_kecamatan", "kode_kec"], true),
    (Field::VillageCode, "village_code", &["kode_desa", "kode_kelurahan"], false),
    (Field::Decile, "decile", &["desil"], true),
    (Field::DecileSource, "decile_source", &["sumber_desil", "sumber_data"], true),
    (Field::DecileAssessedOn, "decile_assessed_on", &["tanggal_penilaian", "tgl_penilaian"], true),
];

/// Where each column sits in the file, and the file's own name for it.
pub struct Header {
    at: [Option<(usize, String)>; COLUMNS.len()],
    /// The number of fields of the header row; every row must have as many.
    width: usize,
    /// Columns this import does not read (reported in the summary).
    pub ignored: Vec<String>,
}

fn normalise(name: &str) -> String {
    name.trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

impl Header {
    /// Reads the header row: every required column present, none twice.
    pub fn parse(record: &ByteRecord) -> Result<Self, String> {
        let mut at: [Option<(usize, String)>; COLUMNS.len()] = Default::default();
        let mut ignored = Vec::new();
        for (position, raw) in record.iter().enumerate() {
            let name = String::from_utf8_lossy(raw).to_string();
            let key = normalise(&name);
            let found = COLUMNS
                .iter()
                .position(|(_, canonical, aliases, _)| *canonical == key || aliases.contains(&key.as_str()));
            match found {
                Some(i) => {
                    if let Some((_, first)) = &at[i] {
                        return Err(format!(
                            "columns `{first}` and `{}` both give {}; keep one",
                            name.trim(),
                            COLUMNS[i].1
                        ));
                    }
                    at[i] = Some((position, name.trim().to_owned()));
                }
                None if key.is_empty() => {}
                None => ignored.push(name.trim().to_owned()),
            }
        }
        let missing: Vec<&str> = COLUMNS
            .iter()
            .zip(&at)
            .filter(|((_, _, _, required), found)| *required && found.is_none())
            .map(|((_, canonical, _, _), _)| *canonical)
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the header lacks required column(s): {} (docs/import.md lists the columns and the names extracts use)",
                missing.join(", ")
            ));
        }
        Ok(Self { at, ignored, width: record.len() })
    }

    fn slot(field: Field) -> usize {
        COLUMNS.iter().position(|(f, ..)| *f == field).unwrap_or(0)
    }

    /// The file's name for a column (its canonical name when the file lacks it).
    pub fn name(&self, field: Field) -> &str {
        let slot = Self::slot(field);
        self.at[slot].as_ref().map(|(_, name)| name.as_str()).unwrap_or(COLUMNS[slot].1)
    }
}

/// One problem with a row: the column (the file's name for it) and why.
#[derive(Debug, Clone)]
pub struct Problem {
    pub column: String,
    pub reason: String,
}

/// A row that passed its own checks.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub nik: String,
    pub kk_number: String,
    pub is_head_of_family: bool,
    pub full_name: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub regency_code: String,
    pub district_code: String,
    pub village_code: Option<String>,
    pub decile: i32,
    pub decile_source: DecileSource,
    pub decile_assessed_on: NaiveDate,
    /// Warnings (a NIK issued outside Kaltim, a birth date the NIK disagrees with): loaded.
    pub warnings: u64,
}

/// What identifies a row for the file-wide checks, when its NIK at least is well-formed.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub nik: [u8; 16],
    pub kk: Option<[u8; 16]>,
    pub head: bool,
}

/// Sixteen ASCII digits, as a key.
pub fn digits16(value: &str) -> Option<[u8; 16]> {
    let bytes = value.as_bytes();
    (bytes.len() == 16 && bytes.iter().all(u8::is_ascii_digit)).then(|| {
        let mut key = [0u8; 16];
        key.copy_from_slice(bytes);
        key
    })
}

/// What the row-level checks need.
pub struct Checks<'a> {
    pub regions: &'a Regions,
    pub actor: &'a Actor,
    pub today: NaiveDate,
}

/// A row parsed: the row when every check passed, else its problems; its key when the NIK is
/// well-formed.
pub struct Parsed {
    pub row: Result<Row, Vec<Problem>>,
    pub key: Option<Key>,
}

fn reason(err: ServiceError) -> String {
    match err {
        ServiceError::Validation { message, .. } => message,
        other => other.to_string(),
    }
}

/// `YYYY-MM-DD`, or `DD-MM-YYYY` / `DD/MM/YYYY` as Indonesian extracts write dates.
/// The year must have four digits (`17-03-85` is not read as the year 85).
fn date(value: &str) -> Result<NaiveDate, String> {
    use chrono::Datelike;
    let date = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(value, format).ok())
        .ok_or_else(|| "not a date: write YYYY-MM-DD (or DD-MM-YYYY)".to_owned())?;
    if date.year() < 1900 {
        return Err("write the year in four digits (a year before 1900 is not a register date)".into());
    }
    Ok(date)
}

/// A yes/no cell. Empty is not an answer: read as "no", it would demote a registered head.
fn flag(value: &str) -> Result<bool, String> {
    match value.to_lowercase().as_str() {
        "true" | "t" | "ya" | "y" | "1" | "yes" => Ok(true),
        "false" | "f" | "tidak" | "n" | "0" | "no" => Ok(false),
        _ => Err("write true/false (or ya/tidak, 1/0)".to_owned()),
    }
}

fn sex(value: &str) -> Result<Sex, String> {
    match value.to_uppercase().as_str() {
        "MALE" | "L" | "LAKI-LAKI" | "LAKI_LAKI" => Ok(Sex::Male),
        "FEMALE" | "P" | "PEREMPUAN" => Ok(Sex::Female),
        _ => Err("write MALE or FEMALE (or L / P)".to_owned()),
    }
}

/// A Kemendagri code as extracts write it, with or without dots (`64.72.01` is `647201`).
fn code(value: &str) -> String {
    value.chars().filter(|c| *c != '.').collect()
}

/// Checks one data row on its own: every problem is reported, not only the first.
pub fn parse(header: &Header, record: &ByteRecord, line: u64, checks: &Checks<'_>) -> Parsed {
    let mut problems: Vec<Problem> = Vec::new();
    let mut problem = |field: Field, reason: String| {
        problems.push(Problem { column: header.name(field).to_owned(), reason });
    };
    if record.len() != header.width {
        let reason = if record.len() > header.width {
            format!(
                "the row has {} fields, the header {} (a delimiter inside an unquoted cell?)",
                record.len(),
                header.width
            )
        } else {
            format!("the row has {} fields, the header {}", record.len(), header.width)
        };
        return Parsed { row: Err(vec![Problem { column: String::new(), reason }]), key: None };
    }
    // A field's text, trimmed; `None` when the file has no such column or the cell is empty.
    let mut text = |field: Field| -> Option<String> {
        let (position, _) = header.at[Header::slot(field)].as_ref()?;
        let raw = record.get(*position)?;
        match std::str::from_utf8(raw) {
            Ok(value) => Some(value.trim().to_owned()).filter(|v| !v.is_empty()),
            Err(_) => {
                problem(field, "not valid UTF-8 text (save the file as UTF-8)".into());
                None
            }
        }
    };
    let nik = text(Field::Nik);
    let kk_number = text(Field::KkNumber);
    let head = text(Field::IsHeadOfFamily);
    let full_name = text(Field::FullName);
    let birth_date = text(Field::BirthDate);
    let sex_text = text(Field::Sex);
    let phone = text(Field::Phone);
    let address = text(Field::Address);
    let regency = text(Field::RegencyCode).map(|v| code(&v));
    let district = text(Field::DistrictCode).map(|v| code(&v));
    let village = text(Field::VillageCode).map(|v| code(&v));
    let decile = text(Field::Decile);
    let source = text(Field::DecileSource);
    let assessed_on = text(Field::DecileAssessedOn);

    let mut required = |field: Field, value: Option<String>| -> Option<String> {
        if value.is_none() {
            problem(field, "required".into());
        }
        value
    };
    let nik = required(Field::Nik, nik);
    let head = required(Field::IsHeadOfFamily, head);
    let kk_number = required(Field::KkNumber, kk_number);
    let full_name = required(Field::FullName, full_name);
    let birth_date = required(Field::BirthDate, birth_date);
    let sex_text = required(Field::Sex, sex_text);
    let regency = required(Field::RegencyCode, regency);
    let district = required(Field::DistrictCode, district);
    let decile = required(Field::Decile, decile);
    let source = required(Field::DecileSource, source);
    let assessed_on = required(Field::DecileAssessedOn, assessed_on);

    let key = nik.as_deref().and_then(digits16).map(|nik| Key {
        nik,
        kk: kk_number.as_deref().and_then(digits16),
        head: head.as_deref().map(flag).and_then(Result::ok).unwrap_or(false),
    });

    let mut warnings = 0;
    let mut check = |field: Field, result: Result<(), String>| result.map_err(|r| problem(field, r)).is_ok();
    let head = match head.as_deref().map(flag).unwrap_or(Ok(false)) {
        Ok(head) => head,
        Err(r) => {
            check(Field::IsHeadOfFamily, Err(r));
            false
        }
    };
    let sex = sex_text.as_deref().and_then(|v| sex(v).map_err(|r| check(Field::Sex, Err(r))).ok());
    let birth_date = birth_date.as_deref().and_then(|v| {
        date(v)
            .and_then(|d| if d > checks.today { Err("in the future".into()) } else { Ok(d) })
            .map_err(|r| check(Field::BirthDate, Err(r)))
            .ok()
    });
    let assessed_on = assessed_on.as_deref().and_then(|v| {
        date(v)
            .and_then(|d| if d > checks.today { Err("in the future".into()) } else { Ok(d) })
            .map_err(|r| check(Field::DecileAssessedOn, Err(r)))
            .ok()
    });
    if let Some(nik) = &nik {
        match check_nik("nik", nik, sex.map(Into::into), checks.regions, checks.today) {
            Ok(info) => {
                warnings += info.warnings.len() as u64;
                if birth_date.is_some_and(|d| d != info.birth_date) {
                    warnings += 1;
                }
            }
            Err(err) => {
                check(Field::Nik, Err(reason(err)));
            }
        }
    }
    if let Some(kk) = &kk_number {
        match check_kk("kkNumber", kk, checks.regions, checks.today) {
            Ok(found) => warnings += found.len() as u64,
            Err(err) => {
                check(Field::KkNumber, Err(reason(err)));
            }
        }
    }
    let full_name = full_name.and_then(|name| {
        let count = name.chars().count();
        check(Field::FullName, if count > 200 { Err("at most 200 characters".into()) } else { Ok(()) })
            .then_some(name)
    });
    if phone.as_ref().is_some_and(|p| p.chars().count() > 20) {
        check(Field::Phone, Err("at most 20 characters".into()));
    }
    if address.as_ref().is_some_and(|a| a.chars().count() > 2000) {
        check(Field::Address, Err("at most 2000 characters".into()));
    }
    let decile = decile.and_then(|d| match d.parse::<i32>() {
        Ok(d) if (1..=10).contains(&d) => Some(d),
        _ => {
            check(Field::Decile, Err("a whole number 1–10".into()));
            None
        }
    });
    let source = source.and_then(|s| match s.to_uppercase().parse::<DecileSource>() {
        Ok(source) => Some(source),
        Err(_) => {
            check(Field::DecileSource, Err("DTKS or DTSEN".into()));
            None
        }
    });
    let mut regions_ok = false;
    if let (Some(regency), Some(district)) = (&regency, &district) {
        match checks.regions.check_regency("regencyCode", regency) {
            Err(err) => {
                check(Field::RegencyCode, Err(reason(err)));
            }
            Ok(()) if !in_regions(checks.actor, regency) => {
                check(
                    Field::RegencyCode,
                    Err(format!("regency/city {regency} is outside this import's regions")),
                );
            }
            Ok(()) => match checks.regions.check_district("districtCode", district, regency) {
                Err(err) => {
                    check(Field::DistrictCode, Err(reason(err)));
                }
                Ok(()) => match &village {
                    Some(village) => {
                        regions_ok = checks
                            .regions
                            .check_village("villageCode", village, district)
                            .map_err(|err| check(Field::VillageCode, Err(reason(err))))
                            .is_ok();
                    }
                    None => regions_ok = true,
                },
            },
        }
    }
    if !problems.is_empty() || !regions_ok {
        if problems.is_empty() {
            problems
                .push(Problem { column: header.name(Field::RegencyCode).into(), reason: "invalid".into() });
        }
        return Parsed { row: Err(problems), key };
    }
    let row =
        match (nik, kk_number, full_name, birth_date, sex, regency, district, decile, source, assessed_on) {
            (
                Some(nik),
                Some(kk_number),
                Some(full_name),
                Some(birth_date),
                Some(sex),
                Some(regency_code),
                Some(district_code),
                Some(decile),
                Some(decile_source),
                Some(decile_assessed_on),
            ) => Ok(Row {
                line,
                nik,
                kk_number,
                is_head_of_family: head,
                full_name,
                birth_date,
                sex,
                phone,
                address,
                regency_code,
                district_code,
                village_code: village,
                decile,
                decile_source,
                decile_assessed_on,
                warnings,
            }),
            _ => {
                Err(vec![Problem { column: String::new(), reason: "the row did not pass its checks".into() }])
            }
        };
    Parsed { row, key }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_accept_the_names_extracts_use() {
        let record = ByteRecord::from(vec![
            "\u{feff}NIK",
            "No KK",
            "Kepala Keluarga",
            "Nama",
            "Tgl Lahir",
            "Jenis Kelamin",
            "Kode Kab",
            "Kode Kec",
            "Desil",
            "Sumber Desil",
            "Tgl Penilaian",
            "Pekerjaan",
        ]);
        let header = Header::parse(&record);
        assert!(
            header.as_ref().is_ok_and(|h| h.ignored == ["Pekerjaan"] && h.name(Field::KkNumber) == "No KK")
        );
        let short = ByteRecord::from(vec!["nik", "nama"]);
        assert!(Header::parse(&short).is_err_and(|e| e.contains("kk_number") && e.contains("decile")));
        let twice = ByteRecord::from(vec!["nama", "full_name"]);
        assert!(Header::parse(&twice).is_err_and(|e| e.contains("both")));
    }

    #[test]
    fn dates_flags_and_codes_take_the_usual_spellings() {
        assert_eq!(date("2024-07-01"), NaiveDate::from_ymd_opt(2024, 7, 1).ok_or(String::new()));
        assert_eq!(date("01-07-2024"), date("01/07/2024"));
        assert!(date("2024/07/01").is_err());
        assert_eq!(flag("Ya"), Ok(true));
        assert_eq!(flag("0"), Ok(false));
        assert!(flag("maybe").is_err() && flag("").is_err());
        assert_eq!((flag("t"), flag("f")), (Ok(true), Ok(false)));
        assert!(date("17-03-85").is_err());
        assert_eq!(sex("p"), Ok(Sex::Female));
        assert_eq!(code("64.72.01"), "647201");
    }
}
