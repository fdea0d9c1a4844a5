//! Assistance (bantuan), with the eligibility snapshot of the decile.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{audit_columns, create_indexes, fk, index, record_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = record_table("assistance");
        table
            .col(uuid("beneficiary_id"))
            .col(string("regency_code"))
            .col(string("programme"))
            .col(big_integer("amount").check(Expr::col("amount").gte(0)))
            .col(text_null("items"))
            .col(date("period_start"))
            .col(date_null("period_end"))
            .col(string("fund_source"))
            .col(date_null("disbursed_on"))
            .col(integer("decile").check(Expr::col("decile").between(1, 10)))
            .col(string("decile_source"))
            .col(date("decile_assessed_on"))
            .col(string("status"));
        audit_columns(&mut table).foreign_key(&mut fk("assistance", "beneficiary_id", "beneficiary", "id"));
        manager.create_table(table).await?;
        create_indexes(
            manager,
            vec![
                index("assistance", &["beneficiary_id"]),
                index("assistance", &["regency_code"]),
                index("assistance", &["status"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("assistance").to_owned()).await
    }
}
