//! Scoped tokens: issuing and verifying JWTs, the verified caller, and the scope guard.
//!
//! Authorization is declared where a field is (`#[graphql(guard = "RequireScope(Scope::X)")]`),
//! so a reviewer reads a field's scope next to the field.

use std::{collections::BTreeSet, fmt};

use async_graphql::{Context, Guard, SimpleObject};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};

use crate::{config::Secret, context::ContextExt, error::coded};

/// Tokens larger than this are refused before any parsing.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// A permission a token carries (`scope` claim, space-separated, OAuth 2 style).
#[derive(
    Copy, Clone, Debug, Eq, PartialEq, Ord, PartialOrd, Hash, EnumString, IntoStaticStr, VariantArray,
)]
pub enum Scope {
    #[strum(serialize = "beneficiary:read")]
    BeneficiaryRead,
    #[strum(serialize = "beneficiary:write")]
    BeneficiaryWrite,
    #[strum(serialize = "assistance:read")]
    AssistanceRead,
    #[strum(serialize = "assistance:write")]
    AssistanceWrite,
    #[strum(serialize = "business:read")]
    BusinessRead,
    #[strum(serialize = "business:write")]
    BusinessWrite,
    #[strum(serialize = "training:read")]
    TrainingRead,
    #[strum(serialize = "training:write")]
    TrainingWrite,
    #[strum(serialize = "infrastructure:read")]
    InfrastructureRead,
    #[strum(serialize = "infrastructure:write")]
    InfrastructureWrite,
    #[strum(serialize = "loan:read")]
    LoanRead,
    #[strum(serialize = "loan:write")]
    LoanWrite,
    #[strum(serialize = "referral:read")]
    ReferralRead,
    #[strum(serialize = "referral:write")]
    ReferralWrite,
    #[strum(serialize = "monitoring:read")]
    MonitoringRead,
    #[strum(serialize = "monitoring:write")]
    MonitoringWrite,
    #[strum(serialize = "pii:read")]
    PiiRead,
    #[strum(serialize = "events:subscribe")]
    EventsSubscribe,
    #[strum(serialize = "stats:read")]
    StatsRead,
    #[strum(serialize = "admin")]
    Admin,
}

impl Scope {
    /// The scope's wire name, e.g. `loan:read`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a space-separated scope list, naming the first unknown scope.
pub fn parse_scopes(list: &str) -> Result<BTreeSet<Scope>, String> {
    list.split_whitespace().map(|s| s.parse::<Scope>().map_err(|_| format!("unknown scope `{s}`"))).collect()
}

/// A token's claims, as docs/design.md lists them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The API client.
    pub sub: String,
    pub agency: String,
    pub scope: String,
    /// Regency/city codes, or `64` for the whole province.
    pub regions: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    /// The volunteer (relawan) the token belongs to: it then sees personal data only of the
    /// beneficiaries whose businesses are assigned to that volunteer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volunteer: Option<String>,
}

/// The verified caller of one request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub agency: String,
    pub client: String,
    pub scopes: BTreeSet<Scope>,
    pub regions: Vec<String>,
    pub token_id: String,
    /// When the token expires (Unix seconds); long-lived subscriptions end then.
    pub expires_at: i64,
    /// When the token was issued (Unix seconds); with `expires_at`, its lifetime.
    pub issued_at: i64,
    /// The volunteer the token belongs to (the `volunteer` claim).
    pub volunteer: Option<uuid::Uuid>,
}

impl Actor {
    /// An operator's command (`sinergi import`, `sinergi levels`) acting as `agency`'s API client
    /// `client`: no token, so no token id and no expiry.
    pub fn command_line(agency: &str, client: &str, scopes: BTreeSet<Scope>, regions: Vec<String>) -> Self {
        Self {
            agency: agency.to_owned(),
            client: client.to_owned(),
            scopes,
            regions,
            token_id: String::new(),
            expires_at: i64::MAX,
            issued_at: chrono::Utc::now().timestamp(),
            volunteer: None,
        }
    }

