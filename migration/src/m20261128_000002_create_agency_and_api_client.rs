//! Agencies (OPD) and their API clients, the subjects of tokens.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("agency")
                    .if_not_exists()
                    .col(string("code").primary_key())
                    .col(string("name"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("api_client")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("agency_code"))
                    .col(string("name"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("api_client", "agency_code", "agency", "code"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("api_client").to_owned()).await?;
        manager.drop_table(Table::drop().table("agency").to_owned()).await
    }
}
