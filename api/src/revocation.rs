//! Token revocation: kept in the database so every replica honours it, cached for two seconds so
//! a request does not cost a query.

use std::{
    collections::HashSet,
    sync::{Arc, Weak},
    time::{Duration, Instant},
};

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{
    api_client,
    revoked_token::{self, Entity},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};
use tokio::sync::{OnceCell, RwLock, watch};

use crate::{
    auth::{RequireScope, Scope},
    context::ContextExt,
    error::{ServiceError, gql},
};

/// How stale a replica's view of revocations may be.
pub const REFRESH: Duration = Duration::from_secs(2);

/// What is revoked, as last read from the database: token ids, and API clients
/// (`AGENCY/NAME`) whose every token is refused.
#[derive(Default, PartialEq)]
struct Revoked {
    tokens: HashSet<String>,
    clients: HashSet<String>,
}

/// Revoked tokens and clients, cached for `REFRESH`. Open sockets do not ask every second:
/// they wait on [`Revocations::changes`], which a per-process follower (one read per `REFRESH`,
/// not one per socket) signals when the set changes; each socket then re-checks its own token.
pub struct Revocations {
    cache: RwLock<(Option<Instant>, Revoked)>,
    changed: watch::Sender<u64>,
    following: OnceCell<()>,
}

impl Default for Revocations {
    fn default() -> Self {
        Self {
            cache: RwLock::new((None, Revoked::default())),
            changed: watch::channel(0).0,
            following: OnceCell::new(),
        }
    }
}

impl Revocations {
    /// Signals each time the revoked set changes; starts this process's follower of the
    /// revocation tables on `db` unless it runs (it stops when `self` is dropped).
    pub async fn changes(self: &Arc<Self>, db: &DatabaseConnection) -> watch::Receiver<u64> {
        self.following
            .get_or_init(|| async {
                tokio::spawn(follow(Arc::downgrade(self), db.clone()));
            })
            .await;
        self.changed.subscribe()
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n += 1);
    }

    /// Whether `jti` is revoked, re-reading the tables when the cache is older than `REFRESH`.
    pub async fn is_revoked(&self, db: &DatabaseConnection, jti: &str) -> Result<bool, DbErr> {
        self.check(db, |r| r.tokens.contains(jti)).await
    }

    /// Whether the token `jti` or the API client `agency/client` is revoked.
    pub async fn is_refused(
        &self,
        db: &DatabaseConnection,
        jti: &str,
        agency: &str,
        client: &str,
    ) -> Result<bool, DbErr> {
        // Asked before every operation and subscription result: the client's key is only built
        // when some client is revoked at all.
        self.check(db, |r| {
            r.tokens.contains(jti)
                || (!r.clients.is_empty() && r.clients.contains(&format!("{agency}/{client}")))
        })
        .await
    }

    async fn check(&self, db: &DatabaseConnection, test: impl Fn(&Revoked) -> bool) -> Result<bool, DbErr> {
        {
            let cache = self.cache.read().await;
            if cache.0.is_some_and(|at| at.elapsed() < REFRESH) {
                return Ok(test(&cache.1));
            }
        }
        // One reload at a time: whoever waited for the lock finds the cache fresh again.
        let mut cache = self.cache.write().await;
        if cache.0.is_some_and(|at| at.elapsed() < REFRESH) {
            return Ok(test(&cache.1));
        }
        let tokens = Entity::find().all(db).await?.into_iter().map(|r| r.jti).collect();
        let clients = api_client::Entity::find()
            .filter(api_client::Column::RevokedAt.is_not_null())
            .all(db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let revoked = Revoked { tokens, clients };
        let answer = test(&revoked);
        let changed = revoked != cache.1;
        *cache = (Some(Instant::now()), revoked);
        drop(cache);
        if changed {
            self.bump();
        }
        Ok(answer)
    }

    /// Revokes an API client (`agency/name`): its tokens are refused on every replica within
    /// seconds and its webhooks are disabled now. `NotFound` for a client never registered.
    pub async fn revoke_client(
        &self,
        db: &impl ConnectionTrait,
        agency: &str,
        name: &str,
        reason: Option<String>,
    ) -> Result<usize, crate::error::ServiceError> {
        use sea_orm::sea_query::Expr;
        let id = format!("{agency}/{name}");
        let now = Utc::now();
        let updated = api_client::Entity::update_many()
            .col_expr(api_client::Column::RevokedAt, Expr::value(now))
            .col_expr(api_client::Column::RevokedReason, Expr::value(reason.clone()))
            .filter(api_client::Column::Id.eq(id.clone()))
            .exec(db)
            .await?;
        if updated.rows_affected == 0 {
            return Err(crate::error::ServiceError::NotFound);
        }
        let why = format!(
            "the API client {id} was revoked{}",
            reason.map(|r| format!(": {r}")).unwrap_or_default()
        );
        let disabled = crate::webhooks::disable_for_client(db, agency, name, &why).await?;
        self.cache.write().await.1.clients.insert(id);
        self.bump();
        Ok(disabled)
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
        self.cache.write().await.1.tokens.insert(jti.to_owned());
        self.bump();
        Ok(now)
    }
}

