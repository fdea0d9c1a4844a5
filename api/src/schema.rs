//! The GraphQL schema: the domain parts merged into one root, built with or without state.

use async_graphql::{MergedObject, MergedSubscription, Schema};

use crate::revocation::RevocationMutation;

use crate::{
    assistance::{AssistanceMoves, AssistanceMutation, AssistanceQuery},
    beneficiary::{BeneficiaryMoves, BeneficiaryMutation, BeneficiaryQuery},
    business::{BusinessMoves, BusinessMutation, BusinessQuery},
    context::AppState,
    events::{CaseEventQuery, CaseEventSubscription},
    infrastructure::{InfrastructureMoves, InfrastructureMutation, InfrastructureQuery},
    loan::{LoanMoves, LoanMutation, LoanQuery},
    market::{MarketMoves, MarketMutation, MarketQuery},
    monitoring::{MonitoringMutation, MonitoringQuery},
    node::NodeQuery,
    pii::PiiQuery,
    programme::ProgrammeQuery,
    reference::ReferenceQuery,
    referral::{ReferralMoves, ReferralMutation, ReferralQuery},
    training::{EnrollmentMoves, EnrollmentQuery, TrainingMoves, TrainingMutation, TrainingQuery},
    volunteer::{VolunteerMoves, VolunteerMutation, VolunteerQuery},
    webhooks::{WebhookMutation, WebhookQuery},
};

/// Every query of the gateway.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    ReferenceQuery,
    NodeQuery,
    BeneficiaryQuery,
    AssistanceQuery,
    BusinessQuery,
    TrainingQuery,
    EnrollmentQuery,
    InfrastructureQuery,
    MarketQuery,
    LoanQuery,
    ReferralQuery,
    MonitoringQuery,
    CaseEventQuery,
    PiiQuery,
    ProgrammeQuery,
    VolunteerQuery,
    WebhookQuery,
);

/// Every mutation of the gateway.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    BeneficiaryMutation,
    BeneficiaryMoves,
    AssistanceMutation,
    AssistanceMoves,
    BusinessMutation,
    BusinessMoves,
    TrainingMutation,
    TrainingMoves,
    EnrollmentMoves,
    InfrastructureMutation,
    InfrastructureMoves,
    MarketMutation,
    MarketMoves,
    LoanMutation,
    LoanMoves,
    ReferralMutation,
    ReferralMoves,
    MonitoringMutation,
    VolunteerMutation,
    VolunteerMoves,
    RevocationMutation,
    WebhookMutation,
);

/// Every subscription of the gateway (over WebSocket, `graphql-transport-ws`).
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(CaseEventSubscription);

/// The schema type.
pub type SinergiSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the schema; `state` is `None` only for exporting the SDL (no database needed).
pub fn build_schema(state: Option<AppState>) -> SinergiSchema {
    build_schema_validating(state, async_graphql::ValidationMode::Strict)
}

/// The schema, validating documents in `mode`. `Fast` checks only what execution needs (fragment
/// cycles, uploads, depth): the gateway runs a document with it only when the same document,
/// operation and variables have passed the strict checks before (`parsed.rs`).
pub fn build_schema_validating(
    state: Option<AppState>,
    mode: async_graphql::ValidationMode,
) -> SinergiSchema {
    // No extension is registered: record objects read their plain fields, and connections their
    // `nodes`, without async-graphql's per-field hooks (`object.rs`, `page.rs`), so one added
    // here would not see them.
    // The gateway measures every document before it runs (`limits`), naming the limit it breaks;
    // the executor's own depth limit stays as a backstop. "Did you mean …" suggestions are off:
    // computing them for a megabyte-long unknown name took seconds of CPU per request.
    let mut builder =
        Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot::default())
            .limit_depth(32)
            .disable_suggestions()
            .validation_mode(mode);
    builder = describe_connections(builder);
    if let Some(state) = state {
        builder = builder.data(state);
    }
    builder.finish()
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema(None).sdl()
}

/// Describes each generated connection type: async-graphql names them, the schema explains them.
fn describe_connections(
    builder: async_graphql::SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot>,
) -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    use crate::{
        assistance::Assistance,
        beneficiary::Beneficiary,
        business::Business,
        events::CaseEvent,
        infrastructure::InfrastructureRequest,
        loan::LoanApplication,
        monitoring::MonitoringVisit,
        page::Page,
        pii::PiiAccess,
        referral::Referral,
        training::{Training, TrainingEnrollment},
        webhooks::WebhookDeliveryNode,
    };
    macro_rules! page {
        ($what:literal) => {
            concat!(
                "A page of ",
                $what,
                " (a Relay connection): `edges { cursor node }` or `nodes`, `pageInfo` to page on with ",
                "`first`/`after`, and `totalCount` across all pages."
            )
        };
    }
    builder
        .override_output_type_description::<Page<Assistance>>(page!("assistance records"))
        .override_output_type_description::<Page<Beneficiary>>(page!("beneficiaries"))
        .override_output_type_description::<Page<Business>>(page!("businesses"))
        .override_output_type_description::<Page<CaseEvent>>(page!("case events, by sequence"))
        .override_output_type_description::<Page<InfrastructureRequest>>(page!("infrastructure requests"))
        .override_output_type_description::<Page<LoanApplication>>(page!("loan applications"))
        .override_output_type_description::<Page<MonitoringVisit>>(page!("monitoring visits"))
        .override_output_type_description::<Page<PiiAccess>>(page!("the personal-data access log"))
        .override_output_type_description::<Page<Referral>>(page!("referrals"))
        .override_output_type_description::<Page<Training>>(page!("trainings"))
        .override_output_type_description::<Page<TrainingEnrollment>>(page!("a training's enrollments"))
        .override_output_type_description::<Page<WebhookDeliveryNode>>(page!("a webhook's delivery attempts"))
        .override_output_type_description::<Page<crate::volunteer::Volunteer>>(page!("volunteers"))
        .override_output_type_description::<Page<crate::market::MarketService>>(page!("market services"))
        .override_output_type_description::<crate::programme::WorkListPage>(
            "A page of referrals waiting for the caller's agency, overdue first (a Relay connection): \
             `edges { cursor node }` or `nodes`, `pageInfo` to page on with `first`/`after`.",
        )
        .override_output_type_description::<crate::programme::AttentionPage>(
            "A page of businesses needing attention, never visited first (a Relay connection): \
             `edges { cursor node }` or `nodes`, `pageInfo` to page on with `first`/`after`.",
        )
        .override_output_type_description::<crate::programme::CandidatePage>(
            "A page of candidates for a starter package, best placed first (a Relay connection): \
             `edges { cursor node }` or `nodes`, `pageInfo` to page on with `first`/`after`, and \
             the regency's `allocation` for the year.",
        )
}
