//! SeaORM migrations that create Sinergi's tables, identically on SQLite and PostgreSQL.
//!
//! One change per file, named by date and purpose; never edit one that has shipped (add a new one).

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_region;
mod m20261128_000002_create_agency_and_api_client;
mod m20261128_000003_create_beneficiary;
mod m20261128_000004_create_assistance;
mod m20261128_000005_create_business;
mod m20261128_000006_create_training;
mod m20261128_000007_create_infrastructure_request;
mod m20261128_000008_create_loan_application;
mod m20261128_000009_create_referral;
mod m20261128_000010_create_monitoring_visit;
mod m20261128_000011_create_case_event;
mod m20261128_000012_create_pii_access_log;
mod m20261128_000013_create_revoked_token;
mod m20261128_000014_create_webhook;
mod m20261129_000015_add_business_closure_proposal;
mod m20261129_000016_add_webhook_token_and_client_revocation;
mod m20261129_000017_add_status_reason;
mod m20261129_000018_backfill_status_reason;
mod m20261129_000019_add_sort_indexes;
mod m20261129_000020_add_starter_package_intake;
mod m20261129_000021_add_business_level;
mod m20261129_000022_create_volunteer;
mod m20261129_000023_add_referral_resent_from;
mod m20261129_000024_add_business_graduated_on;
mod m20261129_000025_create_market_service;
mod m20261129_000026_add_referral_visit;
mod m20261130_000027_create_issued_token;
mod m20261130_000028_create_rate_usage;
mod m20261130_000029_create_idempotency_key;
mod m20261130_000030_create_supplied_id;
mod m20261130_000031_create_trusted_document;
mod shared;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_region::Migration),
            Box::new(m20261128_000002_create_agency_and_api_client::Migration),
            Box::new(m20261128_000003_create_beneficiary::Migration),
            Box::new(m20261128_000004_create_assistance::Migration),
            Box::new(m20261128_000005_create_business::Migration),
            Box::new(m20261128_000006_create_training::Migration),
            Box::new(m20261128_000007_create_infrastructure_request::Migration),
            Box::new(m20261128_000008_create_loan_application::Migration),
            Box::new(m20261128_000009_create_referral::Migration),
            Box::new(m20261128_000010_create_monitoring_visit::Migration),
            Box::new(m20261128_000011_create_case_event::Migration),
            Box::new(m20261128_000012_create_pii_access_log::Migration),
            Box::new(m20261128_000013_create_revoked_token::Migration),
            Box::new(m20261128_000014_create_webhook::Migration),
            Box::new(m20261129_000015_add_business_closure_proposal::Migration),
            Box::new(m20261129_000016_add_webhook_token_and_client_revocation::Migration),
            Box::new(m20261129_000017_add_status_reason::Migration),
            Box::new(m20261129_000018_backfill_status_reason::Migration),
            Box::new(m20261129_000019_add_sort_indexes::Migration),
            Box::new(m20261129_000020_add_starter_package_intake::Migration),
            Box::new(m20261129_000021_add_business_level::Migration),
            Box::new(m20261129_000022_create_volunteer::Migration),
            Box::new(m20261129_000023_add_referral_resent_from::Migration),
            Box::new(m20261129_000024_add_business_graduated_on::Migration),
            Box::new(m20261129_000025_create_market_service::Migration),
            Box::new(m20261129_000026_add_referral_visit::Migration),
            Box::new(m20261130_000027_create_issued_token::Migration),
            Box::new(m20261130_000028_create_rate_usage::Migration),
            Box::new(m20261130_000029_create_idempotency_key::Migration),
            Box::new(m20261130_000030_create_supplied_id::Migration),
            Box::new(m20261130_000031_create_trusted_document::Migration),
        ]
    }
}
