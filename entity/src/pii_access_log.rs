//! One request's read of a beneficiary's unmasked personal data (UU PDP accountability).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pii_access_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub beneficiary_id: Uuid,
    pub regency_code: String,
    /// JSON array of the GraphQL field names read unmasked.
    pub fields: String,
    pub actor_agency: String,
    pub actor_client: String,
    pub token_id: String,
    pub operation: String,
    /// The purpose the request stated in `X-Purpose`.
    pub purpose: Option<String>,
    pub accessed_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
