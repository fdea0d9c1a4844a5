//! Field-monitoring visits (pemantauan); append-only.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{audit_columns, create_indexes, fk, index, record_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = record_table("monitoring_visit");
        table
            .col(uuid("business_id"))
            .col(uuid("beneficiary_id"))
            .col(string("regency_code"))
            .col(string("volunteer_name"))
            .col(date("visited_on"))
            .col(string("observed_status"))
            .col(big_integer_null("revenue_estimate").check(Expr::cust("revenue_estimate >= 0")))
            .col(text("obstacles"))
            .col(text_null("notes"))
            .col(boolean("follow_up_needed"));
        audit_columns(&mut table)
            .foreign_key(&mut fk("monitoring_visit", "business_id", "business", "id"))
            .foreign_key(&mut fk("monitoring_visit", "beneficiary_id", "beneficiary", "id"));
        manager.create_table(table).await?;
        create_indexes(
            manager,
            vec![
                index("monitoring_visit", &["business_id", "visited_on"]),
                index("monitoring_visit", &["beneficiary_id"]),
                index("monitoring_visit", &["regency_code"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("monitoring_visit").to_owned()).await
    }
}
