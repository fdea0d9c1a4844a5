//! Tokens the gateway issued (`sinergi token issue`, the development token): what `token revoke`
//! checks a token id against, so a mistyped id is reported rather than silently "revoked".

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("issued_token")
                    .if_not_exists()
                    .col(string("jti").primary_key())
                    .col(string("agency"))
                    .col(string("client"))
                    .col(string("kid"))
                    .col(timestamp_with_time_zone("issued_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("issued_token").to_owned()).await
    }
}
