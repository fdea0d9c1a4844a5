//! Case events: the append-only audit trail and the source of subscriptions.

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
                    .table("case_event")
                    .if_not_exists()
                    .col(big_pk_auto("seq"))
                    .col(uuid_null("beneficiary_id"))
                    .col(uuid_null("business_id"))
                    .col(string("entity_type"))
                    .col(uuid("entity_id"))
                    .col(string("action"))
                    .col(string_null("from_status"))
                    .col(string_null("to_status"))
                    .col(text("changed_fields"))
                    .col(string("actor_agency"))
                    .col(string("actor_client"))
                    .col(string("regency_code"))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index("case_event", &["beneficiary_id", "seq"]),
                index("case_event", &["entity_id", "seq"]),
                index("case_event", &["business_id", "seq"]),
                index("case_event", &["regency_code", "seq"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("case_event").to_owned()).await
    }
}
