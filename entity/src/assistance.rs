//! Assistance (bantuan) given to a beneficiary: BLT, sembako, a business starter package.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assistance")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub beneficiary_id: Uuid,
    pub regency_code: String,
    pub programme: String,
    pub amount: i64,
    pub items: Option<String>,
    pub period_start: Date,
    pub period_end: Option<Date>,
    pub fund_source: String,
    pub disbursed_on: Option<Date>,
    /// Eligibility snapshot: the decile, its source and as-of date when the decision was made.
    pub decile: i32,
    pub decile_source: String,
    pub decile_assessed_on: Date,
    pub status: String,
    /// The reason given with the last move that ended or refused the record.
    pub status_reason: Option<String>,
    pub version: i32,
    pub created_by_agency: String,
    pub created_by_client: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
