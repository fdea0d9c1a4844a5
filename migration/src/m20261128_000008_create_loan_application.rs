//! Loan applications (KUR and others) for businesses.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{audit_columns, create_indexes, fk, index, record_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = record_table("loan_application");
        table
            .col(uuid("business_id"))
            .col(uuid("beneficiary_id"))
            .col(string("regency_code"))
            .col(string("product"))
            .col(string("lender"))
            .col(big_integer("requested_amount").check(Expr::col("requested_amount").gte(0)))
            .col(big_integer_null("approved_amount").check(Expr::cust("approved_amount >= 0")))
            .col(integer("tenor_months").check(Expr::col("tenor_months").gt(0)))
            .col(boolean("has_collateral"))
            .col(text_null("decision_reason"))
            .col(string("status"));
        audit_columns(&mut table)
            .foreign_key(&mut fk("loan_application", "business_id", "business", "id"))
            .foreign_key(&mut fk("loan_application", "beneficiary_id", "beneficiary", "id"));
        manager.create_table(table).await?;
        create_indexes(
            manager,
            vec![
                index("loan_application", &["business_id"]),
                index("loan_application", &["beneficiary_id"]),
                index("loan_application", &["regency_code"]),
                index("loan_application", &["status"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("loan_application").to_owned()).await
    }
}
