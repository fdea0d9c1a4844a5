//! The access policy: agencies, the scopes each may be granted, the record types each owns.
//!
//! A default ships inside the binary (`api/policy/default.toml`); `SINERGI_POLICY` points to
//! another file. Adding an OPD is an entry in that file, not code.

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::{Context, Guard};
use serde::Deserialize;

use crate::{
    auth::{Scope, TokenRequest, parse_scopes, parse_ttl},
    context::ContextExt,
    error::coded,
    records::EntityType,
};

/// The policy built into the binary.
pub const DEFAULT_POLICY: &str = include_str!("../policy/default.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    max_ttl: String,
    /// Every API client's rate unless its agency or itself sets another; none: unlimited.
    rate_limit: Option<RateLimit>,
    /// Whether every API client runs only registered documents unless its agency or itself
    /// says otherwise (default: no).
    trusted_documents: Option<bool>,
    agencies: BTreeMap<String, AgencyFile>,
}

/// How many requests (HTTP requests and WebSocket operations) an API client may make: a
/// sustained rate per minute and a burst it may spend at once (a token bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

/// One API client's own settings in the policy.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFile {
    rate_limit: Option<RateLimit>,
    trusted_documents: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgencyFile {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    owns: Vec<String>,
    max_ttl: Option<String>,
    /// Its tokens each belong to one volunteer (`--volunteer`) and see personal data only of the
    /// beneficiaries assigned to that volunteer.
    #[serde(default)]
    per_volunteer: bool,
    /// Its API clients' rate, unless a client sets its own.
    rate_limit: Option<RateLimit>,
    /// Whether its API clients run only registered documents, unless a client says otherwise.
    trusted_documents: Option<bool>,
    /// Settings of its API clients by name (the token's `sub`).
    #[serde(default)]
    clients: BTreeMap<String, ClientFile>,
}

/// What one agency may do.
#[derive(Debug, Clone)]
pub struct AgencyPolicy {
    pub code: String,
    pub name: String,
    pub scopes: BTreeSet<Scope>,
    pub owns: BTreeSet<EntityType>,
    pub max_ttl: chrono::Duration,
    /// Its tokens each name a volunteer and see only that volunteer's cases' personal data.
    pub per_volunteer: bool,
    /// Its API clients' rate (the policy's when it sets none); `None`: unlimited.
    pub rate_limit: Option<RateLimit>,
    /// Rates of named API clients, overriding the agency's.
    pub client_rate_limits: BTreeMap<String, RateLimit>,
    /// Whether its API clients run only registered documents (the policy's when it says nothing).
    pub trusted_documents: bool,
    /// Named API clients' own trusted-documents setting, overriding the agency's.
    pub client_trusted_documents: BTreeMap<String, bool>,
}

/// The parsed policy.
#[derive(Debug, Clone)]
pub struct Policy {
    agencies: BTreeMap<String, AgencyPolicy>,
}