    /// `FORBIDDEN` unless the caller holds `scope`.
    pub fn require(&self, scope: Scope) -> async_graphql::Result<()> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(coded(crate::error::ErrorCode::Forbidden, format!("this token lacks the `{scope}` scope")))
        }
    }

    /// Whether the caller may read records of `kind` (and so their case events).
    pub fn reads(&self, kind: crate::records::EntityType) -> bool {
        use crate::records::EntityType as T;
        self.has(match kind {
            T::Beneficiary => Scope::BeneficiaryRead,
            T::Assistance => Scope::AssistanceRead,
            T::Business | T::MarketService => Scope::BusinessRead,
            T::Training | T::TrainingEnrollment => Scope::TrainingRead,
            T::InfrastructureRequest => Scope::InfrastructureRead,
            T::LoanApplication => Scope::LoanRead,
            T::Referral => Scope::ReferralRead,
            T::MonitoringVisit | T::Volunteer => Scope::MonitoringRead,
        })
    }

    /// Whether the caller holds `scope`.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// The scope that writes records of `kind`.
pub fn write_scope(kind: crate::records::EntityType) -> Scope {
    use crate::records::EntityType as T;
    match kind {
        T::Beneficiary => Scope::BeneficiaryWrite,
        T::Assistance => Scope::AssistanceWrite,
        T::Business | T::MarketService => Scope::BusinessWrite,
        T::Training | T::TrainingEnrollment => Scope::TrainingWrite,
        T::InfrastructureRequest => Scope::InfrastructureWrite,
        T::LoanApplication => Scope::LoanWrite,
        T::Referral => Scope::ReferralWrite,
        T::MonitoringVisit | T::Volunteer => Scope::MonitoringWrite,
    }
}

/// A guard that lets a field resolve only for tokens with the scope.
pub struct RequireScope(pub Scope);

impl Guard for RequireScope {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        ctx.actor()?.require(self.0)
    }
}

/// What `me` tells a caller about its own token.
#[derive(SimpleObject)]
pub struct Me {
    /// The agency (OPD) the token belongs to, e.g. `DINSOS`.
    pub agency: String,
    /// The API client (`sub`).
    pub client: String,
    /// The scopes the token carries.
    pub scopes: Vec<String>,
    /// Kemendagri regency/city codes the token may see, or `64` for the whole province.
    pub regions: Vec<String>,
    /// The token's id (`jti`).
    pub token_id: String,
    /// The volunteer (relawan) the token belongs to — a field app's token (agencies whose
    /// policy says `per_volunteer`); null for every other token.
    pub volunteer_id: Option<uuid::Uuid>,
}

impl From<&Actor> for Me {
    fn from(actor: &Actor) -> Self {
        Self {
            agency: actor.agency.clone(),
            client: actor.client.clone(),
            scopes: actor.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            regions: actor.regions.clone(),
            token_id: actor.token_id.clone(),
            volunteer_id: actor.volunteer,
        }
    }
}

/// Why a token was refused; logged, never shown to the client beyond `UNAUTHENTICATED`.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token too large")]
    TooLarge,
    /// The `kid` (at most 64 characters, printed escaped: it is the client's text).
    #[error("unknown key id {0:?}")]
    UnknownKey(String),
    #[error("algorithm does not match the key")]
    WrongAlgorithm,
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("malformed claim: {0}")]
    MalformedClaim(String),
}

