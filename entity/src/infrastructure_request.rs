//! A household's request for basic infrastructure (RTLH housing, sanitation, water, power).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "infrastructure_request")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub beneficiary_id: Uuid,
    pub regency_code: String,
    pub district_code: String,
    pub village_code: Option<String>,
    pub kind: String,
    pub location: Option<String>,
    pub estimated_cost: Option<i64>,
    pub survey_notes: Option<String>,
    pub has_land_proof: Option<bool>,
    pub is_only_house: Option<bool>,
    pub housing_aid_last_10_years: Option<bool>,
    pub decision_reason: Option<String>,
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
