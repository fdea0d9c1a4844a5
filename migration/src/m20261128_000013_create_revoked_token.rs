//! Revoked tokens, shared by every replica through the database.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("revoked_token")
                    .if_not_exists()
                    .col(string("jti").primary_key())
                    .col(string("revoked_by"))
                    .col(text_null("reason"))
                    .col(timestamp_with_time_zone("revoked_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("revoked_token").to_owned()).await
    }
}
