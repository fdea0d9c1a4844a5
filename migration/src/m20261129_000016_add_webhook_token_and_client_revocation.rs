//! A webhook remembers the token that registered it, and an API client can be revoked: either
//! revocation disables the client's webhooks and refuses its tokens.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(Table::alter().table("webhook").add_column(string_null("token_id")).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("api_client")
                    .add_column(timestamp_with_time_zone_null("revoked_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table("api_client").add_column(text_null("revoked_reason")).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("api_client").drop_column("revoked_reason").to_owned())
            .await?;
        manager.alter_table(Table::alter().table("api_client").drop_column("revoked_at").to_owned()).await?;
        manager.alter_table(Table::alter().table("webhook").drop_column("token_id").to_owned()).await
    }
}
