//! Case events: written in the writer's transaction, read as the case timeline.

use std::{
    sync::{Arc, LazyLock, Weak},
    time::{Duration, Instant},
};

use async_graphql::{Context, ErrorExtensions, InputObject, Object, Subscription};
use chrono::{DateTime, Utc};
use entity::case_event;
use futures_util::Stream;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use strum::VariantArray;
use tokio::sync::{OnceCell, broadcast, watch};
use uuid::Uuid;

use crate::{
    auth::{Actor, RequireScope, Scope},
    context::ContextExt,
    error::ServiceError,
    error::gql,
    error::internal_error,
    object::record_object,
    page::{DEFAULT_PAGE, MAX_PAGE, Page},
    records::{CaseRecord, EntityType, in_regions, regional, within_regions},
};

regional!(case_event);

/// What a case event records (aksi).
#[derive(
    async_graphql::Enum,
    Copy,
    Clone,
    Debug,
    Eq,
    PartialEq,
    strum::EnumString,
    strum::IntoStaticStr,
    serde::Serialize,
    serde::Deserialize,
)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CaseAction {
    /// The record was created.
    Created,
    /// Some of its details changed (`changedFields` says which).
    Updated,
    /// It moved along its lifecycle (`fromStatus` → `toStatus`).
    StatusChanged,
    /// A seat of a training was taken by an enrollment (on the training's own events).
    SeatTaken,
    /// A monitoring visit observed the business closed; the owning agency must confirm or reject.
    ClosureProposed,
    /// The owning agency rejected a closure a visit proposed.
    ClosureRejected,
    /// A business moved on the graduation ladder (`changedFields: ["level"]`; read
    /// `Business.level`): the evidence a write added or removed changed its level.
    LevelChanged,
}

/// A status of any record's lifecycle, for the `fromStatus`/`toStatus` of case events (each
/// record type's own status enum lists its lifecycle).
#[derive(async_graphql::Enum, Copy, Clone, Debug, Eq, PartialEq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordStatus {
    /// Beneficiary: active in the programme.
    Active,
    /// Beneficiary or business: levelled up (naik kelas).
    Graduated,
    /// Beneficiary: no longer in the programme.
    Inactive,
    /// Assistance or training: planned.
    Planned,
    /// Assistance or loan: paid out or delivered.
    Disbursed,
    /// Assistance or training: cancelled.
    Cancelled,
    /// Business: proposed.
    Proposed,
    /// Business, infrastructure request or loan: approved.
    Approved,
    /// Business: the starter package was delivered.
    Equipped,
    /// Business: running.
    Running,
    /// Business: stalled (macet).
    Stalled,
    /// Business: closed.
    Closed,
    /// Business, infrastructure request or loan: rejected.
    Rejected,
    /// Training: open for enrollment. Referral: waiting for the receiving agency.
    Open,
    /// Training: under way.
    Ongoing,
    /// Training, enrollment, infrastructure request or referral: completed.
    Completed,
    /// Enrollment: enrolled.
    Enrolled,
    /// Enrollment: attended.
    Attended,
    /// Enrollment: dropped out.
    Dropped,
    /// Infrastructure request or loan: submitted.
    Submitted,
    /// Infrastructure request: surveyed.
    Surveyed,
    /// Infrastructure request: work in progress.
    InProgress,
    /// Loan: draft.
    Draft,
    /// Loan: under review.
    UnderReview,
    /// Loan: withdrawn by the applicant.
    Withdrawn,
    /// Referral: accepted by the receiving agency.
    Accepted,
    /// Referral: declined by the receiving agency.
    Declined,
}

/// Appends the event for a write to `record`; call inside the write's transaction.
pub async fn record<R: CaseRecord>(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    record: &R,
    action: CaseAction,
    from_status: Option<&str>,
    fields: &[&str],
    reason: Option<&str>,
) -> Result<(), ServiceError> {
    let event = NewEvent::of(actor, record, action, from_status, fields, reason).active().insert(txn).await?;
    notify(txn, &event.seq.to_string()).await
}

