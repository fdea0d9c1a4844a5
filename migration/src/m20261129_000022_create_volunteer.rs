//! Volunteers (relawan: PSM, TKSK, Tagana…) who visit the businesses, and the volunteer each
//! business is assigned to.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{audit_columns, create_indexes, fk, index, record_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut volunteer = record_table("volunteer");
        volunteer
            .col(string("name"))
            .col(string("kind"))
            .col(string("regency_code"))
            .col(string_null("district_code"))
            .col(string("status"))
            .col(string_null("status_reason"));
        audit_columns(&mut volunteer).foreign_key(&mut fk("volunteer", "regency_code", "region", "code"));
        manager.create_table(volunteer).await?;
        // SQLite adds a column but not its foreign key: the service checks the volunteer.
        manager
            .alter_table(Table::alter().table("business").add_column(uuid_null("volunteer_id")).to_owned())
            .await?;
        create_indexes(
            manager,
            vec![index("volunteer", &["regency_code"]), index("business", &["volunteer_id"])],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_business_volunteer_id").table("business").to_owned())
            .await?;
        manager.alter_table(Table::alter().table("business").drop_column("volunteer_id").to_owned()).await?;
        manager.drop_table(Table::drop().table("volunteer").to_owned()).await
    }
}
