//! A business (usaha) run by a beneficiary.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "business")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub beneficiary_id: Uuid,
    pub regency_code: String,
    pub name: String,
    pub sector: String,
    pub previously_stopped: bool,
    pub stop_cause: Option<String>,
    pub nib: Option<String>,
    pub monthly_revenue: Option<i64>,
    pub workers: i32,
    pub lead_agency: String,
    pub started_on: Option<Date>,
    pub status: String,
    /// The reason given with the last move that ended or refused the record.
    pub status_reason: Option<String>,
    /// The day the status last changed (none for records from before this was kept).
    pub status_changed_on: Option<Date>,
    /// A field visit that observed the business closed; the owning agency confirms or rejects.
    pub closure_proposed_by_visit: Option<Uuid>,
    /// When that visit was made.
    pub closure_proposed_on: Option<Date>,
    pub version: i32,
    pub created_by_agency: String,
    pub created_by_client: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Graduation level (naik kelas) on the configured ladder: 0 before its first rung.
    pub level: i32,
    /// The volunteer assigned to visit it.
    pub volunteer_id: Option<Uuid>,
    /// The day it last graduated (naik kelas); kept when it later stalls or closes (a relapse).
    pub graduated_on: Option<Date>,
}

impl ActiveModelBehavior for ActiveModel {}
