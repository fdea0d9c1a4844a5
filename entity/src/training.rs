//! A training (pelatihan) or technical-guidance session (bimbingan teknis).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "training")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organiser_agency: String,
    pub title: String,
    pub topic: String,
    pub regency_code: String,
    pub venue: Option<String>,
    pub starts_on: Date,
    pub ends_on: Date,
    pub capacity: i32,
    /// Seats taken by enrollments that are not dropped; bounded by `capacity` in SQL.
    pub seats_taken: i32,
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
