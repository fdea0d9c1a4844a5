//! The personal-data access log: who read which beneficiary's unmasked fields, when and why.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{create_indexes, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("pii_access_log")
                    .if_not_exists()
                    .col(pk_uuid("id"))
                    .col(uuid("beneficiary_id"))
                    .col(string("regency_code"))
                    .col(text("fields"))
                    .col(string("actor_agency"))
                    .col(string("actor_client"))
                    .col(string("token_id"))
                    .col(string("operation"))
                    .col(text_null("purpose"))
                    .col(timestamp_with_time_zone("accessed_at"))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index("pii_access_log", &["beneficiary_id", "accessed_at"]),
                index("pii_access_log", &["actor_agency", "accessed_at"]),
                index("pii_access_log", &["accessed_at"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("pii_access_log").to_owned()).await
    }
}
