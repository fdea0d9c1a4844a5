//! Businesses (usaha) owned by beneficiaries.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{audit_columns, create_indexes, fk, index, record_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = record_table("business");
        table
            .col(uuid("beneficiary_id"))
            .col(string("regency_code"))
            .col(string("name"))
            .col(string("sector"))
            .col(boolean("previously_stopped"))
            .col(text_null("stop_cause"))
            .col(string_null("nib"))
            .col(big_integer_null("monthly_revenue").check(Expr::cust("monthly_revenue >= 0")))
            .col(integer("workers").check(Expr::col("workers").gte(0)))
            .col(string("lead_agency"))
            .col(date_null("started_on"))
            .col(string("status"));
        audit_columns(&mut table).foreign_key(&mut fk("business", "beneficiary_id", "beneficiary", "id"));
        manager.create_table(table).await?;
        create_indexes(
            manager,
            vec![
                index("business", &["beneficiary_id"]),
                index("business", &["regency_code"]),
                index("business", &["status"]),
                index("business", &["sector"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("business").to_owned()).await
    }
}