/// What a client is told when its token is refused: missing, malformed, expired, not yet valid,
/// not valid here, not allowed by the policy, revoked (RFC 6750's `error_description`). Which
/// check failed is told only once the signature held: a forger learns nothing from it.
pub mod refusal {
    /// No `Authorization: Bearer` header (or `connection_init` token).
    pub const MISSING: &str = "a bearer token is required (Authorization: Bearer <token>)";
    /// Not a JWT at all, or longer than any token Sinergi issues.
    pub const MALFORMED: &str = "the token is malformed (not a JWT)";
    /// Past its `exp`, beyond the 30-second clock leeway.
    pub const EXPIRED: &str = "the token expired";
    /// Before its `nbf`, beyond the clock leeway.
    pub const NOT_YET_VALID: &str = "the token is not valid yet (nbf)";
    /// A signature, key, algorithm, issuer, audience or claim this gateway does not accept.
    pub const INVALID: &str =
        "the token is not valid for this gateway (signature, key, issuer, audience or claims)";
    /// Signed, but the access policy in force no longer allows its agency, client or volunteer.
    pub const NOT_ALLOWED: &str =
        "the token's agency, client or volunteer is not allowed by the access policy in force";
    /// Revoked (the token, or its API client).
    pub const REVOKED: &str = "the token was revoked";
}

impl TokenError {
    /// The client-facing reason (see [`refusal`]); the log gets the full error.
    pub fn client_message(&self) -> &'static str {
        use jsonwebtoken::errors::ErrorKind;
        match self {
            Self::TooLarge => refusal::MALFORMED,
            Self::Invalid(err) => match err.kind() {
                ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                    refusal::MALFORMED
                }
                ErrorKind::ExpiredSignature => refusal::EXPIRED,
                ErrorKind::ImmatureSignature => refusal::NOT_YET_VALID,
                _ => refusal::INVALID,
            },
            Self::UnknownKey(_) | Self::WrongAlgorithm | Self::MalformedClaim(_) => refusal::INVALID,
        }
    }
}

/// One verification key: its algorithm, key and (for asymmetric keys) its public JWK.
#[derive(Clone)]
struct VerifyingKey {
    algorithm: Algorithm,
    key: DecodingKey,
    jwk: Option<serde_json::Value>,
}

/// The signing key and every key tokens may be verified with, by `kid`. Several keys at once let
/// a key rotate without downtime: sign with the new one while the old one still verifies.
#[derive(Clone)]
pub struct TokenKeys {
    external: Option<std::sync::Arc<ExternalIdp>>,
    signing_kid: String,
    signing_algorithm: Algorithm,
    signing: EncodingKey,
    verifying: std::collections::BTreeMap<String, VerifyingKey>,
    issuer: String,
    audience: String,
    /// Tokens these keys verified, shared by the clones of the keys (see [`Verified`]).
    verified: std::sync::Arc<Verified>,
}

/// Tokens verified recently, so a client's next request with the same token is not decoded and
/// its signature checked again (an Ed25519 or RSA check costs more than the rest of a small
/// request). What a token grants depends only on its text and the keys, which a process keeps
/// for its life; its expiry is checked on each use, as verifying checks it, and everything after
/// verifying — the policy, revocation, the volunteer's standing — still runs on every request.
/// Bounded ([`VERIFIED_TOKENS`]), the least recently used go first; only tokens that verified are
/// kept, under a hash of their text, and a hit is compared in full.
struct Verified {
    hasher: std::hash::RandomState,
    tokens: std::sync::Mutex<lru::LruCache<u64, std::sync::Arc<VerifiedToken>>>,
}

/// A token as sent, and the caller it verified as.
struct VerifiedToken {
    text: Box<str>,
    actor: Actor,
}

/// Tokens one process keeps verified at most.
pub const VERIFIED_TOKENS: usize = 4_096;

/// Seconds of clock difference allowed when a token's `exp` and `nbf` are checked.
const LEEWAY: u64 = 30;

impl Default for Verified {
    fn default() -> Self {
        let capacity = std::num::NonZeroUsize::new(VERIFIED_TOKENS).unwrap_or(std::num::NonZeroUsize::MIN);
        Self { hasher: Default::default(), tokens: std::sync::Mutex::new(lru::LruCache::new(capacity)) }
    }
}

