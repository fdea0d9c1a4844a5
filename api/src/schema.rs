//! The GraphQL schema: the domain parts merged into one root, built with or without state.

use async_graphql::{MergedObject, MergedSubscription, Schema};

use crate::revocation::RevocationMutation;

use crate::{
    assistance::{AssistanceMutation, AssistanceQuery},
    beneficiary::{BeneficiaryMutation, BeneficiaryQuery},
    business::{BusinessMutation, BusinessQuery},
    context::AppState,
    events::{CaseEventQuery, CaseEventSubscription},
    infrastructure::{InfrastructureMutation, InfrastructureQuery},
    loan::{LoanMutation, LoanQuery},
    monitoring::{MonitoringMutation, MonitoringQuery},
    pii::PiiQuery,
    reference::ReferenceQuery,
    referral::{ReferralMutation, ReferralQuery},
    training::{TrainingMutation, TrainingQuery},
    webhooks::{WebhookMutation, WebhookQuery},
};

/// Every query of the gateway.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    ReferenceQuery,
    BeneficiaryQuery,
    AssistanceQuery,
    BusinessQuery,
    TrainingQuery,
    InfrastructureQuery,
    LoanQuery,
    ReferralQuery,
    MonitoringQuery,
    CaseEventQuery,
    PiiQuery,
    WebhookQuery,
);

/// Every mutation of the gateway.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    BeneficiaryMutation,
    AssistanceMutation,
    BusinessMutation,
    TrainingMutation,
    InfrastructureMutation,
    LoanMutation,
    ReferralMutation,
    MonitoringMutation,
    RevocationMutation,
    WebhookMutation,
);

/// Every subscription of the gateway (over WebSocket, `graphql-transport-ws`).
#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(CaseEventSubscription);

/// The schema type.
pub type SinergiSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the schema; `state` is `None` only for exporting the SDL (no database needed).
pub fn build_schema(state: Option<AppState>) -> SinergiSchema {
    // The gateway measures every document before it runs (`limits`), naming the limit it breaks;
    // the executor's own depth limit stays as a backstop. "Did you mean …" suggestions are off:
    // computing them for a megabyte-long unknown name took seconds of CPU per request.
    let mut builder =
        Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot::default())
            .limit_depth(32)
            .disable_suggestions();
    if let Some(state) = state {
        builder = builder.data(state);
    }
    builder.finish()
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema(None).sdl()
}
