//! Kemendagri regions (reference data loaded at start from the shipped CSV).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("region")
                    .if_not_exists()
                    .col(string("code").primary_key())
                    .col(string("level"))
                    .col(string("name"))
                    .col(string_null("parent_code"))
                    .col(string_null("bps_code"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("region").to_owned()).await
    }
}
