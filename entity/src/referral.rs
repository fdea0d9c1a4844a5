//! A referral (rujukan) of a beneficiary from one agency to another.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub beneficiary_id: Uuid,
    pub business_id: Option<Uuid>,
    pub regency_code: String,
    pub from_agency: String,
    pub to_agency: String,
    pub service: String,
    pub reason: String,
    pub due_by: Option<Date>,
    pub outcome_type: Option<String>,
    pub outcome_id: Option<Uuid>,
    pub response_note: Option<String>,
    pub status: String,
    /// The reason given with the last move that ended or refused the record.
    pub status_reason: Option<String>,
    pub version: i32,
    pub created_by_agency: String,
    pub created_by_client: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The declined referral this one re-sends to another agency.
    pub resent_from: Option<Uuid>,
    /// The monitoring visit whose obstacle it answers.
    pub visit_id: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}