/// Appends the events of many writes, in order, in one statement (a bulk load's batch); call
/// inside the writes' transaction. Each is `(record, action, changed fields)`.
pub async fn record_many<'a, R: CaseRecord + 'a>(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    writes: impl IntoIterator<Item = (&'a R, CaseAction, Vec<&'static str>)>,
) -> Result<u64, ServiceError> {
    let events: Vec<NewEvent> = writes
        .into_iter()
        .enumerate()
        .map(|(n, (record, action, fields))| NewEvent {
            n,
            ..NewEvent::of(actor, record, action, None, &fields, None)
        })
        .collect();
    if events.is_empty() {
        return Ok(0);
    }
    let written = if txn.get_database_backend() == DbBackend::Postgres {
        // The rows as one JSON parameter: one short statement whatever the batch's size, where a
        // multi-row VALUES of 13 placeholders a row is parsed and planned anew for every batch.
        let rows = serde_json::to_string(&events).map_err(|e| ServiceError::BadRequest(e.to_string()))?;
        txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, INSERT_EVENTS, [rows.into()]))
            .await?
            .rows_affected()
    } else {
        let events: Vec<case_event::ActiveModel> = events.into_iter().map(NewEvent::active).collect();
        case_event::Entity::insert_many(events).exec_without_returning(txn).await?
    };
    // One wake-up for the batch: listeners read every event after their cursor.
    notify(txn, &format!("{written} events")).await?;
    Ok(written)
}

/// [`record_many`] on PostgreSQL: the events in the order given (their sequence follows it).
const INSERT_EVENTS: &str = "INSERT INTO case_event (beneficiary_id, business_id, entity_type, entity_id, \
     action, from_status, to_status, changed_fields, reason, actor_agency, actor_client, regency_code, occurred_at) \
     SELECT beneficiary_id, business_id, entity_type, entity_id, action, from_status, to_status, changed_fields, \
     reason, actor_agency, actor_client, regency_code, occurred_at \
     FROM json_to_recordset($1::json) AS t(n bigint, beneficiary_id uuid, business_id uuid, \
     entity_type text, entity_id uuid, action text, from_status text, to_status text, changed_fields text, \
     reason text, actor_agency text, actor_client text, regency_code text, occurred_at timestamptz) \
     ORDER BY n";

/// An event about to be written.
#[derive(serde::Serialize)]
struct NewEvent {
    /// Its place among the events written together.
    n: usize,
    beneficiary_id: Option<Uuid>,
    business_id: Option<Uuid>,
    entity_type: &'static str,
    entity_id: Uuid,
    action: &'static str,
    from_status: Option<String>,
    to_status: Option<String>,
    changed_fields: String,
    reason: Option<String>,
    actor_agency: String,
    actor_client: String,
    regency_code: String,
    occurred_at: DateTime<Utc>,
}

impl NewEvent {
    /// The event of a write to `record`.
    fn of<R: CaseRecord>(
        actor: &Actor,
        record: &R,
        action: CaseAction,
        from_status: Option<&str>,
        fields: &[&str],
        reason: Option<&str>,
    ) -> Self {
        Self {
            n: 0,
            beneficiary_id: record.beneficiary_id(),
            business_id: record.business_id(),
            entity_type: R::ENTITY_TYPE.into(),
            entity_id: record.id(),
            action: action.into(),
            from_status: from_status.map(str::to_owned),
            to_status: record.status().map(str::to_owned),
            changed_fields: serde_json::to_string(fields).unwrap_or_else(|_| "[]".into()),
            // The reason of an ending move is the record's new `statusReason`; a refusal that
            // leaves the status (a rejected closure) gives its own.
            reason: reason
                .or_else(|| fields.contains(&"statusReason").then(|| record.status_reason()).flatten())
                .map(str::to_owned),
            actor_agency: actor.agency.clone(),
            actor_client: actor.client.clone(),
            regency_code: record.regency_code().to_owned(),
            occurred_at: Utc::now(),
        }
    }

    fn active(self) -> case_event::ActiveModel {
        case_event::ActiveModel {
            beneficiary_id: Set(self.beneficiary_id),
            business_id: Set(self.business_id),
            entity_type: Set(self.entity_type.to_owned()),
            entity_id: Set(self.entity_id),
            action: Set(self.action.to_owned()),
            from_status: Set(self.from_status),
            to_status: Set(self.to_status),
            changed_fields: Set(self.changed_fields),
            reason: Set(self.reason),
            actor_agency: Set(self.actor_agency),
            actor_client: Set(self.actor_client),
            regency_code: Set(self.regency_code),
            occurred_at: Set(self.occurred_at),
            ..Default::default()
        }
    }
}

