//! A loan application (KUR, cooperative, revolving fund) for a business.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loan_application")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub business_id: Uuid,
    pub beneficiary_id: Uuid,
    pub regency_code: String,
    pub product: String,
    pub lender: String,
    pub requested_amount: i64,
    pub approved_amount: Option<i64>,
    pub tenor_months: i32,
    pub has_collateral: bool,
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
