//! A revoked token (by `jti`); replicas consult this table so a revocation holds everywhere.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revoked_token")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub jti: String,
    pub revoked_by: String,
    pub reason: Option<String>,
    pub revoked_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
