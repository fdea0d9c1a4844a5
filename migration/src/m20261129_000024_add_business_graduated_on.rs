//! A business keeps the day it graduated (naik kelas) when it later stalls or closes: a relapse
//! is recorded, not hidden by the status that replaced GRADUATED. Businesses graduated before
//! this migration graduated on their last status change.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("business").add_column(date_null("graduated_on")).to_owned())
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE business SET graduated_on = status_changed_on WHERE status = 'GRADUATED'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("business").drop_column("graduated_on").to_owned()).await
    }
}
