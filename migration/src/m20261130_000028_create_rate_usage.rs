//! Requests each replica let through per API client, for the rate limits: every replica adds
//! what the others report to its own count, so a client's rate holds across replicas.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("rate_usage")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string("client_key"))
                    .col(string("replica"))
                    .col(integer("used"))
                    .col(timestamp_with_time_zone("at").default(Expr::current_timestamp()))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_rate_usage_at")
                    .table("rate_usage")
                    .col("at")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("rate_usage").to_owned()).await
    }
}
