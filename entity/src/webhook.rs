//! An agency's webhook: where and what case events are POSTed, and how far delivery has come.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub agency: String,
    pub client: String,
    pub url: String,
    /// HMAC-SHA256 key; never returned through the API.
    pub secret: String,
    /// JSON of the case-event filter.
    pub filter: String,
    /// JSON array of the registering token's scopes (what the webhook may receive).
    pub scopes: String,
    /// JSON array of the registering token's regions.
    pub regions: String,
    /// The registering token's id (`jti`): revoking it disables the webhook.
    pub token_id: Option<String>,
    /// The last sequence delivered (or skipped by the filter).
    pub cursor: i64,
    pub status: String,
    pub consecutive_failures: i32,
    pub disabled_reason: Option<String>,
    pub next_attempt_at: DateTimeUtc,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
