//! Kaltim's Kemendagri region codes, shipped as reference data; every code written is checked here.
//!
//! Kemendagri codes are the scheme NIK and KK use. BPS numbers some regencies differently, so
//! the BPS code is kept only as an attribute, never used as a key.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set, sea_query::OnConflict};

use crate::error::ServiceError;

/// The province code of Kalimantan Timur.
pub const KALTIM: &str = "64";

const CSV: &str = include_str!("../reference/kaltim-regions.csv");

/// One region.
#[derive(Debug, Clone)]
pub struct Region {
    pub code: String,
    pub level: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub bps_code: Option<String>,
}

impl Region {
    /// A regency (kabupaten) or city (kota).
    pub fn is_regency(&self) -> bool {
        self.level == "regency" || self.level == "city"
    }
}

/// All reference regions, by Kemendagri code.
#[derive(Debug, Clone)]
pub struct Regions {
    by_code: BTreeMap<String, Region>,
}

impl Regions {
    /// Parses the embedded CSV (`code,level,name,parent_code,bps_code`).
    pub fn load() -> Self {
        let by_code = CSV
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .filter_map(|line| {
                let cols: Vec<&str> = line.split(',').map(str::trim).collect();
                let opt = |i: usize| cols.get(i).filter(|s| !s.is_empty()).map(|s| s.to_string());
                Some(Region {
                    code: cols.first()?.to_string(),
                    level: cols.get(1)?.to_string(),
                    name: cols.get(2)?.to_string(),
                    parent_code: opt(3),
                    bps_code: opt(4),
                })
            })
            .map(|r| (r.code.clone(), r))
            .collect();
        Self { by_code }
    }

    /// The region with this Kemendagri code.
    pub fn get(&self, code: &str) -> Option<&Region> {
        self.by_code.get(code)
    }

    /// Kabupaten and kota alike: the level tokens and records are bounded by.
    pub fn regencies(&self) -> impl Iterator<Item = &Region> + '_ {
        self.by_code.values().filter(|r| r.is_regency())
    }

    /// All regions of one level as the CSV names it (`province`, `regency`, `city`, `district`).
    pub fn of_level<'a>(&'a self, level: &'a str) -> impl Iterator<Item = &'a Region> + 'a {
        self.by_code.values().filter(move |r| r.level == level)
    }

    /// Checks a regency/city code.
    pub fn check_regency(&self, field: &str, code: &str) -> Result<(), ServiceError> {
        match self.get(code) {
            Some(r) if r.is_regency() => Ok(()),
            _ => Err(ServiceError::validation(
                field,
                format!("`{code}` is not a Kaltim regency/city Kemendagri code (e.g. 6472)"),
            )),
        }
    }

    /// Checks a district code and that it lies in `regency`.
    pub fn check_district(&self, field: &str, code: &str, regency: &str) -> Result<(), ServiceError> {
        match self.get(code) {
            Some(r) if r.level == "district" && r.parent_code.as_deref() == Some(regency) => Ok(()),
            Some(r) if r.level == "district" => Err(ServiceError::validation(
                field,
                format!("district `{code}` is not in regency/city `{regency}`"),
            )),
            _ => Err(ServiceError::validation(
                field,
                format!("`{code}` is not a Kaltim district Kemendagri code (6 digits)"),
            )),
        }
    }

    /// Checks a village code: 10 digits inside `district` (villages are not in the reference list).
    pub fn check_village(&self, field: &str, code: &str, district: &str) -> Result<(), ServiceError> {
        if code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit()) && code.starts_with(district) {
            Ok(())
        } else {
            Err(ServiceError::validation(
                field,
                format!("`{code}` is not a 10-digit village code inside district `{district}`"),
            ))
        }
    }

    /// Writes the reference regions into the `region` table (idempotent; updates names).
    pub async fn sync(&self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        let rows = self.by_code.values().map(|r| entity::region::ActiveModel {
            code: Set(r.code.clone()),
            level: Set(r.level.clone()),
            name: Set(r.name.clone()),
            parent_code: Set(r.parent_code.clone()),
            bps_code: Set(r.bps_code.clone()),
        });
        entity::region::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(entity::region::Column::Code)
                    .update_columns([
                        entity::region::Column::Level,
                        entity::region::Column::Name,
                        entity::region::Column::ParentCode,
                        entity::region::Column::BpsCode,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        Ok(())
    }
}