/// Wakes every replica's listener when (and only if) the transaction commits. The payload is
/// for tracing only: listeners read the events themselves from the table.
async fn notify(txn: &impl ConnectionTrait, payload: &str) -> Result<(), ServiceError> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), payload.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Commits a transaction that may have recorded case events, then wakes this process's event
/// feed. After the commit, not before: on SQLite the feed has no other wake-up, and a look
/// before the commit finds nothing and waits for the next idle poll (a second).
pub async fn commit(txn: sea_orm::DatabaseTransaction) -> Result<(), sea_orm::DbErr> {
    txn.commit().await?;
    nudge();
    Ok(())
}

/// The PostgreSQL notification channel for new case events.
pub const CHANNEL: &str = "sinergi_case_events";

/// Wakes this process's subscribers to look for new events. One per process: the apps a test
/// process runs share it, which only costs them a look that finds nothing.
static NUDGE: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// A receiver that wakes when events may have been committed.
pub fn subscribe_nudges() -> watch::Receiver<u64> {
    NUDGE.subscribe()
}

/// Tells subscribers that events may have been committed.
pub fn nudge() {
    NUDGE.send_modify(|n| *n = n.wrapping_add(1));
}

/// Keeps this replica's subscribers awake to writes made through other replicas: LISTEN on
/// PostgreSQL, reconnecting after failures. SQLite runs in one process and needs none.
pub fn spawn_listener(db: &DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let pool = db.get_postgres_connection_pool().clone();
    tokio::spawn(async move {
        loop {
            match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(mut listener) => {
                    if let Err(err) = listener.listen(CHANNEL).await {
                        tracing::warn!(error = %err, "LISTEN failed");
                    } else {
                        while let Ok(notification) = listener.recv().await {
                            tracing::trace!(seq = notification.payload(), "case event notified");
                            nudge();
                        }
                    }
                }
                Err(err) => tracing::warn!(error = %err, "cannot connect the event listener"),
            }
            // Catch up on anything missed while the listener was down, then reconnect.
            nudge();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

pub struct CaseEvent {
    /// Shared: a live event goes to every subscriber that may see it without a copy each.
    pub model: Arc<case_event::Model>,
}

record_object! {
    /// A case event (riwayat kasus): one write to one record, in commit order.
    CaseEvent {
        /// The business the record belongs to, if any.
        business_id: Option<Uuid>,
        /// The beneficiary whose case this belongs to (none for a training itself).
        beneficiary_id: Option<Uuid>,
        /// The id of the record written.
        entity_id: Uuid,
        /// Agency (OPD) that wrote.
        actor_agency: &str,
        /// API client that wrote.
        actor_client: &str,
        /// Regency/city (Kemendagri code) of the record.
        regency_code: &str,
        /// When the write committed (UTC).
        occurred_at: DateTime<Utc>,
    }
    /// Monotonic sequence number (decimal, 64-bit): the stream's cursor.
    async fn sequence(&self) -> String {
        self.model.seq.to_string()
    }
    /// The kind of record written.
    async fn entity_type(&self) -> async_graphql::Result<EntityType> {
        crate::records::parse_stored(&self.model.entity_type)
    }
    /// What happened.
    async fn action(&self) -> async_graphql::Result<CaseAction> {
        crate::records::parse_stored(&self.model.action)
    }
    /// Status before the write, for lifecycle moves.
    #[graphql(name = "fromStatus")]
    async fn status_before(&self) -> async_graphql::Result<Option<RecordStatus>> {
        self.model.from_status.as_deref().map(crate::records::parse_stored).transpose()
    }
    /// Status after the write.
    async fn to_status(&self) -> async_graphql::Result<Option<RecordStatus>> {
        self.model.to_status.as_deref().map(crate::records::parse_stored).transpose()
    }
    /// The fields the write set (GraphQL names).
    async fn changed_fields(&self) -> Vec<String> {
        serde_json::from_str(&self.model.changed_fields).unwrap_or_default()
    }
    /// The reason given with a move that ended or refused the record (reject, close, cancel,
    /// withdraw, deactivate, decline, drop); null otherwise. A beneficiary's reason is personal
    /// data: `***` without `pii:read` (and logged when read).
    async fn reason(&self, ctx: &Context<'_>) -> Option<String> {
        let reason = self.model.reason.as_deref()?;
        if self.model.entity_type != <&'static str>::from(EntityType::Beneficiary) {
            return Some(reason.to_owned());
        }
        let shown = crate::pii::reveal(ctx, self.model.entity_id, &self.model.regency_code, "statusReason");
        Some(if shown { reason.to_owned() } else { "***".to_owned() })
    }
}

impl From<case_event::Model> for CaseEvent {
    fn from(model: case_event::Model) -> Self {
        Self { model: Arc::new(model) }
    }
}

impl From<Arc<case_event::Model>> for CaseEvent {
    fn from(model: Arc<case_event::Model>) -> Self {
        Self { model }
    }
}

/// Filter for case events.
#[derive(InputObject, Default, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseEventFilter {
    /// Only this beneficiary's case.
    pub beneficiary_id: Option<Uuid>,
    /// Only events about this record.
    pub entity_id: Option<Uuid>,
    /// Only these kinds of record. At most 100 entries.
    #[graphql(validator(max_items = 100))]
    pub entity_types: Option<Vec<EntityType>>,
    /// Only events of this business and the records that belong to it (loans, visits, …).
    pub business_id: Option<Uuid>,
    /// Only these actions. At most 100 entries.
    #[graphql(validator(max_items = 100))]
    pub actions: Option<Vec<CaseAction>>,
    /// Only these regencies/cities (Kemendagri codes). At most 100 entries of at most 32 characters.
    #[graphql(validator(max_items = 100, list, chars_max_length = 32))]
    pub regency_codes: Option<Vec<String>>,
}

crate::command::plain_as_is!(CaseEventFilter);

impl CaseEventFilter {
    /// Whether `event` passes this filter and `actor` may see it: its scopes cover the record
    /// type and its regions the event's regency.
    pub fn admits(&self, actor: &Actor, event: &case_event::Model) -> bool {
        let Ok(kind) = event.entity_type.parse::<EntityType>() else { return false };
        actor.reads(kind)
            && in_regions(actor, &event.regency_code)
            && self.beneficiary_id.is_none_or(|id| event.beneficiary_id == Some(id))
            && self.entity_id.is_none_or(|id| event.entity_id == id)
            && self.business_id.is_none_or(|id| event.business_id == Some(id))
            && self.entity_types.as_ref().is_none_or(|types| types.contains(&kind))
            && self
                .actions
                .as_ref()
                .is_none_or(|actions| actions.iter().any(|a| crate::records::wire(*a) == event.action))
            && self.regency_codes.as_ref().is_none_or(|codes| codes.contains(&event.regency_code))
    }
}

/// Reads case events after a sequence, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: CaseEventFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Page<CaseEvent>, ServiceError> {
    let readable: Vec<&'static str> =
        EntityType::VARIANTS.iter().filter(|t| actor.reads(**t)).map(|t| (*t).into()).collect();
    let mut select = within_regions(case_event::Entity::find(), actor)
        .filter(case_event::Column::EntityType.is_in(readable));
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
    if let Some(id) = filter.business_id {
        select = select.filter(case_event::Column::BusinessId.eq(id));
    }
    if let Some(actions) = filter.actions {
        select =
            select.filter(case_event::Column::Action.is_in(actions.into_iter().map(crate::records::wire)));
    }
    if let Some(codes) = filter.regency_codes {
        select = select.filter(case_event::Column::RegencyCode.is_in(codes));
    }
    // Keyset paging on the sequence: a cursor is an event's `sequence`, the same cursor the
    // subscription takes, so a client can page the history and then subscribe from where it is.
    let limit = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&limit) {
        return Err(ServiceError::BadRequest(format!("`first` must be between 0 and {MAX_PAGE}")));
    }
    let total = crate::page::Total::counting(select.clone());
    let after = match after {
        Some(cursor) => Some(
            cursor
                .trim()
                .parse::<i64>()
                .map_err(|_| ServiceError::BadRequest("`after` must be an event's `sequence`".into()))?,
        ),
        None => None,
    };
    if let Some(seq) = after {
        select = select.filter(case_event::Column::Seq.gt(seq));
    }
    let mut rows = select.order_by_asc(case_event::Column::Seq).limit(limit as u64 + 1).all(db).await?;
    let has_next = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok(Page::new(
        after.is_some(),
        has_next,
        total,
        rows.into_iter().map(|row| (crate::page::Cursor::Plain(row.seq.to_string()), CaseEvent::from(row))),
    ))
}

