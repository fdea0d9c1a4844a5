//! A business keeps the day its status last changed and a closure proposed by a field visit,
//! which the owning agency confirms or rejects (a visit no longer closes a business by itself).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 3] = ["status_changed_on", "closure_proposed_by_visit", "closure_proposed_on"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [date_null(COLUMNS[0]), uuid_null(COLUMNS[1]), date_null(COLUMNS[2])] {
            manager.alter_table(Table::alter().table("business").add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS.iter().rev() {
            manager.alter_table(Table::alter().table("business").drop_column(*column).to_owned()).await?;
        }
        Ok(())
    }
}
