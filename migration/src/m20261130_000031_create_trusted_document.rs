//! Documents an operator registered for an agency's API clients (`sinergi documents register`):
//! what a trusted-documents client may run, and what any client may reference by id.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("trusted_document")
                    .if_not_exists()
                    .col(string("agency"))
                    .col(string("client"))
                    .col(string("document_id"))
                    .col(string("document_sha256"))
                    .col(text("document"))
                    .col(string_null("operation_name"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("agency").col("client").col("document_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_trusted_document_sha256")
                    .table("trusted_document")
                    .col("agency")
                    .col("document_sha256")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("trusted_document").to_owned()).await
    }
}
