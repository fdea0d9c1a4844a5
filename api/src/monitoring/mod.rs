//! Monitoring visits (kunjungan pemantauan) by volunteers (relawan: PSM, TKSK); append-only.

pub mod service;

use async_graphql::{Context, Enum};
use entity::monitoring_visit;
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use crate::{
    auth::{RequireScope, Scope},
    business::Business,
    command::{inputs, mutations, plain_as_is},
    error::payload,
    loaders::Loaders,
    object::record_object,
    page::{Page, order_by, queries},
    policy::RequireWrite,
    records::{EntityType, case_record},
    scalars::{Date, Rupiah},
};

plain_as_is!(ObservedStatus, Obstacle);

case_record!(monitoring_visit, MonitoringVisit, beneficiary: |m| Some(m.beneficiary_id), business: |m| Some(m.business_id), status: none);

/// What the volunteer saw the business doing.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ObservedStatus {
    /// Running (berjalan).
    Running,
    /// Stalled (macet): moves the business to STALLED.
    Stalled,
    /// Closed (tutup): moves the business to CLOSED.
    Closed,
}

/// An obstacle the business faces (kendala).
#[derive(
    Enum, Copy, Clone, Debug, Eq, PartialEq, EnumString, IntoStaticStr, serde::Serialize, serde::Deserialize,
)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Obstacle {
    /// Capital (modal).
    Capital,
    /// Marketing (pemasaran).
    Marketing,
    /// Supply of materials (bahan baku).
    Supply,
    /// Skills (keterampilan).
    Skills,
    /// Health (kesehatan).
    Health,
    /// Permits (perizinan).
    Permits,
    /// Infrastructure (infrastruktur).
    Infrastructure,
    /// Other.
    Other,
}

#[derive(Clone)]
pub struct MonitoringVisit {
    pub model: monitoring_visit::Model,
}

impl From<monitoring_visit::Model> for MonitoringVisit {
    fn from(model: monitoring_visit::Model) -> Self {
        Self { model }
    }
}

