//! Token revocation: kept in the database so every replica honours it, cached for two seconds so
//! a request does not cost a query.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::revoked_token::{self, Entity};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, sea_query::OnConflict,
};
use tokio::sync::RwLock;

use crate::{
    auth::{RequireScope, Scope},
    context::ContextExt,
    error::{ServiceError, gql},
};

/// How stale a replica's view of revocations may be.
pub const REFRESH: Duration = Duration::from_secs(2);

/// The revoked token ids, as last read from the database.
pub struct Revocations {
    cache: RwLock<(Option<Instant>, HashSet<String>)>,
}

impl Default for Revocations {
    fn default() -> Self {
        Self { cache: RwLock::new((None, HashSet::new())) }
    }
}

impl Revocations {
    /// Whether `jti` is revoked, re-reading the table when the cache is older than `REFRESH`.
    pub async fn is_revoked(&self, db: &DatabaseConnection, jti: &str) -> Result<bool, DbErr> {
        {
            let cache = self.cache.read().await;
            if cache.0.is_some_and(|at| at.elapsed() < REFRESH) {
                return Ok(cache.1.contains(jti));
            }
        }
        let ids: HashSet<String> = Entity::find().all(db).await?.into_iter().map(|r| r.jti).collect();
        let revoked = ids.contains(jti);
        *self.cache.write().await = (Some(Instant::now()), ids);
        Ok(revoked)
    }

    /// Records a revocation (idempotent) and applies it to this replica at once.
    pub async fn revoke(
        &self,
        db: &impl ConnectionTrait,
        jti: &str,
        by: &str,
        reason: Option<String>,
    ) -> Result<DateTime<Utc>, DbErr> {
        let now = Utc::now();
        Entity::insert(revoked_token::ActiveModel {
            jti: Set(jti.to_owned()),
            revoked_by: Set(by.to_owned()),
            reason: Set(reason),
            revoked_at: Set(now),
        })
        .on_conflict(OnConflict::column(revoked_token::Column::Jti).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
        self.cache.write().await.1.insert(jti.to_owned());
        Ok(now)
    }
}

/// Input of `revokeToken`.
#[derive(InputObject)]
pub struct RevokeTokenInput {
    /// The token's id (`jti`), as `me { tokenId }` or `sinergi token issue` shows it. At most 200 characters.
    #[graphql(validator(chars_max_length = 200))]
    pub token_id: String,
    /// Why (kept with the revocation). At most 2000 characters.
    #[graphql(validator(chars_max_length = 2000))]
    pub reason: Option<String>,
}

/// Result of `revokeToken`.
#[derive(SimpleObject)]
pub struct RevokeTokenPayload {
    /// The revoked token's id.
    pub token_id: String,
    /// When the revocation was recorded; every replica honours it within seconds.
    pub revoked_at: DateTime<Utc>,
}

/// Token-administration mutations.
#[derive(Default)]
pub struct RevocationMutation;

#[Object]
impl RevocationMutation {
    /// Revokes a token (cabut token): it stops working on every replica within seconds.
    /// Needs `admin`.
    #[graphql(guard = "RequireScope(Scope::Admin)")]
    async fn revoke_token(
        &self,
        ctx: &Context<'_>,
        input: RevokeTokenInput,
    ) -> async_graphql::Result<RevokeTokenPayload> {
        let token_id = input.token_id.trim().to_owned();
        if token_id.is_empty() || token_id.len() > 100 {
            return Err(gql(ServiceError::BadRequest("tokenId must be 1–100 characters".into())));
        }
        let state = ctx.state()?;
        let actor = ctx.actor()?;
        let by = format!("{}/{}", actor.agency, actor.client);
        let revoked_at = state
            .revocations
            .revoke(&state.db, &token_id, &by, input.reason)
            .await
            .map_err(|e| gql(ServiceError::Database(e)))?;
        tracing::info!(token_id, by, "token revoked");
        Ok(RevokeTokenPayload { token_id, revoked_at })
    }
}
