//! A business keeps its graduation level (naik kelas): 0 before the first rung of the ladder,
//! 1–6 with the default ladder. The gateway recomputes it as the evidence changes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("business").add_column(integer("level").default(0)).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_business_regency_code_level").table("business").to_owned())
            .await?;
        manager.alter_table(Table::alter().table("business").drop_column("level").to_owned()).await
    }
}
