//! Beneficiaries (penerima manfaat), with NIK unique and one head of family per KK.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{audit_columns, create_indexes, fk, index, record_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = record_table("beneficiary");
        table
            .col(string_len_uniq("nik", 16).check(Expr::cust("length(nik) = 16")))
            .col(string_len("kk_number", 16).check(Expr::cust("length(kk_number) = 16")))
            .col(boolean("is_head_of_family"))
            .col(string("full_name"))
            .col(date("birth_date"))
            .col(string("sex").check(Expr::col("sex").is_in(["MALE", "FEMALE"])))
            .col(string_null("phone"))
            .col(text_null("address"))
            .col(string("regency_code"))
            .col(string("district_code"))
            .col(string_null("village_code"))
            .col(integer("decile").check(Expr::col("decile").between(1, 10)))
            .col(string("decile_source"))
            .col(date("decile_assessed_on"))
            .col(string("status"))
            .col(boolean("is_demo").default(false));
        audit_columns(&mut table)
            .foreign_key(&mut fk("beneficiary", "regency_code", "region", "code"))
            .foreign_key(&mut fk("beneficiary", "district_code", "region", "code"));
        manager.create_table(table).await?;
        create_indexes(
            manager,
            vec![
                index("beneficiary", &["regency_code"]),
                index("beneficiary", &["district_code"]),
                index("beneficiary", &["status"]),
                index("beneficiary", &["decile"]),
                index("beneficiary", &["full_name"]),
                index("beneficiary", &["kk_number"]),
            ],
        )
        .await?;
        // One head of family per KK, also across repeated imports: a partial unique index, which
        // SQLite and PostgreSQL both support with this exact syntax.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS ux_beneficiary_kk_head \
                 ON beneficiary (kk_number) WHERE is_head_of_family",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("beneficiary").to_owned()).await
    }
}
