//! Trainings (pelatihan) and their enrollments; seats are bounded by capacity in SQL.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{audit_columns, create_indexes, fk, index, record_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut training = record_table("training");
        training
            .col(string("organiser_agency"))
            .col(string("title"))
            .col(string("topic"))
            .col(string("regency_code"))
            .col(string_null("venue"))
            .col(date("starts_on"))
            .col(date("ends_on"))
            .col(integer("capacity").check(Expr::col("capacity").gt(0)))
            .col(
                integer("seats_taken")
                    .default(0)
                    .check(Expr::cust("seats_taken >= 0 AND seats_taken <= capacity")),
            )
            .col(string("status"));
        audit_columns(&mut training).foreign_key(&mut fk("training", "regency_code", "region", "code"));
        manager.create_table(training).await?;

        let mut enrollment = record_table("training_enrollment");
        enrollment
            .col(uuid("training_id"))
            .col(uuid("beneficiary_id"))
            .col(uuid_null("business_id"))
            .col(string("regency_code"))
            .col(string_null("certificate_no"))
            .col(string("status"));
        audit_columns(&mut enrollment)
            .foreign_key(&mut fk("training_enrollment", "training_id", "training", "id"))
            .foreign_key(&mut fk("training_enrollment", "beneficiary_id", "beneficiary", "id"))
            .foreign_key(&mut fk("training_enrollment", "business_id", "business", "id"));
        manager.create_table(enrollment).await?;
        create_indexes(
            manager,
            vec![
                index("training", &["regency_code"]),
                index("training", &["status"]),
                index("training", &["starts_on"]),
                index("training_enrollment", &["beneficiary_id"]),
                index("training_enrollment", &["business_id"]),
                Index::create()
                    .name("ux_training_enrollment_training_beneficiary")
                    .table("training_enrollment")
                    .col("training_id")
                    .col("beneficiary_id")
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("training_enrollment").to_owned()).await?;
        manager.drop_table(Table::drop().table("training").to_owned()).await
    }
}
