//! A case event: the append-only audit trail, written in the same transaction as its change.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_event")]
pub struct Model {
    /// Monotonic sequence; the subscription cursor.
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub beneficiary_id: Option<Uuid>,
    /// The business the record belongs to, when it belongs to one.
    pub business_id: Option<Uuid>,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    /// JSON array of the field names the write changed.
    pub changed_fields: String,
    /// The reason given with a move that ended or refused the record.
    pub reason: Option<String>,
    pub actor_agency: String,
    pub actor_client: String,
    pub regency_code: String,
    pub occurred_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