impl Verified {
    /// The caller `token` verified as, if it was verified here and has not expired since (as
    /// verifying judges expiry: `exp` more than [`LEEWAY`] seconds ago).
    fn get(&self, token: &str) -> Option<Actor> {
        use std::hash::BuildHasher;
        let key = self.hasher.hash_one(token);
        let mut tokens = self.tokens.lock().ok()?;
        let entry = tokens.get(&key)?.clone();
        drop(tokens);
        let now = jsonwebtoken::get_current_timestamp();
        let live = u64::try_from(entry.actor.expires_at).is_ok_and(|exp| exp >= now.saturating_sub(LEEWAY));
        (*entry.text == *token && live).then(|| entry.actor.clone())
    }

    fn keep(&self, token: &str, actor: &Actor) {
        use std::hash::BuildHasher;
        let key = self.hasher.hash_one(token);
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.put(key, std::sync::Arc::new(VerifiedToken { text: token.into(), actor: actor.clone() }));
        }
    }

    fn len(&self) -> usize {
        self.tokens.lock().map(|tokens| tokens.len()).unwrap_or_default()
    }
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("signing_kid", &self.signing_kid)
            .field("kids", &self.verifying.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What a new token grants.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub agency: String,
    pub client: String,
    pub scopes: BTreeSet<Scope>,
    pub regions: Vec<String>,
    pub ttl: chrono::Duration,
    /// The volunteer the token belongs to (agencies whose policy says `per_volunteer`).
    pub volunteer: Option<uuid::Uuid>,
}

impl TokenRequest {
    /// A request from the `token issue` command line: refuses an unknown agency or scope, a scope
    /// beyond the agency's grant, a region that is not a Kaltim regency/city code (or `64`), and
    /// a TTL that is malformed or beyond the policy's maximum.
    /// `all` as the scope grants every scope the agency's policy entry allows.
    pub fn from_cli(
        policy: &crate::policy::Policy,
        agency: String,
        scope: &str,
        regions: Vec<String>,
        ttl: &str,
        client: String,
        volunteer: Option<uuid::Uuid>,
    ) -> Result<Self, String> {
        let Some(entry) = policy.agency(&agency) else {
            let known: Vec<&str> = policy.agencies().map(|a| a.code.as_str()).collect();
            return Err(format!("unknown agency `{agency}` (known: {})", known.join(", ")));
        };
        let granted = entry.scopes.clone();
        let scopes = if scope.trim() == "all" { granted } else { parse_scopes(scope)? };
        if scopes.is_empty() {
            return Err("at least one scope is required".into());
        }
        if regions.is_empty() {
            return Err("at least one region is required".into());
        }
        let reference = crate::regions::Regions::load();
        for region in &regions {
            let regency = reference.get(region).is_some_and(|r| r.is_regency());
            if region != crate::regions::KALTIM && !regency {
                return Err(format!("`{region}` is not a Kaltim regency/city Kemendagri code or 64"));
            }
        }
        if client.trim().is_empty() {
            return Err("the client name must not be empty".into());
        }
        let request = Self { agency, client, scopes, regions, ttl: parse_ttl(ttl)?, volunteer };
        policy.check(&request)?;
        Ok(request)
    }
}

