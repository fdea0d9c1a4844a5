//! A starter package (assistance `BUSINESS_STARTER_PACKAGE`) records its intake: the business it
//! equips, the person's own interest and request, and the price assessment of the goods.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{create_indexes, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 5] =
    ["business_id", "interest", "requested_goods", "price_assessment", "price_assessed_on"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            uuid_null(COLUMNS[0]),
            text_null(COLUMNS[1]),
            text_null(COLUMNS[2]),
            big_integer_null(COLUMNS[3]),
            date_null(COLUMNS[4]),
        ] {
            manager.alter_table(Table::alter().table("assistance").add_column(column).to_owned()).await?;
        }
        create_indexes(manager, vec![index("assistance", &["business_id"])]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_assistance_business_id").table("assistance").to_owned())
            .await?;
        for column in COLUMNS.iter().rev() {
            manager.alter_table(Table::alter().table("assistance").drop_column(*column).to_owned()).await?;
        }
        Ok(())
    }
}