/// Records a token the gateway issued, by id (the token itself is never kept), so that
/// `sinergi token revoke` can tell a known id from a mistyped one.
pub async fn record_issued(
    db: &impl ConnectionTrait,
    claims: &crate::auth::Claims,
    kid: &str,
) -> Result<(), DbErr> {
    use entity::issued_token;
    let at = |t: i64| DateTime::<Utc>::from_timestamp(t, 0).unwrap_or_default();
    issued_token::Entity::insert(issued_token::ActiveModel {
        jti: Set(claims.jti.clone()),
        agency: Set(claims.agency.clone()),
        client: Set(claims.sub.clone()),
        kid: Set(kid.to_owned()),
        issued_at: Set(at(claims.iat)),
        expires_at: Set(at(claims.exp)),
    })
    .exec_without_returning(db)
    .await?;
    // An expired token needs no revoking: its record goes.
    issued_token::Entity::delete_many()
        .filter(issued_token::Column::ExpiresAt.lt(Utc::now()))
        .exec(db)
        .await?;
    Ok(())
}

/// What `sinergi token revoke` did.
#[derive(Debug, PartialEq, Eq)]
pub enum CliRevocation {
    /// Revoked now; the token's agency and client when the gateway issued it.
    Revoked { issued_to: Option<(String, String)> },
    /// It was revoked before, at this time.
    AlreadyRevoked(DateTime<Utc>),
    /// The gateway issued no token of this id (a mistyped id, or a token of another issuer:
    /// revoke that with `force`).
    Unknown,
}

impl Revocations {
    /// Revokes a token by id from the command line: refused for an id the gateway never issued
    /// unless `force` (an external identity provider's token, or one issued before tokens were
    /// recorded), and told when it was revoked already.
    pub async fn revoke_from_cli(
        &self,
        db: &impl ConnectionTrait,
        jti: &str,
        force: bool,
        reason: Option<String>,
    ) -> Result<CliRevocation, DbErr> {
        use entity::issued_token;
        if let Some(before) = Entity::find_by_id(jti.to_owned()).one(db).await? {
            return Ok(CliRevocation::AlreadyRevoked(before.revoked_at));
        }
        let issued = issued_token::Entity::find_by_id(jti.to_owned()).one(db).await?;
        if issued.is_none() && !force {
            return Ok(CliRevocation::Unknown);
        }
        self.revoke(db, jti, "cli", reason).await?;
        Ok(CliRevocation::Revoked { issued_to: issued.map(|t| (t.agency, t.client)) })
    }
}

/// Re-reads the revocation tables every `REFRESH` while `revocations` lives, so that a
/// revocation on any replica reaches this one's open sockets without each of them asking.
async fn follow(revocations: Weak<Revocations>, db: DatabaseConnection) {
    loop {
        let Some(live) = revocations.upgrade() else { return };
        if let Err(err) = live.check(&db, |_| false).await {
            tracing::error!(error = %err, "cannot read revocations");
        }
        drop(live);
        tokio::time::sleep(REFRESH).await;
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
        #[graphql(desc = "What to do; see the input type's fields.")] input: RevokeTokenInput,
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
        crate::webhooks::disable_for_token(&state.db, &token_id).await.map_err(gql)?;
        tracing::info!(token_id, by, "token revoked");
        Ok(RevokeTokenPayload { token_id, revoked_at })
    }
}