use sea_orm::ColumnTrait;

/// Case-event queries.
#[derive(Default)]
pub struct CaseEventQuery;

#[Object]
impl CaseEventQuery {
    /// The case-event history (riwayat kasus), oldest first; `after` is an event's `sequence`,
    /// the same cursor `subscription caseEvents` takes. Needs `events:subscribe`.
    #[graphql(guard = "RequireScope(Scope::EventsSubscribe)")]
    async fn case_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only records that match every condition given; all records (within the token's regions) when absent."
        )]
        filter: Option<CaseEventFilter>,
        #[graphql(desc = "How many records to return: at most 100; 20 when absent.")] first: Option<i32>,
        #[graphql(
            desc = "Return the events after this `sequence` (the same cursor `subscription caseEvents` takes); from the start when absent."
        )]
        after: Option<String>,
    ) -> async_graphql::Result<Page<CaseEvent>> {
        // Boxed, as the record lists' (`page::queries!`).
        Box::pin(list(ctx.db()?, ctx.actor()?, filter.unwrap_or_default(), first, after)).await.map_err(gql)
    }
}

/// How long a hole in the sequence is waited for before it is taken as a rolled-back write.
/// A hole appears when a transaction that took a lower sequence commits after a higher one.
const GAP_WAIT: Duration = Duration::from_secs(3);
/// How often the feed looks again even without a wake-up (one read per process, not per
/// subscriber).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Events read per look.
const BATCH: u64 = 200;
/// How many events a subscriber may fall behind the feed before it is closed with its last
/// sequence (to resume from): a subscriber that cannot keep up never buffers without bound.
pub const FEED_BUFFER: usize = 4096;

