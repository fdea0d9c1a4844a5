//! A field-monitoring visit (pemantauan) by a volunteer; append-only.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "monitoring_visit")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub business_id: Uuid,
    pub beneficiary_id: Uuid,
    pub regency_code: String,
    pub volunteer_name: String,
    pub visited_on: Date,
    pub observed_status: String,
    pub revenue_estimate: Option<i64>,
    /// JSON array of obstacle codes.
    pub obstacles: String,
    pub notes: Option<String>,
    pub follow_up_needed: bool,
    pub version: i32,
    pub created_by_agency: String,
    pub created_by_client: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
