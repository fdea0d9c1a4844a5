//! Case events: written in the writer's transaction, read as the case timeline.

use async_graphql::{Context, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::case_event;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, Set, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    auth::{Actor, RequireScope, Scope},
    context::ContextExt,
    error::ServiceError,
    error::gql,
    page::{Page, paginate},
    records::{CaseRecord, EntityType, within_regions},
};

/// Appends the event for a write to `record`; call inside the write's transaction.
pub async fn record<R: CaseRecord>(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    record: &R,
    action: &str,
    from_status: Option<&str>,
    fields: &[&str],
) -> Result<(), ServiceError> {
    let entity_type: &'static str = R::ENTITY_TYPE.into();
    case_event::ActiveModel {
        beneficiary_id: Set(record.beneficiary_id()),
        entity_type: Set(entity_type.to_owned()),
        entity_id: Set(record.id()),
        action: Set(action.to_owned()),
        from_status: Set(from_status.map(str::to_owned)),
        to_status: Set(record.status().map(str::to_owned)),
        changed_fields: Set(serde_json::to_string(fields).unwrap_or_else(|_| "[]".into())),
        actor_agency: Set(actor.agency.clone()),
        actor_client: Set(actor.client.clone()),
        regency_code: Set(record.regency_code().to_owned()),
        occurred_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

pub struct CaseEvent {
    pub model: case_event::Model,
}

/// A case event (riwayat kasus): one write to one record, in commit order.
#[Object]
impl CaseEvent {
    /// Monotonic sequence number (decimal, 64-bit): the stream's cursor.
    async fn sequence(&self) -> String {
        self.model.seq.to_string()
    }
    /// The beneficiary whose case this belongs to (none for a training itself).
    async fn beneficiary_id(&self) -> Option<Uuid> {
        self.model.beneficiary_id
    }
    /// The kind of record written.
    async fn entity_type(&self) -> Option<EntityType> {
        self.model.entity_type.parse().ok()
    }
    /// The id of the record written.
    async fn entity_id(&self) -> Uuid {
        self.model.entity_id
    }
    /// What happened: `CREATED`, `UPDATED`, `STATUS_CHANGED`.
    async fn action(&self) -> &str {
        &self.model.action
    }
    /// Status before the write, for lifecycle moves.
    async fn from_status(&self) -> Option<&str> {
        self.model.from_status.as_deref()
    }
    /// Status after the write.
    async fn to_status(&self) -> Option<&str> {
        self.model.to_status.as_deref()
    }
    /// The fields the write set (GraphQL names).
    async fn changed_fields(&self) -> Vec<String> {
        serde_json::from_str(&self.model.changed_fields).unwrap_or_default()
    }
    /// Agency (OPD) that wrote.
    async fn actor_agency(&self) -> &str {
        &self.model.actor_agency
    }
    /// API client that wrote.
    async fn actor_client(&self) -> &str {
        &self.model.actor_client
    }
    /// Regency/city (Kemendagri code) of the record.
    async fn regency_code(&self) -> &str {
        &self.model.regency_code
    }
    /// When the write committed (UTC).
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.model.occurred_at
    }
}

impl From<case_event::Model> for CaseEvent {
    fn from(model: case_event::Model) -> Self {
        Self { model }
    }
}

/// Filter for case events.
#[derive(InputObject, Default)]
pub struct CaseEventFilter {
    /// Only this beneficiary's case.
    pub beneficiary_id: Option<Uuid>,
    /// Only events about this record.
    pub entity_id: Option<Uuid>,
    /// Only these kinds of record.
    pub entity_types: Option<Vec<EntityType>>,
    /// Only these regencies/cities (Kemendagri codes).
    pub regency_codes: Option<Vec<String>>,
}

/// Reads case events after a sequence, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: CaseEventFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Page<CaseEvent>, ServiceError> {
    let mut select = within_regions(case_event::Entity::find(), actor);
    if let Some(id) = filter.beneficiary_id {
        select = select.filter(case_event::Column::BeneficiaryId.eq(id));
    }
    if let Some(id) = filter.entity_id {
        select = select.filter(case_event::Column::EntityId.eq(id));
    }
    if let Some(types) = filter.entity_types {
        let names: Vec<&'static str> = types.into_iter().map(Into::into).collect();
        select = select.filter(case_event::Column::EntityType.is_in(names));
    }
    if let Some(codes) = filter.regency_codes {
        select = select.filter(Expr::col("regency_code").is_in(codes));
    }
    paginate(db, select.order_by_asc(case_event::Column::Seq), first, after, CaseEvent::from).await
}

use sea_orm::ColumnTrait;

/// Case-event queries.
#[derive(Default)]
pub struct CaseEventQuery;

#[Object]
impl CaseEventQuery {
    /// The case-event history (riwayat kasus), oldest first. Needs `events:subscribe`.
    #[graphql(guard = "RequireScope(Scope::EventsSubscribe)")]
    async fn case_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<CaseEventFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Page<CaseEvent>> {
        list(ctx.db()?, ctx.actor()?, filter.unwrap_or_default(), first, after).await.map_err(gql)
    }
}
