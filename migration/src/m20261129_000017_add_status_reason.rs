//! Moves that end or refuse something (reject, close, cancel, withdraw, deactivate, decline, drop)
//! take a reason: each lifecycle record keeps the reason of its last such move, and its case
//! event carries it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables of records with a lifecycle.
const TABLES: [&str; 8] = [
    "beneficiary",
    "assistance",
    "business",
    "training",
    "training_enrollment",
    "infrastructure_request",
    "loan_application",
    "referral",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(Table::alter().table(table).add_column(text_null("status_reason")).to_owned())
                .await?;
        }
        manager
            .alter_table(Table::alter().table("case_event").add_column(text_null("reason")).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("case_event").drop_column("reason").to_owned()).await?;
        for table in TABLES {
            manager.alter_table(Table::alter().table(table).drop_column("status_reason").to_owned()).await?;
        }
        Ok(())
    }
}
