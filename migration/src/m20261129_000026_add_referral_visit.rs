//! A referral can answer an obstacle a monitoring visit found: it names the visit, and the
//! visit's follow-up is then in hand.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{create_indexes, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds a column but not its foreign key: the service checks the visit.
        manager
            .alter_table(Table::alter().table("referral").add_column(uuid_null("visit_id")).to_owned())
            .await?;
        create_indexes(manager, vec![index("referral", &["visit_id"])]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_referral_visit_id").table("referral").to_owned()).await?;
        manager.alter_table(Table::alter().table("referral").drop_column("visit_id").to_owned()).await
    }
}
