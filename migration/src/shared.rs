//! Column groups every case record shares. Frozen: migrations that shipped call these, so a
//! change here would rewrite history; add a new helper instead.

use sea_orm_migration::{prelude::*, schema::*};

/// `id`, the optimistic-concurrency `version`, who created it and when.
pub fn record_table(name: &'static str) -> TableCreateStatement {
    Table::create().table(name).if_not_exists().col(pk_uuid("id")).to_owned()
}

/// Audit columns appended after a record's own columns.
pub fn audit_columns(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(integer("version").default(1).check(Expr::col("version").gte(1)))
        .col(string("created_by_agency"))
        .col(string("created_by_client"))
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
}

/// A foreign key from `table.column` to `target.target_column`.
pub fn fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    target_column: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, target_column)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// A plain index on one or more columns.
pub fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{}", columns.join("_"))).table(table).if_not_exists();
    for column in columns {
        stmt.col(*column);
    }
    stmt.to_owned()
}

/// Creates `indexes` on an already-created table.
pub async fn create_indexes(
    manager: &SchemaManager<'_>,
    indexes: Vec<IndexCreateStatement>,
) -> Result<(), DbErr> {
    for ix in indexes {
        manager.create_index(ix).await?;
    }
    Ok(())
}