/// This process's follower of the event table (one per database): a single reader reads each
/// committed event once, in sequence order — woken by the in-process signal or, on PostgreSQL,
/// by the NOTIFY of a write on any replica — and fans it out to every subscriber in memory.
/// Subscribers filter what they are sent; none of them reads the table while live.
pub struct EventFeed {
    sender: broadcast::Sender<Arc<case_event::Model>>,
    /// The newest sequence published: every event up to it has been sent, in order.
    head: watch::Sender<i64>,
    started: OnceCell<()>,
    /// Set when the process shuts down: every subscriber ends with its last sequence.
    closing: watch::Sender<bool>,
}

/// Why a subscriber's stream ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedEnd {
    /// It fell more than the feed's buffer behind; `last` is the last sequence it was given
    /// (or passed over), to resume after.
    Behind { last: i64 },
    /// The table could not be read (logged).
    Unreadable,
    /// The process is shutting down; `last` is the last sequence it was given (or passed over).
    Closing { last: i64 },
}

impl EventFeed {
    /// A feed whose subscribers may fall up to `buffer` events behind.
    pub fn new(buffer: usize) -> Self {
        Self {
            sender: broadcast::channel(buffer.max(1)).0,
            head: watch::channel(0).0,
            started: OnceCell::new(),
            closing: watch::channel(false).0,
        }
    }

    /// Ends every subscriber's stream with [`FeedEnd::Closing`] and its last sequence.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// The newest sequence published.
    pub fn head(&self) -> i64 {
        *self.head.borrow()
    }

    /// Starts the reader on `db` unless it runs (it stops when the feed is dropped).
    pub async fn start(self: &Arc<Self>, db: &DatabaseConnection) -> Result<(), ServiceError> {
        self.started
            .get_or_try_init(|| async {
                let head = settled_head(db).await?;
                self.head.send_replace(head);
                tokio::spawn(supervise(Arc::downgrade(self), db.clone(), head));
                Ok::<_, ServiceError>(())
            })
            .await
            .map(|_| ())
    }

