//! Lists page by keyset over their sort column with the id as tie-breaker (in the same
//! direction): an index on (column, id) for the default order and every `orderBy` field lets a
//! page start right after its cursor, so its cost does not grow with the table. A nullable sort
//! column sorts its NULLs last in both directions: PostgreSQL also gets the descending
//! `NULLS LAST` index for it (SQLite sorts such a page itself; it serves small registers).
//! Single-column indexes on the same columns are dropped: the pairs serve their filters.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, sort column, nullable).
const SORTS: &[(&str, &str, bool)] = &[
    ("beneficiary", "created_at", false),
    ("beneficiary", "updated_at", false),
    ("beneficiary", "full_name", false),
    ("beneficiary", "decile", false),
    ("business", "created_at", false),
    ("business", "updated_at", false),
    ("business", "name", false),
    ("business", "started_on", true),
    ("business", "monthly_revenue", true),
    ("assistance", "period_start", false),
    ("assistance", "amount", false),
    ("assistance", "created_at", false),
    ("assistance", "updated_at", false),
    ("infrastructure_request", "created_at", false),
    ("infrastructure_request", "updated_at", false),
    ("infrastructure_request", "estimated_cost", true),
    ("loan_application", "created_at", false),
    ("loan_application", "updated_at", false),
    ("loan_application", "requested_amount", false),
    ("referral", "created_at", false),
    ("referral", "updated_at", false),
    ("referral", "due_by", true),
    ("monitoring_visit", "visited_on", false),
    ("monitoring_visit", "created_at", false),
    ("training", "starts_on", false),
    ("training", "title", false),
    ("training", "created_at", false),
    ("training", "updated_at", false),
    ("pii_access_log", "accessed_at", false),
];

/// Single-column indexes the new ones make redundant (a filter on the column uses the pair).
const SUPERSEDED: &[(&str, &str)] = &[
    ("beneficiary", "decile"),
    ("beneficiary", "full_name"),
    ("training", "starts_on"),
    ("pii_access_log", "accessed_at"),
];

fn name(table: &str, column: &str) -> String {
    format!("ix_{table}_{column}_id")
}

fn desc_nulls_last(table: &str, column: &str) -> String {
    format!("ix_{table}_{column}_desc_id")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for &(table, column, nullable) in SORTS {
            manager
                .create_index(
                    Index::create()
                        .name(name(table, column))
                        .table(table)
                        .col(column)
                        .col("id")
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
            if nullable && manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
                manager
                    .get_connection()
                    .execute_unprepared(&format!(
                        "CREATE INDEX IF NOT EXISTS {} ON {table} ({column} DESC NULLS LAST, id DESC)",
                        desc_nulls_last(table, column)
                    ))
                    .await?;
            }
        }
        for &(table, column) in SUPERSEDED {
            manager
                .drop_index(Index::drop().name(format!("ix_{table}_{column}")).table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for &(table, column) in SUPERSEDED {
            manager
                .create_index(
                    Index::create().name(format!("ix_{table}_{column}")).table(table).col(column).to_owned(),
                )
                .await?;
        }
        for &(table, column, nullable) in SORTS {
            if nullable && manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
                manager
                    .get_connection()
                    .execute_unprepared(&format!("DROP INDEX IF EXISTS {}", desc_nulls_last(table, column)))
                    .await?;
            }
            manager.drop_index(Index::drop().name(name(table, column)).table(table).to_owned()).await?;
        }
        Ok(())
    }
}
