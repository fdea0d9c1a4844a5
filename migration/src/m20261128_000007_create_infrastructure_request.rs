//! Infrastructure requests (RTLH housing, sanitation, clean water, electricity) by PUPR.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{audit_columns, create_indexes, fk, index, record_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = record_table("infrastructure_request");
        table
            .col(uuid("beneficiary_id"))
            .col(string("regency_code"))
            .col(string("district_code"))
            .col(string_null("village_code"))
            .col(string("kind"))
            .col(text_null("location"))
            .col(big_integer_null("estimated_cost").check(Expr::cust("estimated_cost >= 0")))
            .col(text_null("survey_notes"))
            .col(boolean_null("has_land_proof"))
            .col(boolean_null("is_only_house"))
            .col(boolean_null("housing_aid_last_10_years"))
            .col(text_null("decision_reason"))
            .col(string("status"));
        audit_columns(&mut table).foreign_key(&mut fk(
            "infrastructure_request",
            "beneficiary_id",
            "beneficiary",
            "id",
        ));
        manager.create_table(table).await?;
        create_indexes(
            manager,
            vec![
                index("infrastructure_request", &["beneficiary_id"]),
                index("infrastructure_request", &["regency_code"]),
                index("infrastructure_request", &["status"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("infrastructure_request").to_owned()).await
    }
}
