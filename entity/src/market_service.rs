//! A market-access or business-development service (layanan pemasaran dan pengembangan usaha)
//! DISPERINDAGKOP provides to a business.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "market_service")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub business_id: Uuid,
    pub beneficiary_id: Uuid,
    pub regency_code: String,
    pub kind: String,
    pub provider: Option<String>,
    pub description: Option<String>,
    pub planned_on: Option<Date>,
    pub started_on: Option<Date>,
    pub completed_on: Option<Date>,
    /// What came of it: a PIRT or halal number, the shop or stall, the cooperative.
    pub result: Option<String>,
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
