//! SeaORM entities: the storage shape of Sinergi's records (no GraphQL here; `api` converts).

pub mod agency;
pub mod api_client;
pub mod assistance;
pub mod beneficiary;
pub mod business;
pub mod case_event;
pub mod infrastructure_request;
pub mod issued_token;
pub mod loan_application;
pub mod market_service;
pub mod monitoring_visit;
pub mod pii_access_log;
pub mod referral;
pub mod region;
pub mod revoked_token;
pub mod training;
pub mod training_enrollment;
pub mod volunteer;
pub mod webhook;
pub mod webhook_delivery;