impl TokenKeys {
    /// Development keys: one HS256 shared secret. Production refuses to start with these.
    pub fn hs256(secret: &Secret, kid: &str, issuer: &str, audience: &str) -> Result<Self, TokenError> {
        let verifying = VerifyingKey {
            algorithm: Algorithm::HS256,
            key: DecodingKey::from_secret(secret.expose())?,
            jwk: None,
        };
        Ok(Self {
            external: None,
            signing_kid: kid.to_owned(),
            signing_algorithm: Algorithm::HS256,
            signing: EncodingKey::from_secret(secret.expose())?,
            verifying: [(kid.to_owned(), verifying)].into_iter().collect(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            verified: Default::default(),
        })
    }

    /// Ed25519 keys from a key set: sign with `signing_kid`, verify with every key in it.
    pub fn ed25519(
        keyset: &crate::keys::KeySet,
        signing_kid: &str,
        issuer: &str,
        audience: &str,
    ) -> Result<Self, String> {
        let signing = keyset
            .private(signing_kid)
            .ok_or_else(|| format!("no private key with kid `{signing_kid}` in the key directory"))?;
        let mut verifying = std::collections::BTreeMap::new();
        for key in keyset.public_keys() {
            let x = key.x();
            let decoding =
                DecodingKey::from_ed_components(&x).map_err(|e| format!("key {}: {e}", key.kid))?;
            let jwk = serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": key.kid, "alg": "EdDSA", "use": "sig" });
            verifying.insert(
                key.kid.clone(),
                VerifyingKey { algorithm: Algorithm::EdDSA, key: decoding, jwk: Some(jwk) },
            );
        }
        Ok(Self {
            external: None,
            signing_kid: signing_kid.to_owned(),
            signing_algorithm: Algorithm::EdDSA,
            signing: EncodingKey::from_ed_der(&signing.pkcs8_der()),
            verifying,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            verified: Default::default(),
        })
    }

    /// Also accepts tokens of an external identity provider, mapped through `idp`.
    pub fn with_external(mut self, idp: ExternalIdp) -> Self {
        self.external = Some(std::sync::Arc::new(idp));
        // What was verified without the provider is kept apart from what is verified with it.
        self.verified = Default::default();
        self
    }

    /// How many verified tokens these keys keep.
    pub fn verified_tokens(&self) -> usize {
        self.verified.len()
    }

    /// The `kid` and algorithm new tokens are signed with, e.g. `("k2026", "EdDSA")`.
    pub fn signing_key(&self) -> (&str, String) {
        (&self.signing_kid, format!("{:?}", self.signing_algorithm))
    }

    /// Whether tokens are signed with a shared (development) secret.
    pub fn is_development(&self) -> bool {
        self.signing_algorithm == Algorithm::HS256
    }

    /// The public keys as a JSON Web Key Set (`/.well-known/jwks.json`); empty for HS256.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<&serde_json::Value> = self.verifying.values().filter_map(|k| k.jwk.as_ref()).collect();
        serde_json::json!({ "keys": keys })
    }

    /// Signs a token for `request`, returning it and its claims.
    pub fn issue(&self, request: &TokenRequest) -> Result<(String, Claims), TokenError> {
        let now = chrono::Utc::now().timestamp();
        let scope: Vec<&str> = request.scopes.iter().map(|s| s.as_str()).collect();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: request.client.clone(),
            agency: request.agency.clone(),
            scope: scope.join(" "),
            regions: request.regions.clone(),
            exp: now + request.ttl.num_seconds(),
            iat: now,
            nbf: now,
            jti: uuid::Uuid::now_v7().to_string(),
            volunteer: request.volunteer.map(|v| v.to_string()),
        };
        let mut header = Header::new(self.signing_algorithm);
        header.kid = Some(self.signing_kid.clone());
        Ok((encode(&header, &claims, &self.signing)?, claims))
    }

    /// Verifies signature, algorithm, `kid`, `exp`, `nbf`, `iss` and `aud`, then builds the caller
    /// (once per token: a token verified before is checked only for expiry, see [`Verified`]).
    pub fn verify(&self, token: &str) -> Result<Actor, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        if let Some(actor) = self.verified.get(token) {
            return Ok(actor);
        }
        let actor = self.verify_anew(token)?;
        self.verified.keep(token, &actor);
        Ok(actor)
    }

    fn verify_anew(&self, token: &str) -> Result<Actor, TokenError> {
        let header = decode_header(token)?;
        let kid = header.kid.as_deref().ok_or_else(|| TokenError::UnknownKey("(none)".into()))?;
        if !self.verifying.contains_key(kid)
            && let Some(idp) = &self.external
        {
            return idp.verify(token, &header);
        }
        let key =
            self.verifying.get(kid).ok_or_else(|| TokenError::UnknownKey(kid.chars().take(64).collect()))?;
        // The key decides the algorithm: a token claiming another (`none`, or HS256 "signed"
        // with a public key) is refused before its signature is looked at.
        if header.alg != key.algorithm {
            return Err(TokenError::WrongAlgorithm);
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = LEEWAY;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let claims = decode::<Claims>(token, &key.key, &validation)?.claims;
        let scopes = parse_scopes(&claims.scope).map_err(TokenError::MalformedClaim)?;
        let volunteer = match claims.volunteer.as_deref() {
            Some(v) => Some(
                v.parse::<uuid::Uuid>()
                    .map_err(|_| TokenError::MalformedClaim("`volunteer` is not a UUID".into()))?,
            ),
            None => None,
        };
        Ok(Actor {
            agency: claims.agency,
            client: claims.sub,
            scopes,
            regions: claims.regions,
            token_id: claims.jti,
            expires_at: claims.exp,
            issued_at: claims.iat,
            volunteer,
        })
    }
}