impl Policy {
    /// Parses a policy file, naming the first thing wrong with it.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let default_ttl = parse_ttl(&file.max_ttl).map_err(|e| format!("max_ttl: {e}"))?;
        let mut agencies = BTreeMap::new();
        for (code, agency) in file.agencies {
            if code.is_empty()
                || !code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(format!("agency code `{code}` must be upper-case letters, digits or _"));
            }
            let scopes = parse_scopes(&agency.scopes.join(" ")).map_err(|e| format!("agency {code}: {e}"))?;
            let owns = agency
                .owns
                .iter()
                .map(|t| {
                    t.parse::<EntityType>().map_err(|_| format!("agency {code}: unknown record type `{t}`"))
                })
                .collect::<Result<_, _>>()?;
            let max_ttl = match agency.max_ttl {
                Some(ttl) => parse_ttl(&ttl).map_err(|e| format!("agency {code}: {e}"))?.min(default_ttl),
                None => default_ttl,
            };
            let per_volunteer = agency.per_volunteer;
            let rate_limit = agency.rate_limit.or(file.rate_limit);
            let client_rate_limits: BTreeMap<String, RateLimit> = agency
                .clients
                .iter()
                .filter_map(|(name, client)| client.rate_limit.map(|limit| (name.clone(), limit)))
                .collect();
            let trusted_documents = agency.trusted_documents.or(file.trusted_documents).unwrap_or(false);
            let client_trusted_documents: BTreeMap<String, bool> = agency
                .clients
                .iter()
                .filter_map(|(name, client)| client.trusted_documents.map(|on| (name.clone(), on)))
                .collect();
            for (what, limit) in rate_limit
                .iter()
                .map(|l| (String::new(), l))
                .chain(client_rate_limits.iter().map(|(name, l)| (format!(" client {name}"), l)))
            {
                if limit.per_minute == 0 || limit.burst == 0 {
                    return Err(format!(
                        "agency {code}{what}: rate_limit needs per_minute and burst of at least 1"
                    ));
                }
            }
            agencies.insert(
                code.clone(),
                AgencyPolicy {
                    code,
                    name: agency.name,
                    scopes,
                    owns,
                    max_ttl,
                    per_volunteer,
                    rate_limit,
                    client_rate_limits,
                    trusted_documents,
                    client_trusted_documents,
                },
            );
        }
        if agencies.is_empty() {
            return Err("the policy names no agency".into());
        }
        Ok(Self { agencies })
    }

    /// The built-in policy.
    pub fn default_policy() -> Self {
        Self::from_toml(DEFAULT_POLICY).unwrap_or_else(|_| Self { agencies: BTreeMap::new() })
    }

    /// One agency's entry.
    pub fn agency(&self, code: &str) -> Option<&AgencyPolicy> {
        self.agencies.get(code)
    }

    /// The rate an API client of `agency` named `client` may call at; `None`: unlimited.
    pub fn rate_limit(&self, agency: &str, client: &str) -> Option<RateLimit> {
        let agency = self.agency(agency)?;
        agency.client_rate_limits.get(client).copied().or(agency.rate_limit)
    }

    /// Whether an API client of `agency` named `client` runs only registered documents.
    pub fn trusted_documents(&self, agency: &str, client: &str) -> bool {
        self.agency(agency).is_some_and(|agency| {
            agency.client_trusted_documents.get(client).copied().unwrap_or(agency.trusted_documents)
        })
    }

    /// Every agency, by code.
    pub fn agencies(&self) -> impl Iterator<Item = &AgencyPolicy> {
        self.agencies.values()
    }

    /// Whether `agency` owns (creates, updates, moves) records of `kind`.
    pub fn owns(&self, agency: &str, kind: EntityType) -> bool {
        self.agency(agency).is_some_and(|a| a.owns.contains(&kind))
    }

    /// Refuses a token request beyond the agency's grant: an unknown agency, a scope it may not
    /// hold, or a lifetime beyond its maximum.
    pub fn check(&self, request: &TokenRequest) -> Result<(), String> {
        let Some(agency) = self.agency(&request.agency) else {
            let known: Vec<&str> = self.agencies.keys().map(String::as_str).collect();
            return Err(format!("unknown agency `{}` (known: {})", request.agency, known.join(", ")));
        };
        let beyond: Vec<&str> = request.scopes.difference(&agency.scopes).map(|s| s.as_str()).collect();
        if !beyond.is_empty() {
            return Err(format!("{} may not be granted: {}", agency.code, beyond.join(" ")));
        }
        if request.ttl > agency.max_ttl {
            return Err(format!(
                "the TTL is beyond {}'s maximum of {} hours",
                agency.code,
                agency.max_ttl.num_hours()
            ));
        }
        match (agency.per_volunteer, request.volunteer) {
            (true, None) => {
                Err(format!("{}'s tokens each belong to a volunteer: give --volunteer", agency.code))
            }
            (false, Some(_)) => Err(format!("{}'s tokens do not belong to a volunteer", agency.code)),
            _ => Ok(()),
        }
    }
}

