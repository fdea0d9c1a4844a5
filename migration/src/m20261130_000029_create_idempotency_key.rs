//! Mutations sent with an `Idempotency-Key`: the first request's fingerprint and, once it has
//! run, its response, so a retry gets the same answer without writing twice.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("idempotency_key")
                    .if_not_exists()
                    .col(string("client_key"))
                    .col(string("key"))
                    .col(string("fingerprint"))
                    .col(string("state"))
                    .col(text_null("response"))
                    .col(text_null("reads"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .primary_key(Index::create().col("client_key").col("key"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_idempotency_key_expires_at")
                    .table("idempotency_key")
                    .col("expires_at")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("idempotency_key").to_owned()).await
    }
}
