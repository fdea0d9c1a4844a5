//! A beneficiary (penerima manfaat): the person a case hangs off.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "beneficiary")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub nik: String,
    pub kk_number: String,
    pub is_head_of_family: bool,
    pub full_name: String,
    pub birth_date: Date,
    pub sex: String,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub regency_code: String,
    pub district_code: String,
    pub village_code: Option<String>,
    pub decile: i32,
    pub decile_source: String,
    pub decile_assessed_on: Date,
    pub status: String,
    /// The reason given with the last move that ended or refused the record.
    pub status_reason: Option<String>,
    pub is_demo: bool,
    pub version: i32,
    pub created_by_agency: String,
    pub created_by_client: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
