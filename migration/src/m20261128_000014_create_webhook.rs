//! Webhooks (an agency's endpoint for case events) and their delivery log.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{create_indexes, fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("webhook")
                    .if_not_exists()
                    .col(pk_uuid("id"))
                    .col(string("agency"))
                    .col(string("client"))
                    .col(text("url"))
                    .col(text("secret"))
                    .col(text("filter"))
                    .col(text("scopes"))
                    .col(text("regions"))
                    .col(big_integer("cursor").default(0))
                    .col(string("status"))
                    .col(integer("consecutive_failures").default(0))
                    .col(text_null("disabled_reason"))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(string_null("claimed_by"))
                    .col(timestamp_with_time_zone_null("claimed_until"))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_delivery")
                    .if_not_exists()
                    .col(pk_uuid("id"))
                    .col(uuid("webhook_id"))
                    .col(big_integer("seq"))
                    .col(integer("attempt"))
                    .col(string("outcome"))
                    .col(integer_null("response_status"))
                    .col(text_null("error"))
                    .col(integer("duration_ms"))
                    .col(timestamp_with_time_zone("attempted_at"))
                    .foreign_key(&mut fk("webhook_delivery", "webhook_id", "webhook", "id"))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index("webhook", &["status", "next_attempt_at"]),
                index("webhook", &["agency"]),
                index("webhook_delivery", &["webhook_id", "attempted_at"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("webhook_delivery").to_owned()).await?;
        manager.drop_table(Table::drop().table("webhook").to_owned()).await
    }
}
