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
    /// A starter package: the business it equips.
    pub business_id: Option<Uuid>,
    /// A starter package: the business the person wants to run (their own interest).
    pub interest: Option<String>,
    /// A starter package: the goods the person asked for.
    pub requested_goods: Option<String>,
    /// A starter package: the assessed local price of the goods, whole rupiah.
    pub price_assessment: Option<i64>,
    /// A starter package: when the price was assessed.
    pub price_assessed_on: Option<Date>,
}

impl ActiveModelBehavior for ActiveModel {}