impl Policy {
    /// Re-checks a verified token against the policy in force now: a correctly signed token
    /// still needs a known agency, a lifetime within the agency's maximum and Kaltim regions.
    /// Scopes beyond the agency's grant are dropped, so narrowing a grant takes effect on
    /// tokens already issued.
    pub fn vet(
        &self,
        actor: &mut crate::auth::Actor,
        regions: &crate::regions::Regions,
    ) -> Result<(), String> {
        let Some(agency) = self.agency(&actor.agency) else {
            return Err(format!("unknown agency `{}`", actor.agency));
        };
        // The same 30 s leeway verification allows on `exp` and `nbf`.
        let lifetime = actor.expires_at.saturating_sub(actor.issued_at);
        if lifetime > agency.max_ttl.num_seconds().saturating_add(30) {
            return Err(format!("lifetime beyond {}'s maximum", agency.code));
        }
        let valid =
            |r: &String| r == crate::regions::KALTIM || regions.get(r).is_some_and(|x| x.is_regency());
        if actor.regions.is_empty() || !actor.regions.iter().all(valid) {
            return Err("regions outside Kaltim".into());
        }
        actor.scopes.retain(|s| agency.scopes.contains(s));
        // A token of an agency whose tokens belong to volunteers, without one (an SSO's, say),
        // sees no beneficiary at all: neither their personal data nor their names.
        if agency.per_volunteer && actor.volunteer.is_none() {
            actor.scopes.remove(&crate::auth::Scope::PiiRead);
            actor.scopes.remove(&crate::auth::Scope::BeneficiaryRead);
        }
        Ok(())
    }
}

/// The guard of a mutation that writes records of one type: the token holds the type's write
/// scope (`loan:write` for loan applications, …) and its agency owns the record type.
pub struct RequireWrite(pub EntityType);

impl Guard for RequireWrite {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        ctx.actor()?.require(crate::auth::write_scope(self.0))?;
        RequireOwner(self.0).check(ctx).await
    }
}

/// A guard that lets a mutation run only for an agency that owns the record type.
pub struct RequireOwner(pub EntityType);

impl Guard for RequireOwner {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let actor = ctx.actor()?;
        if ctx.state()?.policy.owns(&actor.agency, self.0) {
            Ok(())
        } else {
            let kind: &'static str = self.0.into();
            Err(coded(
                crate::error::ErrorCode::Forbidden,
                format!("{} does not own {kind} records", actor.agency),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(agency: &str, scopes: &str, ttl_hours: i64) -> TokenRequest {
        TokenRequest {
            agency: agency.into(),
            client: "c".into(),
            scopes: parse_scopes(scopes).unwrap_or_default(),
            regions: vec!["64".into()],
            ttl: chrono::Duration::hours(ttl_hours),
            volunteer: None,
        }
    }

    #[test]
    fn the_default_policy_parses_and_grants_by_agency() {
        let policy = Policy::from_toml(DEFAULT_POLICY).expect("default policy parses");
        assert!(policy.check(&request("DINSOS", "beneficiary:write pii:read", 8)).is_ok());
        assert!(
            policy.check(&request("BAPPEDA", "pii:read", 8)).is_err(),
            "BAPPEDA never sees personal data"
        );
        assert!(policy.check(&request("RELAWAN", "monitoring:write", 24 * 8)).is_err(), "beyond 7 days");
        assert!(policy.check(&request("DINKES", "beneficiary:read", 8)).is_err());
        assert!(policy.owns("DISPERINDAGKOP", EntityType::LoanApplication));
        assert!(!policy.owns("DINSOS", EntityType::LoanApplication));
    }

    #[test]
    fn a_policy_with_a_typo_is_refused() {
        assert!(
            Policy::from_toml("max_ttl = \"1d\"\n[agencies.X]\nname = \"x\"\nscopes = [\"loan:reed\"]")
                .is_err()
        );
        assert!(
            Policy::from_toml("max_ttl = \"1d\"\n[agencies.X]\nname = \"x\"\nscopes = []\nowns = [\"LOAN\"]")
                .is_err()
        );
        assert!(
            Policy::from_toml("max_ttl = \"1d\"\n[agencies.X]\nname = \"x\"\nscopes = []\nown = []").is_err()
        );
    }
}
