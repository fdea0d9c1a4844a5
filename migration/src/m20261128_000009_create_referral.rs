//! Referrals (rujukan) between agencies.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{audit_columns, create_indexes, fk, index, record_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = record_table("referral");
        table
            .col(uuid("beneficiary_id"))
            .col(uuid_null("business_id"))
            .col(string("regency_code"))
            .col(string("from_agency"))
            .col(string("to_agency"))
            .col(string("service"))
            .col(text("reason"))
            .col(date_null("due_by"))
            .col(string_null("outcome_type"))
            .col(uuid_null("outcome_id"))
            .col(text_null("response_note"))
            .col(string("status"));
        audit_columns(&mut table)
            .foreign_key(&mut fk("referral", "beneficiary_id", "beneficiary", "id"))
            .foreign_key(&mut fk("referral", "business_id", "business", "id"))
            .foreign_key(&mut fk("referral", "from_agency", "agency", "code"))
            .foreign_key(&mut fk("referral", "to_agency", "agency", "code"));
        manager.create_table(table).await?;
        create_indexes(
            manager,
            vec![
                index("referral", &["beneficiary_id"]),
                index("referral", &["business_id"]),
                index("referral", &["regency_code"]),
                index("referral", &["to_agency", "status"]),
                index("referral", &["from_agency"]),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("referral").to_owned()).await
    }
}