/// An external identity provider (an agency's SSO) whose tokens Sinergi also accepts: its public
/// keys (a JWKS file), its issuer and audience, and which of its claims carry the agency, the
/// scopes and the regions. Its scopes are cut down to what the policy grants the agency.
pub struct ExternalIdp {
    keys: std::collections::BTreeMap<String, VerifyingKey>,
    issuer: String,
    audience: String,
    mapping: ClaimMapping,
    policy: std::sync::Arc<crate::policy::Policy>,
    regions: crate::regions::Regions,
}

/// Which claims of an external identity provider carry the agency, the scopes and the regions.
#[derive(Debug, Clone)]
pub struct ClaimMapping {
    pub agency: String,
    pub scope: String,
    pub regions: String,
}

impl ExternalIdp {
    /// Reads the provider's JWKS (JSON text); keys without a `kid` are skipped.
    pub fn from_jwks(
        jwks: &str,
        issuer: &str,
        audience: &str,
        mapping: ClaimMapping,
        policy: std::sync::Arc<crate::policy::Policy>,
    ) -> Result<Self, String> {
        use jsonwebtoken::jwk::{AlgorithmParameters as Params, JwkSet, KeyAlgorithm};
        let set: JwkSet = serde_json::from_str(jwks).map_err(|e| format!("invalid JWKS: {e}"))?;
        let mut keys = std::collections::BTreeMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else { continue };
            let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
                (Params::OctetKeyPair(_), _) => Algorithm::EdDSA,
                (Params::RSA(_), Some(KeyAlgorithm::RS384)) => Algorithm::RS384,
                (Params::RSA(_), Some(KeyAlgorithm::RS512)) => Algorithm::RS512,
                (Params::RSA(_), _) => Algorithm::RS256,
                (Params::EllipticCurve(_), Some(KeyAlgorithm::ES384)) => Algorithm::ES384,
                (Params::EllipticCurve(_), _) => Algorithm::ES256,
                _ => continue,
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("JWKS key {kid}: {e}"))?;
            keys.insert(kid, VerifyingKey { algorithm, key, jwk: None });
        }
        if keys.is_empty() {
            return Err("the JWKS holds no usable signing key".into());
        }
        Ok(Self {
            keys,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            mapping,
            policy,
            regions: crate::regions::Regions::load(),
        })
    }

    fn verify(&self, token: &str, header: &Header) -> Result<Actor, TokenError> {
        let kid = header.kid.as_deref().unwrap_or("(none)");
        let key = self.keys.get(kid).ok_or_else(|| TokenError::UnknownKey(kid.chars().take(64).collect()))?;
        if header.alg != key.algorithm {
            return Err(TokenError::WrongAlgorithm);
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = LEEWAY;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = decode::<serde_json::Value>(token, &key.key, &validation)?.claims;
        let text = |name: &str| claims.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let list = |name: &str| -> Vec<String> {
            match claims.get(name) {
                Some(serde_json::Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
                Some(serde_json::Value::Array(items)) => {
                    items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
                }
                _ => Vec::new(),
            }
        };
        let malformed = |what: &str| TokenError::MalformedClaim(what.to_owned());
        let agency = text(&self.mapping.agency).ok_or_else(|| malformed(&self.mapping.agency))?;
        let grant = self.policy.agency(&agency).ok_or_else(|| malformed("unknown agency"))?;
        // The provider may carry roles of other applications; keep Sinergi's, within the grant.
        let scopes: BTreeSet<Scope> = list(&self.mapping.scope)
            .iter()
            .filter_map(|s| s.parse().ok())
            .filter(|s| grant.scopes.contains(s))
            .collect();
        let regions = list(&self.mapping.regions);
        let reference = &self.regions;
        let valid_region =
            |r: &String| r == crate::regions::KALTIM || reference.get(r).is_some_and(|x| x.is_regency());
        if regions.is_empty() || !regions.iter().all(valid_region) {
            return Err(malformed(&self.mapping.regions));
        }
        let client = text("sub").unwrap_or_default();
        let token_id = text("jti").unwrap_or_else(|| format!("{}#{client}", self.issuer));
        let expires_at = claims.get("exp").and_then(|v| v.as_i64()).unwrap_or_default();
        let issued_at = claims.get("iat").and_then(|v| v.as_i64()).unwrap_or(expires_at);
        Ok(Actor { agency, client, scopes, regions, token_id, expires_at, issued_at, volunteer: None })
    }
}

/// Parses a TTL such as `8h`, `30m`, `7d` or `3600s`.
pub fn parse_ttl(text: &str) -> Result<chrono::Duration, String> {
    let text = text.trim();
    let invalid =
        || format!("invalid TTL `{text}`: write a number with its unit — 30m, 8h, 7d, 1h30m (d, h, m, s)");
    let mut rest = text;
    let mut total = chrono::Duration::zero();
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| {
            format!("invalid TTL `{text}`: `{rest}` has no unit (a bare number is ambiguous; write {rest}h, {rest}m or {rest}s)")
        })?;
        let n: i64 = rest[..digits].parse().map_err(|_| invalid())?;
        let unit = rest[digits..].chars().next().ok_or_else(invalid)?;
        let part = match unit {
            's' => chrono::Duration::try_seconds(n),
            'm' => chrono::Duration::try_minutes(n),
            'h' => chrono::Duration::try_hours(n),
            'd' => chrono::Duration::try_days(n),
            _ => None,
        }
        .ok_or_else(invalid)?;
        total = total.checked_add(&part).ok_or_else(invalid)?;
        rest = &rest[digits + unit.len_utf8()..];
    }
    if total <= chrono::Duration::zero() {
        return Err(invalid());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(agency: &str, scope: &str, region: &str, ttl: &str) -> Result<TokenRequest, String> {
        TokenRequest::from_cli(
            &crate::policy::Policy::default_policy(),
            agency.into(),
            scope,
            vec![region.into()],
            ttl,
            "cli".into(),
            None,
        )
    }

    #[test]
    fn token_issue_refuses_unknown_agencies_scopes_regions_and_ttls() {
        assert!(request("DINSOS", "beneficiary:read", "6472", "8h").is_ok());
        assert!(request("DINKES", "beneficiary:read", "6472", "8h").is_err());
        assert!(request("DINSOS", "beneficiary:delete", "6472", "8h").is_err());
        assert!(
            request("DINSOS", "beneficiary:read", "647201", "8h").is_err(),
            "a district is not a token region"
        );
        assert!(request("DINSOS", "beneficiary:read", "3171", "8h").is_err());
        assert!(request("DINSOS", "beneficiary:read", "64", "8 hours").is_err());
        assert!(request("BAPPEDA", "pii:read", "64", "8h").is_err(), "beyond BAPPEDA's grant");
        assert!(request("DINSOS", "beneficiary:read", "64", "90d").is_err(), "beyond the maximum TTL");
    }

    #[test]
    fn a_ttl_needs_its_unit_and_may_combine_units() {
        assert_eq!(parse_ttl("1h30m"), Ok(chrono::Duration::minutes(90)));
        assert_eq!(parse_ttl("8h"), Ok(chrono::Duration::hours(8)));
        assert_eq!(parse_ttl("1d12h"), Ok(chrono::Duration::hours(36)));
        assert_eq!(parse_ttl("45s"), Ok(chrono::Duration::seconds(45)));
        assert!(parse_ttl("8").is_err_and(|e| e.contains("no unit")), "8 is not 8 seconds");
        assert!(parse_ttl("1h30").is_err_and(|e| e.contains("no unit")));
        for bad in ["", "h", "0m", "8x", "1h-1m", "99999999999999999999d", "1.5h"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
        let all = request("BAPPEDA", "all", "64", "30m").map(|r| r.scopes);
        assert!(all.is_ok_and(|s| !s.contains(&Scope::PiiRead) && s.contains(&Scope::StatsRead)));
    }

    #[test]
    fn an_issued_token_verifies_and_carries_its_claims() {
        let keys =
            TokenKeys::hs256(&Secret::new("k".repeat(40)), "k1", "sinergi", "sinergi-api").expect("keys");
        let req = request("PUPR", "infrastructure:read", "6401", "1h").expect("request");
        let (token, claims) = keys.issue(&req).expect("issue");
        let actor = keys.verify(&token).expect("verify");
        assert_eq!((actor.agency.as_str(), actor.regions.clone()), ("PUPR", vec!["6401".to_owned()]));
        assert_eq!(claims.exp - claims.iat, 3600);
        assert_eq!(decode_header(&token).ok().and_then(|h| h.kid).as_deref(), Some("k1"));
    }

    #[test]
    fn a_token_is_verified_once_and_checked_for_expiry_on_each_use() {
        let keys =
            TokenKeys::hs256(&Secret::new("k".repeat(40)), "k1", "sinergi", "sinergi-api").expect("keys");
        let other =
            TokenKeys::hs256(&Secret::new("o".repeat(40)), "k1", "sinergi", "sinergi-api").expect("keys");
        let (token, _) = keys
            .issue(&request("PUPR", "infrastructure:read", "6401", "1h").expect("request"))
            .expect("issue");
        assert_eq!(keys.verified_tokens(), 0);
        let first = keys.verify(&token).expect("verify");
        assert_eq!(keys.verified_tokens(), 1);
        let again = keys.clone().verify(&token).expect("verify again");
        assert_eq!((again.token_id, keys.verified_tokens()), (first.token_id.clone(), 1), "the clone shares");
        // Other keys verify for themselves; a token that does not verify is not kept.
        assert!(other.verify(&token).is_err());
        assert_eq!(other.verified_tokens(), 0);
        let mut forged = token.clone();
        forged.pop();
        assert!(keys.verify(&forged).is_err());
        assert_eq!(keys.verified_tokens(), 1);

        // A kept token is refused once it is past its expiry and the leeway, as verifying does.
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let verified = Verified::default();
        let mut actor = first;
        actor.expires_at = now - LEEWAY as i64 + 5;
        verified.keep("a", &actor);
        assert!(verified.get("a").is_some(), "within the leeway");
        assert!(verified.get("b").is_none());
        actor.expires_at = now - LEEWAY as i64 - 1;
        verified.keep("a", &actor);
        assert!(verified.get("a").is_none(), "expired");
    }
}
