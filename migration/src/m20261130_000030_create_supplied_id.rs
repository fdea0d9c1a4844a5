//! Creates with a client-supplied id: the digest of the input that created each such record, so
//! a retry returns the record and another create reusing the id is a `CONFLICT`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("supplied_id")
                    .if_not_exists()
                    .col(uuid("entity_id").primary_key())
                    .col(string("input_digest"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("supplied_id").to_owned()).await
    }
}