record_object! {
    /// A monitoring visit (kunjungan pemantauan) to a business; never changed once recorded.
    MonitoringVisit + audit {
        /// Record id: the UUID as text, unique across every record type (`Node.id`).
        id: async_graphql::ID,
        /// The business visited.
        business_id: Uuid,
        /// The owner's beneficiary id.
        beneficiary_id: Uuid,
        /// Regency/city, Kemendagri code.
        regency_code: &str,
        /// Volunteer's name (nama relawan).
        volunteer_name: &str,
        /// Date of the visit (tanggal kunjungan).
        visited_on: Date,
        /// What the volunteer saw.
        observed_status: async_graphql::Result<ObservedStatus>,
        /// Estimated monthly revenue (perkiraan omzet).
        revenue_estimate: Option<Rupiah>,
        /// Notes (catatan).
        notes: Option<&str>,
        /// Follow-up needed (perlu tindak lanjut).
        follow_up_needed: bool,
    }
    /// Obstacles (kendala).
    async fn obstacles(&self) -> Vec<Obstacle> {
        serde_json::from_str(&self.model.obstacles).unwrap_or_default()
    }
    /// The business. Needs `business:read`.
    #[graphql(guard = "RequireScope(Scope::BusinessRead)")]
    async fn business(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Business>> {
        Loaders::one(ctx, |l| l.business(), self.model.business_id).await
    }
    /// The referrals raised to answer this visit's obstacles (`createReferral` with `visitId`).
    /// Needs `referral:read`.
    #[graphql(guard = "RequireScope(Scope::ReferralRead)")]
    async fn referrals(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<crate::referral::Referral>>> {
        Loaders::children(ctx, |l| l.referrals_by_visit(), self.model.id).await.map(Some)
    }
    /// Whether its follow-up is still to be taken in hand: it asked for one and no referral has
    /// been raised from it yet (the coordinators' `FOLLOW_UP_OPEN`, while it is the business's
    /// last visit). Needs `referral:read`.
    #[graphql(guard = "RequireScope(Scope::ReferralRead)")]
    async fn follow_up_open(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<bool>> {
        if !self.model.follow_up_needed {
            return Ok(Some(false));
        }
        let raised: Vec<crate::referral::Referral> =
            Loaders::children(ctx, |l| l.referrals_by_visit(), self.model.id).await?;
        Ok(Some(raised.is_empty()))
    }
}

inputs! {
    /// Filter for visits.
    MonitoringVisitFilter => VisitCriteria, Default {
        /// Business.
        business_id: Option<Uuid>,
        /// Beneficiary.
        beneficiary_id: Option<Uuid>,
        /// Regencies/cities. At most 100 entries of at most 32 characters.
        #[graphql(validator(max_items = 100, list, chars_max_length = 32))]
        regency_codes: Option<Vec<String>>,
        /// Observed statuses. At most 100 entries.
        #[graphql(validator(max_items = 100))]
        observed_statuses: Option<Vec<ObservedStatus>>,
        /// Only visits that flagged a follow-up.
        follow_up_needed: Option<bool>,
        /// Visited on or after.
        visited_from: Option<Date>,
        /// Visited on or before.
        visited_to: Option<Date>,
    }
}

/// A parent's monitoring visits as a connection, from the children loaded for a whole page of
/// parents in one query (`pick` chooses the loader: by business or by beneficiary).
pub async fn visits_of(
    ctx: &Context<'_>,
    pick: impl FnOnce(&Loaders) -> &crate::loaders::Children<monitoring_visit::Entity>,
    parent: Uuid,
    order_by: Option<MonitoringVisitOrderBy>,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<Page<MonitoringVisit>> {
    let rows = Loaders::child_rows(ctx, pick, parent).await?;
    let paging = crate::page::Paging {
        order: order_by.map(|o| o.column()),
        first,
        after,
        read: crate::columns::Read::ALL,
    };
    let page = crate::page::paginate_loaded::<monitoring_visit::Entity>(rows, paging, DEFAULT_ORDER);
    Ok(page.map_err(crate::error::gql)?.into_page(MonitoringVisit::from))
}

/// Visits' order when none is asked: newest visit first.
pub const DEFAULT_ORDER: (monitoring_visit::Column, sea_orm::Order) =
    (monitoring_visit::Column::VisitedOn, sea_orm::Order::Desc);

order_by!(MonitoringVisitOrderBy, MonitoringVisitOrderField, monitoring_visit {
    /// Date of the visit.
    VisitedOn => VisitedOn,
    /// Recording time.
    CreatedAt => CreatedAt,
});

inputs! {
    /// Input of `recordMonitoringVisit`.
    RecordMonitoringVisitInput => NewVisit {
        /// Client-chosen UUID (the field app works offline and syncs later; a retry is harmless).
        id: Option<Uuid>,
        /// The business visited.
        business_id: Uuid,
        /// Volunteer's name. At most 200 characters.
        #[graphql(validator(chars_max_length = 200))]
        volunteer_name: String,
        /// Date of the visit; not after today in WIT (UTC+9), Indonesia's easternmost time, so
        /// that a visit's local date is never "in the future" anywhere in Indonesia.
        visited_on: Date,
        /// What the volunteer saw.
        observed_status: ObservedStatus,
        /// Estimated monthly revenue.
        revenue_estimate: Option<Rupiah>,
        /// Obstacles. At most 100 entries.
        #[graphql(default)]
        #[graphql(validator(max_items = 100))]
        obstacles: Vec<Obstacle>,
        /// Notes. At most 2000 characters.
        #[graphql(validator(chars_max_length = 2000))]
        notes: Option<String>,
        /// Follow-up needed.
        #[graphql(default)]
        follow_up_needed: bool,
    }
}

payload!(
    /// Result of `recordMonitoringVisit`.
    RecordMonitoringVisitPayload { monitoring_visit: MonitoringVisit }
);

// What its resolvers read of its text columns (`columns.rs`); any other may read all.
crate::columns::record_columns!(MonitoringVisit: monitoring_visit::Entity {
    "obstacles": ["obstacles"],
    "business": [],
    "referrals": [],
    "followUpOpen": [],
});

queries! {
    /// Monitoring queries.
    MonitoringQuery, guard = "RequireScope(Scope::MonitoringRead)";
    /// One visit by id: null, with a `NOT_FOUND` error at its path, when it does not exist or is outside the token's regions. Needs `monitoring:read`.
    monitoring_visit -> MonitoringVisit by monitoring_visit::Entity;
    /// Visits, newest first. Needs `monitoring:read`.
    monitoring_visits(MonitoringVisitFilter, MonitoringVisitOrderBy) = service::list;
}

mutations! {
    /// Monitoring mutations.
    MonitoringMutation;
    /// Records a visit; observing STALLED or CLOSED moves the business there in the same
    /// transaction. Needs `monitoring:write` and an agency that owns monitoring-visit records.
    record_monitoring_visit(RecordMonitoringVisitInput) -> RecordMonitoringVisitPayload = service::record,
        guard = "RequireWrite(EntityType::MonitoringVisit)";
}

#[cfg(test)]
mod tests {
    use async_graphql::resolver_utils::EnumType;
    use sea_orm::{ColumnTrait, ColumnType};

    use super::{MonitoringVisitOrderBy, MonitoringVisitOrderField};
    use crate::page::OrderDirection;

    /// A business's visits are sorted in memory from rows that may lack the text columns the
    /// request does not show (`columns.rs`): every column they can be sorted by is read always.
    #[test]
    fn visits_are_sorted_only_by_columns_always_read() {
        for item in MonitoringVisitOrderField::items() {
            let (column, _) =
                MonitoringVisitOrderBy { field: item.value, direction: OrderDirection::Asc }.column();
            let kind = column.def().get_column_type().clone();
            assert!(
                !matches!(kind, ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_)),
                "{}: {kind:?}",
                item.name
            );
        }
    }
}
