//! Integration tests: each starts the real gateway on an ephemeral port over a fresh database
//! (SQLite by default; PostgreSQL when `TEST_DATABASE_URL` is set) and speaks HTTP to it.

mod auth;
mod batching;
mod beneficiary;
mod cli;
mod clients;
mod concurrency;
mod conformance;
mod documents;
mod frontends;
mod fuzz;
mod helpers;
mod hostile;
mod idempotency;
mod import;
mod keys;
mod lifecycles;
mod market;
pub mod matrix;
mod metrics;
mod outage;
mod policy;
mod production;
mod programme;
mod ratelimit;
mod regions;
mod replicas;
mod robustness;
mod rules;
mod schema;
mod seed;
pub mod subscriptions;
mod volunteers;
mod webhooks;
