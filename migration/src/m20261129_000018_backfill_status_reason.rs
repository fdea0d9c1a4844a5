//! Reasons recorded before `status_reason` existed: a rejected loan application's or
//! infrastructure request's `decision_reason`, a declined referral's `response_note`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BACKFILL: [(&str, &str, &str); 3] = [
    ("loan_application", "decision_reason", "REJECTED"),
    ("infrastructure_request", "decision_reason", "REJECTED"),
    ("referral", "response_note", "DECLINED"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, column, status) in BACKFILL {
            db.execute_unprepared(&format!(
                "UPDATE {table} SET status_reason = {column} WHERE status = '{status}' AND status_reason IS NULL"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The copied reasons stay where they were as well; nothing to undo.
        Ok(())
    }
}
