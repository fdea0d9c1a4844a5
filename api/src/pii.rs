//! Personal data (data pribadi): masking and the access log of every unmasked read.
//!
//! Resolvers of personal fields call `reveal`; when the caller holds `pii:read` the read is noted
//! in the request's `PiiReads`, and the HTTP handler writes those notes to `pii_access_log`
//! before the response leaves. If the log cannot be written, the data is not sent.

use std::{
    borrow::Cow,
    collections::{BTreeMap, BTreeSet},
    sync::Mutex,
};

use async_graphql::{Context, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::pii_access_log::{self, Column, Entity};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use uuid::Uuid;

use crate::{
    auth::{Actor, RequireScope, Scope},
    context::ContextExt,
    error::{ServiceError, gql},
    page::{Narrow, Page, Paging, Rows, paginate},
    records::{regional, within_regions},
};

regional!(pii_access_log);

/// Longest purpose kept from `X-Purpose`.
const MAX_PURPOSE: usize = 200;

/// The unmasked reads of one request: beneficiary → (regency, fields).
#[derive(Default)]
pub struct PiiReads {
    reads: Mutex<Reads>,
}

/// Per beneficiary read unmasked: its regency and the fields shown.
type Reads = BTreeMap<Uuid, (String, BTreeSet<Cow<'static, str>>)>;

impl PiiReads {
    fn note(&self, beneficiary: Uuid, regency: &str, field: &'static str) {
        if let Ok(mut reads) = self.reads.lock() {
            reads
                .entry(beneficiary)
                .or_insert_with(|| (regency.to_owned(), BTreeSet::new()))
                .1
                .insert(Cow::Borrowed(field));
        }
    }

    /// The reads noted so far, as JSON (kept with an idempotent response, so that its replay is
    /// logged like the first delivery).
    pub fn snapshot(&self) -> String {
        let reads = self.reads.lock().map(|r| r.clone()).unwrap_or_default();
        serde_json::to_string(&reads).unwrap_or_else(|_| "{}".into())
    }

    /// Reads from a [`snapshot`](Self::snapshot).
    pub fn restore(snapshot: &str) -> Self {
        let reads: Reads = serde_json::from_str(snapshot).unwrap_or_default();
        Self { reads: Mutex::new(reads) }
    }

    /// Takes the reads noted so far, as a snapshot ([`parse`](Self::parse) reads it); `None`
    /// when there are none. `Err` when they cannot be read: the result must not leave.
    pub fn take(&self) -> Result<Option<String>, DbErr> {
        let mut reads =
            self.reads.lock().map_err(|_| DbErr::Custom("personal-data log lock poisoned".into()))?;
        let reads = std::mem::take(&mut *reads);
        if reads.is_empty() {
            return Ok(None);
        }
        serde_json::to_string(&reads).map(Some).map_err(|e| DbErr::Custom(e.to_string()))
    }

    /// Reads from a snapshot [`take`](Self::take) made; `Err` when it does not parse (the
    /// result must not leave).
    pub fn parse(snapshot: &str) -> Result<Self, serde_json::Error> {
        Ok(Self { reads: Mutex::new(serde_json::from_str(snapshot)?) })
    }

    /// Forgets the reads of a result that will not be sent.
    pub fn discard(&self) {
        if let Ok(mut reads) = self.reads.lock() {
            reads.clear();
        }
    }

    /// Writes one log row per beneficiary read unmasked.
    pub async fn flush(
        &self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        operation: &str,
        purpose: Option<&str>,
    ) -> Result<usize, DbErr> {
        let reads = match self.reads.lock() {
            Ok(mut reads) => std::mem::take(&mut *reads),
            Err(_) => return Err(DbErr::Custom("personal-data log lock poisoned".into())),
        };
        let now = Utc::now();
        let rows: Vec<_> = reads
            .into_iter()
            .map(|(beneficiary, (regency, fields))| pii_access_log::ActiveModel {
                id: Set(Uuid::now_v7()),
                beneficiary_id: Set(beneficiary),
                regency_code: Set(regency),
                fields: Set(serde_json::to_string(&fields).unwrap_or_else(|_| "[]".into())),
                actor_agency: Set(actor.agency.clone()),
                actor_client: Set(actor.client.clone()),
                token_id: Set(actor.token_id.clone()),
                operation: Set(operation.to_owned()),
                purpose: Set(purpose.map(str::to_owned)),
                accessed_at: Set(now),
            })
            .collect();
        let count = rows.len();
        for chunk in rows.chunks(100) {
            Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
        }
        Ok(count)
    }
}

/// Cleans the stated purpose: printable, trimmed, at most 200 characters.
pub fn purpose(header: Option<&str>) -> Option<String> {
    let text: String = header?.chars().filter(|c| !c.is_control()).take(MAX_PURPOSE).collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Whether the caller may see `field` of a beneficiary unmasked; if so the read is logged.
pub fn reveal(ctx: &Context<'_>, beneficiary: Uuid, regency: &str, field: &'static str) -> bool {
    let allowed = ctx.actor().is_ok_and(|a| {
        a.has(Scope::PiiRead)
            && (a.volunteer.is_none()
                || ctx.data::<VolunteerCases>().is_ok_and(|cases| cases.0.contains(&beneficiary)))
    });
    if allowed && let Ok(reads) = ctx.data::<std::sync::Arc<PiiReads>>() {
        reads.note(beneficiary, regency, field);
    }
    allowed
}

/// The beneficiaries a volunteer's token may see the personal data of (those whose businesses
/// are assigned to the volunteer), read when each operation starts: request data of every
/// operation of a token that names a volunteer.
pub struct VolunteerCases(pub BTreeSet<Uuid>);

/// Records that the caller learned something of a beneficiary's personal data (a `DUPLICATE`
/// NIK answer), whatever its scopes.
pub fn note_read(ctx: &Context<'_>, beneficiary: Uuid, regency: &str, field: &'static str) {
    if let Ok(reads) = ctx.data::<std::sync::Arc<PiiReads>>() {
        reads.note(beneficiary, regency, field);
    }
}

/// Masks all but the first four and last two characters: `6472**********01`.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    chars.iter().enumerate().map(|(i, c)| if i < 4 || i >= chars.len() - 2 { *c } else { '*' }).collect()
}

/// One logged read of unmasked personal data (akses data pribadi).
pub struct PiiAccess(pii_access_log::Model);

/// One request's read of a beneficiary's unmasked personal data; kept for UU PDP accountability
/// and breach investigation, never changeable through the API.
#[Object]
impl PiiAccess {
    /// Log entry id.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// The beneficiary whose data was read.
    async fn beneficiary_id(&self) -> Uuid {
        self.0.beneficiary_id
    }
    /// The beneficiary's regency/city.
    async fn regency_code(&self) -> &str {
        &self.0.regency_code
    }
    /// The fields read unmasked (GraphQL names).
    async fn fields(&self) -> Vec<String> {
        serde_json::from_str(&self.0.fields).unwrap_or_default()
    }
    /// Agency (OPD) that read.
    async fn actor_agency(&self) -> &str {
        &self.0.actor_agency
    }
    /// API client that read.
    async fn actor_client(&self) -> &str {
        &self.0.actor_client
    }
    /// The token (`jti`) used.
    async fn token_id(&self) -> &str {
        &self.0.token_id
    }
    /// The GraphQL operation name (`-` when the request named none).
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    /// The purpose the request stated in its `X-Purpose` header (tujuan penggunaan).
    async fn purpose(&self) -> Option<&str> {
        self.0.purpose.as_deref()
    }
    /// When (UTC).
    async fn accessed_at(&self) -> DateTime<Utc> {
        self.0.accessed_at
    }
}

/// Filter for the personal-data access log.
#[derive(InputObject, Default)]
pub struct PiiAccessFilter {
    /// Reads of this beneficiary.
    pub beneficiary_id: Option<Uuid>,
    /// Reads by this agency. At most 32 characters.
    #[graphql(validator(chars_max_length = 32))]
    pub actor_agency: Option<String>,
    /// Reads with this token. At most 200 characters.
    #[graphql(validator(chars_max_length = 200))]
    pub token_id: Option<String>,
    /// Read at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Read at or before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// Personal-data access-log queries.
#[derive(Default)]
pub struct PiiQuery;

#[Object]
impl PiiQuery {
    /// The personal-data access log, newest first. Needs `admin`; read-only by design.
    #[graphql(guard = "RequireScope(Scope::Admin)")]
    async fn pii_access_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only records that match every condition given; all records (within the token's regions) when absent."
        )]
        filter: Option<PiiAccessFilter>,
        #[graphql(
            validator(minimum = 0, maximum = 100),
            desc = "How many records to return: at most 100; 20 when absent."
        )]
        first: Option<i32>,
        #[graphql(desc = "Return the records after this cursor: the previous page's `pageInfo.endCursor`.")]
        after: Option<String>,
    ) -> async_graphql::Result<Page<PiiAccess>> {
        // Boxed, as the record lists' (`page::queries!`): the query root's future is as large as
        // its largest field's.
        let page = Box::pin(list(ctx.db()?, ctx.actor()?, filter.unwrap_or_default(), first, after)).await;
        Ok(page.map_err(gql)?.into_page(PiiAccess))
    }
}

async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: PiiAccessFilter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Rows<Entity>, ServiceError> {
    let select = within_regions(Entity::find(), actor)
        .equal(Column::BeneficiaryId, filter.beneficiary_id)
        .equal(Column::ActorAgency, filter.actor_agency)
        .equal(Column::TokenId, filter.token_id)
        .between(Column::AccessedAt, filter.from, filter.to);
    let paging = Paging { order: None, first, after, read: crate::columns::Read::ALL };
    paginate(db, select, paging, (Column::AccessedAt, sea_orm::Order::Desc)).await
}
