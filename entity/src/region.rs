//! A Kemendagri region (province, regency/city, district): reference data, never BPS codes.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "region")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub level: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub bps_code: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