    /// The events after `after` (from now on when absent) that `actor` may read and `filter`
    /// admits: the stored ones first (read in pages from `db`), then live ones as the feed
    /// publishes them — no gap, no duplicate. It ends with [`FeedEnd::Behind`] when the
    /// subscriber falls more than the buffer behind.
    pub fn follow(
        self: &Arc<Self>,
        db: DatabaseConnection,
        actor: Arc<Actor>,
        filter: CaseEventFilter,
        after: Option<i64>,
    ) -> impl Stream<Item = Result<Arc<case_event::Model>, FeedEnd>> + Send + use<> {
        // Subscribe before reading the head: an event up to the head is stored (the reader
        // publishes only committed events, in order); one after it comes through `live`.
        let mut live = self.sender.subscribe();
        let mut closing = self.closing.subscribe();
        let head = self.head();
        let mut cursor = after.unwrap_or(head);
        async_stream::stream! {
            while cursor < head {
                let closed = *closing.borrow_and_update();
                if closed {
                    yield Err(FeedEnd::Closing { last: cursor });
                    return;
                }
                let batch = match Box::pin(read_page(&db, cursor, Some(head))).await {
                    Ok(batch) => batch,
                    Err(err) => {
                        tracing::error!(error = %err, "cannot replay case events");
                        yield Err(FeedEnd::Unreadable);
                        return;
                    }
                };
                let Some(last) = batch.last().map(|e| e.seq) else { break };
                for event in batch {
                    if filter.admits(&actor, &event) {
                        yield Ok(Arc::new(event));
                    }
                }
                cursor = last;
            }
            cursor = cursor.max(head);
            let closed = *closing.borrow_and_update();
            if closed {
                yield Err(FeedEnd::Closing { last: cursor });
                return;
            }
            loop {
                let received = tokio::select! {
                    received = live.recv() => received,
                    Ok(()) = closing.changed() => {
                        yield Err(FeedEnd::Closing { last: cursor });
                        return;
                    }
                };
                match received {
                    Ok(event) if event.seq <= cursor => {}
                    Ok(event) => {
                        cursor = event.seq;
                        if filter.admits(&actor, &event) {
                            yield Ok(event);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        yield Err(FeedEnd::Behind { last: cursor });
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    }
}

/// Keeps the feed's reader running: a reader that panics is restarted from the last sequence it
/// published (subscribers miss nothing: they were given every event up to it), after a pause so
/// that a fault that repeats does not spin. It ends with the feed.
async fn supervise(feed: Weak<EventFeed>, db: DatabaseConnection, mut cursor: i64) {
    loop {
        match tokio::spawn(read_feed(feed.clone(), db.clone(), cursor)).await {
            Ok(()) => return,
            Err(err) => {
                let Some(live) = feed.upgrade() else { return };
                cursor = live.head();
                tracing::error!(error = %err, cursor, "the event feed's reader stopped; restarting it");
            }
        }
        tokio::time::sleep(IDLE_POLL).await;
    }
}

/// The feed's reader: follows the table from `cursor`, publishing each event once, in sequence
/// order, waiting up to `GAP_WAIT` for a hole a slower transaction may still fill.
async fn read_feed(feed: Weak<EventFeed>, db: DatabaseConnection, mut cursor: i64) {
    let mut wake = NUDGE.subscribe();
    let mut gap_since: Option<Instant> = None;
    loop {
        let Some(live) = feed.upgrade() else { return };
        let pause = match read_page(&db, cursor, None).await {
            Ok(batch) => {
                let full = batch.len() as u64 == BATCH;
                let mut holed = false;
                for event in batch {
                    if event.seq != cursor + 1 {
                        let waited = gap_since.get_or_insert_with(Instant::now).elapsed();
                        if waited < GAP_WAIT {
                            holed = true;
                            break;
                        }
                    }
                    gap_since = None;
                    cursor = event.seq;
                    live.head.send_replace(cursor);
                    // No subscriber is not an error: the event is stored for later replays.
                    let _ = live.sender.send(Arc::new(event));
                }
                if full && !holed {
                    continue;
                }
                if holed { Duration::from_millis(100) } else { IDLE_POLL }
            }
            Err(err) => {
                tracing::error!(error = %err, "the event feed cannot read case events");
                IDLE_POLL
            }
        };
        drop(live);
        tokio::select! {
            _ = wake.changed() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Case-event subscriptions.
#[derive(Default)]
pub struct CaseEventSubscription;

fn parse_cursor(after: &str) -> async_graphql::Result<i64> {
    after.trim().parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
        crate::error::coded(
            crate::error::ErrorCode::BadRequest,
            "`after` must be an event's `sequence` (a decimal number)",
        )
    })
}

#[Subscription]
impl CaseEventSubscription {
    /// Case updates as they commit (pembaruan kasus). With `after` (an event's `sequence`) it
    /// first replays every stored event after it, then streams live ones — no gap, no duplicate;
    /// reconnect with the last `sequence` you received and nothing is missed. Events are limited
    /// to the record types the token may read and to its regions. When the token expires or is
    /// revoked the socket sends an `UNAUTHENTICATED` error for the subscription and closes with
    /// 4401. A subscriber that falls more than 4,096 events (or 1 MiB of its results) behind is sent a `RATE_LIMITED`
    /// error whose `extensions.lastSequence` is the sequence to resume after, and its
    /// subscription completes; when the gateway shuts down, likewise with `UNAVAILABLE` (then
    /// the socket closes with 1012: reconnect and resubscribe). Needs `events:subscribe`.
    #[graphql(guard = "RequireScope(Scope::EventsSubscribe)")]
    async fn case_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only records that match every condition given; all records (within the token's regions) when absent."
        )]
        filter: Option<CaseEventFilter>,
        #[graphql(
            desc = "Replay every stored event after this `sequence`, then stream live ones; live events only when absent."
        )]
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<CaseEvent>> + use<>> {
        use futures_util::StreamExt;
        let state = ctx.state()?;
        // A shared execution (see `fanout`) starts where its group did, and says which event
        // each result is of.
        let shared = ctx.data_opt::<crate::fanout::Start>();
        let after = match after {
            Some(after) => Some(parse_cursor(&after)?),
            None => shared.map(|start| start.after),
        };
        let yielding = shared.map(|start| start.event.clone());
        // Boxed: async-graphql keeps room for this resolver's future beside the stream for as
        // long as the subscription lives, and the feed's first start reads the table.
        Box::pin(state.feed.start(&state.reader)).await.map_err(gql)?;
        let events =
            state.feed.follow(ctx.db()?.clone(), ctx.shared_actor()?, filter.unwrap_or_default(), after);
        Ok(events.map(move |item| match item {
            Ok(event) => {
                if let Some(yielding) = &yielding {
                    yielding.store(event.seq, std::sync::atomic::Ordering::Release);
                }
                Ok(CaseEvent::from(event))
            }
            Err(FeedEnd::Behind { last }) => Err(crate::error::coded(
                crate::error::ErrorCode::RateLimited,
                behind_message(last),
            )
            .extend_with(|_, e| e.set("lastSequence", last.to_string()))),
            Err(FeedEnd::Unreadable) => Err(internal_error()),
            Err(FeedEnd::Closing { last }) => Err(crate::error::coded(
                crate::error::ErrorCode::Unavailable,
                format!("this gateway is shutting down: subscribe again (another replica serves) with after: \"{last}\""),
            )
            .extend_with(|_, e| e.set("lastSequence", last.to_string()))),
        }))
    }
}

/// What a subscriber that fell too far behind is told.
pub fn behind_message(last: i64) -> String {
    format!("this subscriber fell too far behind and was closed: subscribe again with after: \"{last}\"")
}

/// Where the feed starts: the newest sequence with no hole below it among the last `BATCH`
/// events. A hole there may be a transaction still committing (PostgreSQL hands out sequences
/// before commit), which the reader then waits for like any other; older holes are rolled-back
/// writes.
async fn settled_head(db: &impl ConnectionTrait) -> Result<i64, ServiceError> {
    let latest = latest_sequence(db).await?;
    let floor = (latest - BATCH as i64).max(0);
    let recent = case_event::Entity::find()
        .filter(case_event::Column::Seq.gt(floor))
        .order_by_asc(case_event::Column::Seq)
        .all(db)
        .await?;
    let mut head = floor;
    for event in recent {
        if event.seq != head + 1 {
            break;
        }
        head = event.seq;
    }
    Ok(head)
}

/// The newest stored sequence (0 when there is none).
pub async fn latest_sequence(db: &impl ConnectionTrait) -> Result<i64, ServiceError> {
    let newest = case_event::Entity::find().order_by_desc(case_event::Column::Seq).one(db).await?;
    Ok(newest.map(|e| e.seq).unwrap_or(0))
}

/// A page of stored events after `cursor`, up to `head` when given (below the feed's head,
/// holes left by rolled-back writes are final: the feed has passed them).
async fn read_page(
    db: &impl ConnectionTrait,
    cursor: i64,
    head: Option<i64>,
) -> Result<Vec<case_event::Model>, DbErr> {
    let mut select = case_event::Entity::find().filter(case_event::Column::Seq.gt(cursor));
    if let Some(head) = head {
        select = select.filter(case_event::Column::Seq.lte(head));
    }
    select.order_by_asc(case_event::Column::Seq).limit(BATCH).all(db).await
}
