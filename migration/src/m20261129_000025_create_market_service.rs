//! DISPERINDAGKOP's market-access and business-development services (layanan pemasaran dan
//! pengembangan usaha) for a business: marketing, product registration (PIRT), halal
//! certification, cooperative membership, market or e-commerce placement, coaching.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{audit_columns, create_indexes, fk, index, record_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = record_table("market_service");
        table
            .col(uuid("business_id"))
            .col(uuid("beneficiary_id"))
            .col(string("regency_code"))
            .col(string("kind"))
            .col(string_null("provider"))
            .col(text_null("description"))
            .col(date_null("planned_on"))
            .col(date_null("started_on"))
            .col(date_null("completed_on"))
            .col(text_null("result"))
            .col(string("status"))
            .col(text_null("status_reason"));
        audit_columns(&mut table)
            .foreign_key(&mut fk("market_service", "business_id", "business", "id"))
            .foreign_key(&mut fk("market_service", "beneficiary_id", "beneficiary", "id"));
        manager.create_table(table).await?;
        create_indexes(
            manager,
            vec![
                index("market_service", &["business_id"]),
                index("market_service", &["beneficiary_id"]),
                index("market_service", &["regency_code"]),
                index("market_service", &["status"]),
                index("market_service", &["created_at", "id"]),
                index("market_service", &["updated_at", "id"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("market_service").to_owned()).await
    }
}
