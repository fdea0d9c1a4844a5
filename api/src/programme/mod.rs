//! The programme's own logic over the records: who may receive a business starter package and
//! how much of each regency's allocation a programme year has used.

pub mod graduation;
pub mod handover;
pub mod service;
pub mod statistics;
pub mod worklists;

/// A statement of hand-written SQL whose parameters are numbered `$1`, `$2` … as PostgreSQL
/// numbers them; on SQLite they become `?1`, `?2` … (the SQL must hold no other `$`).
pub(crate) fn numbered(
    backend: sea_orm::DbBackend,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> sea_orm::Statement {
    let sql = if backend == sea_orm::DbBackend::Sqlite { sql.replace('$', "?") } else { sql.to_owned() };
    sea_orm::Statement::from_sql_and_values(backend, sql, values)
}

use async_graphql::{
    Context, Object, SimpleObject,
    connection::{Connection, Edge},
};

use crate::{
    auth::{RequireScope, Scope},
    beneficiary::Beneficiary,
    context::ContextExt,
    error::{ServiceError, gql},
    page::{DEFAULT_PAGE, MAX_PAGE},
    records::{EntityType, in_regions},
    scalars::Rupiah,
};

/// Why a person may not receive a starter package today, whatever the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum Ineligibility {
    /// The decile is above the programme's limit (1–5 by default).
    DecileAboveLimit,
    /// The decile assessment is older than the programme accepts (24 months by default).
    AssessmentOutOfDate,
    /// The beneficiary is not ACTIVE (graduated or inactive).
    NotActive,
    /// The beneficiary already has a starter package in the year asked about.
    PackageThisYear,
}

/// Where a business stands on the graduation ladder (kesiapan naik kelas): every level's
/// criteria, met or not, with the record that shows each.
#[derive(SimpleObject)]
pub struct GraduationReadiness {
    /// The level it reaches now: the highest whose criteria, and every lower level's, are all
    /// met; 0 before the first. (`Business.level` is the level kept with the record, brought up
    /// to date by every write that touches its evidence.)
    level: i32,
    /// Every criterion of the ladder is met: `graduateBusiness` may graduate it.
    ready: bool,
    /// The ladder, level 1 first.
    levels: Vec<GraduationLevel>,
}

/// One level of the ladder for one business.
#[derive(SimpleObject)]
pub struct GraduationLevel {
    /// Its number, from 1.
    level: i32,
    /// Its name (e.g. "Bertahan").
    name: String,
    /// All its criteria are met.
    met: bool,
    /// Its criteria.
    criteria: Vec<GraduationCriterion>,
}

/// One criterion of a level, met or not.
#[derive(SimpleObject)]
pub struct GraduationCriterion {
    /// What it asks, in words.
    description: String,
    /// It is met.
    met: bool,
    /// The kind of record that shows it met; null when unmet or when the token may not read
    /// that kind of record.
    evidence_type: Option<EntityType>,
    /// That record's id; null likewise.
    evidence_id: Option<async_graphql::ID>,
}

/// The graduation readiness of `business` as `actor` may see it.
pub async fn readiness(
    ctx: &Context<'_>,
    business: &entity::business::Model,
) -> async_graphql::Result<GraduationReadiness> {
    let (state, actor) = (ctx.state()?, ctx.actor()?);
    let today = chrono::Utc::now().date_naive();
    let standing = graduation::standing(ctx.db()?, &state.rules, business, today).await.map_err(gql)?;
    let ready = standing.complete();
    let levels = standing
        .levels
        .into_iter()
        .enumerate()
        .map(|(n, (level, checks))| GraduationLevel {
            level: n as i32 + 1,
            name: level.name,
            met: checks.iter().all(graduation::Check::met),
            criteria: checks
                .into_iter()
                .map(|check| {
                    let visible = check.evidence.filter(|(kind, _)| actor.reads(*kind));
                    GraduationCriterion {
                        description: check.criterion.describe(),
                        met: check.evidence.is_some(),
                        evidence_type: visible.map(|(kind, _)| kind),
                        evidence_id: visible.map(|(_, id)| async_graphql::ID(id.to_string())),
                    }
                })
                .collect(),
        })
        .collect();
    Ok(GraduationReadiness { level: standing.level, ready, levels })
}

/// Why a business is on the coordinator's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum Attention {
    /// Not visited within the days asked (or never).
    NotVisited,
    /// It is STALLED (macet).
    Stalled,
    /// Its last visit asked for a follow-up.
    FollowUpOpen,
}

/// A referral waiting for the caller's agency (rujukan masuk), with how long it has waited.
pub struct ReferralToAnswer {
    referral: entity::referral::Model,
    today: chrono::NaiveDate,
}

/// A referral waiting for the caller's agency (rujukan masuk): OPEN (to accept or decline) or
/// ACCEPTED (to complete).
#[Object]
impl ReferralToAnswer {
    /// The referral.
    async fn referral(&self) -> crate::referral::Referral {
        crate::referral::Referral::from(self.referral.clone())
    }
    /// Days since it was made.
    async fn age_days(&self) -> i64 {
        (self.today - self.referral.created_at.date_naive()).num_days().max(0)
    }
    /// Its due date is past.
    async fn overdue(&self) -> bool {
        self.referral.due_by.is_some_and(|due| due < self.today)
    }
    /// Days past its due date; 0 when not overdue or without one.
    async fn days_overdue(&self) -> i64 {
        self.referral.due_by.map_or(0, |due| (self.today - due).num_days().max(0))
    }
}

/// A business the regency's coordinator should look at (perlu perhatian), with why.
pub struct BusinessNeedingAttention(worklists::Flagged);

/// A business the regency's coordinator should look at (perlu perhatian), with why.
#[Object]
impl BusinessNeedingAttention {
    /// The business.
    async fn business(&self) -> crate::business::Business {
        crate::business::Business::from(self.0.business.clone())
    }
    /// Its last monitoring visit's day; null when never visited.
    async fn last_visited_on(&self) -> Option<crate::scalars::Date> {
        self.0.last_visited_on.map(crate::scalars::Date)
    }
    /// Why it is listed.
    async fn reasons(&self) -> &[Attention] {
        &self.0.reasons
    }
}

/// Reads `first`/`after` of an offset-paged list: the window to read (one more than asked, to
/// know whether more follow) and the number of rows asked.
fn window(first: Option<i32>, after: Option<&str>) -> async_graphql::Result<(worklists::Window, usize)> {
    let limit = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&limit) {
        return Err(gql(ServiceError::BadRequest(format!("`first` must be between 0 and {MAX_PAGE}"))));
    }
    let offset = match after {
        // A cursor is a place in the ranking; no list here holds a billion rows.
        Some(cursor) => cursor
            .parse::<u64>()
            .ok()
            .filter(|n| *n < 1_000_000_000)
            .map(|n| n + 1)
            .ok_or_else(|| gql(ServiceError::BadRequest("`after` is not a cursor of this list".into())))?,
        None => 0,
    };
    Ok((worklists::Window { offset, limit: limit as u64 + 1 }, limit as usize))
}

/// A page of a ranked list read through [`window`].
fn ranked_page<T: async_graphql::OutputType>(
    mut rows: Vec<T>,
    window: worklists::Window,
    limit: usize,
) -> Connection<String, T> {
    let has_next = rows.len() > limit;
    rows.truncate(limit);
    let mut page = Connection::new(window.offset > 0, has_next);
    page.edges.extend(
        rows.into_iter().enumerate().map(|(i, row)| Edge::new((window.offset + i as u64).to_string(), row)),
    );
    page
}

/// A regency's starter-package allocation (alokasi paket usaha) for a programme year and what
/// its grants have used: every package not cancelled counts, planned or disbursed.
#[derive(SimpleObject, Clone)]
pub struct PackageAllocation {
    /// Programme year (the year a package's period starts).
    pub year: i32,
    /// Regency/city, Kemendagri code.
    pub regency_code: String,
    /// Recipients the regency may have this year (kuota penerima).
    pub recipients: u32,
    /// The regency's budget this year (pagu), whole rupiah.
    pub budget: Rupiah,
    /// Packages granted so far.
    pub granted: u32,
    /// Their value, whole rupiah.
    pub granted_amount: Rupiah,
    /// Packages that may still be granted.
    pub remaining_recipients: u32,
    /// Budget left, whole rupiah.
    pub remaining_budget: Rupiah,
}

impl PackageAllocation {
    fn of(state: &crate::context::AppState, year: i32, regency: String, used: service::Usage) -> Self {
        let allocation = state.rules.allocation(year);
        Self {
            year,
            regency_code: regency,
            recipients: allocation.recipients_per_regency,
            budget: Rupiah(allocation.budget_per_regency),
            granted: used.recipients,
            granted_amount: Rupiah(used.amount),
            remaining_recipients: allocation.recipients_per_regency.saturating_sub(used.recipients),
            remaining_budget: Rupiah((allocation.budget_per_regency - used.amount).max(0)),
        }
    }
}

/// A candidate for a business starter package (calon penerima paket usaha) and where they stand.
pub struct Candidate(service::Candidate);

/// A candidate for a business starter package (calon penerima paket usaha): an active
/// beneficiary in the programme's deciles, with why they may or may not receive one.
#[Object]
impl Candidate {
    /// The person (masked as the token's scopes say).
    async fn beneficiary(&self) -> Beneficiary {
        Beneficiary::from(self.0.person.clone())
    }
    /// Whether a package may be granted to them in the year asked about (regency quota aside:
    /// see the list's `allocation`).
    async fn eligible(&self) -> bool {
        self.0.reasons.is_empty()
    }
    /// Why not, when not; empty when eligible.
    async fn reasons(&self) -> &[Ineligibility] {
        &self.0.reasons
    }
    /// An earlier business of theirs stopped (often in the pandemic): the programme's priority
    /// after the decile. Needs `business:read`.
    #[graphql(guard = "RequireScope(Scope::BusinessRead)")]
    async fn earlier_business_stopped(&self) -> Option<bool> {
        Some(self.0.earlier_business_stopped)
    }
    /// Starter packages granted to them in earlier years (planned or disbursed).
    async fn earlier_packages(&self) -> u32 {
        self.0.earlier_packages
    }
}

/// Fields of the candidate list besides its edges.
#[derive(SimpleObject)]
pub struct CandidateListInfo {
    /// The regency's allocation for the year and what it has used: with nothing remaining, no
    /// candidate can be granted a package this year. Null for a regency outside the token's
    /// regions (or unknown).
    allocation: Option<PackageAllocation>,
}

/// The regencies/cities within `actor`'s regions (and among `wanted` when given), by code.
fn visible_regencies<'a>(
    state: &'a crate::context::AppState,
    actor: &crate::auth::Actor,
    wanted: Option<&[String]>,
) -> Vec<&'a crate::regions::Region> {
    let mut regencies: Vec<_> = state
        .regions
        .regencies()
        .filter(|r| in_regions(actor, &r.code))
        .filter(|r| wanted.is_none_or(|wanted| wanted.contains(&r.code)))
        .collect();
    regencies.sort_by(|a, b| a.code.cmp(&b.code));
    regencies
}

/// `BAD_REQUEST` for a programme year outside 2000–2100 (checked in the resolver, after the
/// scope: a token without the scope learns nothing about the arguments).
fn check_year(year: i32) -> async_graphql::Result<()> {
    if (2000..=2100).contains(&year) {
        Ok(())
    } else {
        Err(gql(ServiceError::BadRequest("`year` must be between 2000 and 2100".into())))
    }
}

/// A household (keluarga): the people registered under one KK number, with the household's
/// assistance, businesses and infrastructure requests together — poverty is left per household.
pub struct Household {
    kk_number: String,
    members: Vec<entity::beneficiary::Model>,
}

/// A household (keluarga): the people registered under one KK number, with the household's
/// assistance, businesses and infrastructure requests together — poverty is left per household.
#[Object]
impl Household {
    /// The KK (family card) number.
    async fn kk_number(&self) -> &str {
        &self.kk_number
    }
    /// Its members within the token's regions, the head of family first, then oldest first.
    async fn members(&self) -> Vec<Beneficiary> {
        self.members.iter().cloned().map(Beneficiary::from).collect()
    }
    /// The members' assistance. Needs `assistance:read`.
    #[graphql(guard = "RequireScope(Scope::AssistanceRead)")]
    async fn assistance(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<crate::assistance::Assistance>>> {
        self.of_members(ctx, |l| l.assistance_by_beneficiary()).await.map(Some)
    }
    /// The members' businesses. Needs `business:read`.
    #[graphql(guard = "RequireScope(Scope::BusinessRead)")]
    async fn businesses(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<crate::business::Business>>> {
        self.of_members(ctx, |l| l.businesses_by_beneficiary()).await.map(Some)
    }
    /// The members' infrastructure requests (housing, sanitation, water…). Needs `infrastructure:read`.
    #[graphql(guard = "RequireScope(Scope::InfrastructureRead)")]
    async fn infrastructure_requests(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<crate::infrastructure::InfrastructureRequest>>> {
        self.of_members(ctx, |l| l.infrastructure_by_beneficiary()).await.map(Some)
    }
}

impl Household {
    /// The children of every member through one loader (one statement for all of them).
    async fn of_members<E, T>(
        &self,
        ctx: &Context<'_>,
        pick: fn(&crate::loaders::Loaders) -> &crate::loaders::Children<E>,
    ) -> async_graphql::Result<Vec<T>>
    where
        E: crate::records::CaseEntity,
        E::Model: Clone + Send + Sync,
        T: From<E::Model>,
    {
        let all = futures_util::future::try_join_all(
            self.members.iter().map(|m| crate::loaders::Loaders::children::<E, T>(ctx, pick, m.id)),
        )
        .await?;
        Ok(all.into_iter().flatten().collect())
    }
}

/// A page of the referral work list (see `Query.referralWorkList`).
pub type WorkListPage = Connection<String, ReferralToAnswer>;

/// A page of the coordinator's list (see `Query.businessesNeedingAttention`).
pub type AttentionPage = Connection<String, BusinessNeedingAttention>;

/// A page of candidates (see `Query.eligibleCandidates`).
pub type CandidatePage = Connection<String, Candidate, CandidateListInfo>;

/// A count that may be suppressed: fewer than the statistics' minimum cell (but more than none)
/// is not shown to a token without `pii:read`, so a figure cannot single a person out.
#[derive(SimpleObject, Clone, Copy)]
pub struct Count {
    /// The count; null when suppressed.
    value: Option<u64>,
    /// The count is too small to show.
    suppressed: bool,
}

/// An amount that goes with a count, suppressed with it.
#[derive(SimpleObject, Clone, Copy)]
pub struct Amount {
    /// Whole rupiah; null when suppressed.
    value: Option<Rupiah>,
    /// The count it belongs to is too small to show.
    suppressed: bool,
}

/// How small cells are shown to one caller.
#[derive(Clone, Copy)]
struct Cells {
    /// The smallest count shown (counts of zero are always shown).
    min: u64,
}

impl Cells {
    fn count(self, n: u64) -> Count {
        let suppressed = n > 0 && n < self.min;
        Count { value: (!suppressed).then_some(n), suppressed }
    }
    fn amount(self, n: u64, amount: i64) -> Amount {
        let suppressed = n > 0 && n < self.min;
        Amount { value: (!suppressed).then_some(Rupiah(amount)), suppressed }
    }
}

/// Businesses of one status.
#[derive(SimpleObject)]
pub struct BusinessStatusCount {
    /// The status.
    status: crate::business::BusinessStatus,
    /// How many.
    count: Count,
}

/// Businesses on one level of the graduation ladder (0: not yet on its first rung).
#[derive(SimpleObject)]
pub struct LevelCount {
    /// The level.
    level: i32,
    /// How many.
    count: Count,
}

/// Referrals to one agency in one status.
#[derive(SimpleObject)]
pub struct ReferralCount {
    /// The receiving agency.
    to_agency: String,
    /// The status.
    status: crate::referral::ReferralStatus,
    /// How many.
    count: Count,
}

/// Infrastructure requests of one kind in one status.
#[derive(SimpleObject)]
pub struct InfrastructureCount {
    /// The kind of work.
    kind: crate::infrastructure::InfrastructureKind,
    /// The status.
    status: crate::infrastructure::InfrastructureStatus,
    /// How many.
    count: Count,
}

/// DISPERINDAGKOP's services of one kind in one status (layanan pasar).
#[derive(SimpleObject)]
pub struct MarketServiceCount {
    /// The kind of service.
    kind: crate::market::MarketServiceKind,
    /// The status.
    status: crate::market::MarketServiceStatus,
    /// How many.
    count: Count,
}

/// Loan applications in one status, with the amounts asked and approved.
#[derive(SimpleObject)]
pub struct LoanCount {
    /// The status.
    status: crate::loan::LoanStatus,
    /// How many.
    count: Count,
    /// Requested, in all.
    requested: Amount,
    /// Approved, in all (none until approved).
    approved: Amount,
}

/// The cohort's survival at one mark (ketahanan usaha).
#[derive(SimpleObject)]
pub struct SurvivalFigure {
    /// Months after the starter package was delivered.
    months: u32,
    /// Equipped businesses of the cohort whose package was delivered at least that long ago.
    reached: Count,
    /// Of them, running (or graduated) at the mark.
    running: Count,
    /// Running ÷ reached; null when either is suppressed or none reached the mark.
    share: Option<f64>,
    /// The earlier group model's (KUBE) share kept running, 0.46 by default: the figure to beat.
    baseline: f64,
    /// `share` is above the baseline; null when `share` is.
    above_baseline: Option<bool>,
}

/// What became of the year's referrals to one agency (serah terima).
#[derive(SimpleObject)]
pub struct HandoverFigure {
    /// The receiving agency.
    to_agency: String,
    /// Referrals made to it in the year.
    made: Count,
    /// Of them, accepted (completed ones included).
    accepted: Count,
    /// Of them, completed.
    completed: Count,
    /// Median days from referral to acceptance; null when suppressed or none was accepted.
    median_days_to_accept: Option<f64>,
    /// Median days from referral to completion; null likewise.
    median_days_to_complete: Option<f64>,
    /// Of those with a due date, overdue: still open or accepted after it, or completed after it.
    overdue: Count,
    /// Overdue ÷ those with a due date; null when suppressed or none has one.
    overdue_share: Option<f64>,
}

/// One area's figures for a programme year (angka program).
#[derive(SimpleObject)]
pub struct AreaStatistics {
    /// The regency/city, Kemendagri code; null for the total of the regencies shown.
    regency_code: Option<String>,
    /// Its name; "Total" for the total.
    name: String,
    /// Starter packages granted in the year (not cancelled): recipients.
    recipients: Count,
    /// Their value.
    package_value: Amount,
    /// Of them, disbursed.
    packages_disbursed: Count,
    /// The year's cohort of businesses (those its packages equip) by status; every status listed.
    businesses_by_status: Vec<BusinessStatusCount>,
    /// The cohort by graduation level, 0 to the ladder's top; every level listed.
    businesses_by_level: Vec<LevelCount>,
    /// Of the cohort, equipped at some point (EQUIPPED, RUNNING, STALLED, CLOSED or GRADUATED).
    equipped: Count,
    /// Of the cohort, graduated (now GRADUATED).
    graduated: Count,
    /// Of the cohort, graduated once and since stalled or closed (kambuh): permanence is the
    /// point, so a relapse is counted here and no longer among the graduated.
    relapsed: Count,
    /// Graduated ÷ equipped; null when either is suppressed or none was equipped.
    graduation_rate: Option<f64>,
    /// Referrals made in the year, by receiving agency and status (only the pairs that occur).
    referrals: Vec<ReferralCount>,
    /// Infrastructure requests made in the year, by kind and status (only the pairs that occur).
    infrastructure_requests: Vec<InfrastructureCount>,
    /// DISPERINDAGKOP's market-access and business-development services recorded in the year, by
    /// kind and status (only the pairs that occur).
    market_services: Vec<MarketServiceCount>,
    /// Loan applications made in the year, by status (only the statuses that occur).
    loans: Vec<LoanCount>,
    /// The cohort's survival at 3, 6, 12 and 24 months after delivery, against the KUBE baseline.
    survival: Vec<SurvivalFigure>,
    /// Referrals made in the year by receiving agency: acceptance, completion, overdue.
    handovers: Vec<HandoverFigure>,
}

/// The programme's figures for a year (statistik program): per regency/city within the token's
/// regions, and their total. No personal data; small counts are suppressed for tokens without
/// `pii:read`.
#[derive(SimpleObject)]
pub struct ProgrammeStatistics {
    /// Programme year.
    year: i32,
    /// Counts from 1 to this minus one are suppressed for this token (1 when nothing is).
    minimum_cell: u64,
    /// Each regency/city, by code.
    regencies: Vec<AreaStatistics>,
    /// The regencies shown, added up (suppressed by the same rule).
    total: AreaStatistics,
}

/// `part ÷ whole` to three places, unless either count is suppressed or `whole` is zero.
fn share(part: u64, whole: u64, cells: Cells) -> Option<f64> {
    let shown = !cells.count(part).suppressed && !cells.count(whole).suppressed;
    (shown && whole > 0).then(|| (part as f64 / whole as f64 * 1000.0).round() / 1000.0)
}

/// How one caller sees the figures.
#[derive(Clone, Copy)]
struct View {
    cells: Cells,
    /// Levels on the ladder.
    ladder: usize,
    /// The KUBE survival share.
    baseline: f64,
}

fn area(code: Option<String>, name: String, f: &statistics::Figures, view: &View) -> AreaStatistics {
    let View { cells, ladder, baseline } = *view;
    use crate::business::BusinessStatus as S;
    use strum::VariantArray;
    let status_count = |status: S| f.businesses_by_status.get(<&str>::from(status)).copied().unwrap_or(0);
    let equipped: u64 =
        [S::Equipped, S::Running, S::Stalled, S::Closed, S::Graduated].into_iter().map(status_count).sum();
    let graduated = status_count(S::Graduated);
    let (shown_equipped, shown_graduated) = (cells.count(equipped), cells.count(graduated));
    let graduation_rate = share(graduated, equipped, cells);
    AreaStatistics {
        regency_code: code,
        name,
        recipients: cells.count(f.recipients),
        package_value: cells.amount(f.recipients, f.package_value),
        packages_disbursed: cells.count(f.packages_disbursed),
        businesses_by_status: S::VARIANTS
            .iter()
            .map(|s| BusinessStatusCount { status: *s, count: cells.count(status_count(*s)) })
            .collect(),
        businesses_by_level: (0..=ladder as i32)
            .map(|level| LevelCount {
                level,
                count: cells.count(f.businesses_by_level.get(&level).copied().unwrap_or(0)),
            })
            .collect(),
        equipped: shown_equipped,
        graduated: shown_graduated,
        relapsed: cells.count(f.relapsed),
        graduation_rate,
        referrals: f
            .referrals
            .iter()
            .filter_map(|((agency, status), n)| {
                Some(ReferralCount {
                    to_agency: agency.clone(),
                    status: status.parse().ok()?,
                    count: cells.count(*n),
                })
            })
            .collect(),
        infrastructure_requests: f
            .infrastructure
            .iter()
            .filter_map(|((kind, status), n)| {
                Some(InfrastructureCount {
                    kind: kind.parse().ok()?,
                    status: status.parse().ok()?,
                    count: cells.count(*n),
                })
            })
            .collect(),
        market_services: f
            .market_services
            .iter()
            .filter_map(|((kind, status), n)| {
                Some(MarketServiceCount {
                    kind: kind.parse().ok()?,
                    status: status.parse().ok()?,
                    count: cells.count(*n),
                })
            })
            .collect(),
        loans: f
            .loans
            .iter()
            .filter_map(|(status, (n, requested, approved))| {
                Some(LoanCount {
                    status: status.parse().ok()?,
                    count: cells.count(*n),
                    requested: cells.amount(*n, *requested),
                    approved: cells.amount(*n, *approved),
                })
            })
            .collect(),
        survival: statistics::SURVIVAL_MARKS
            .iter()
            .map(|months| {
                let (reached, running) = f.survival.get(months).copied().unwrap_or((0, 0));
                let share = share(running, reached, cells);
                SurvivalFigure {
                    months: *months,
                    reached: cells.count(reached),
                    running: cells.count(running),
                    share,
                    baseline,
                    above_baseline: share.map(|s| s > baseline),
                }
            })
            .collect(),
        handovers: f
            .handovers
            .iter()
            .map(|(agency, h)| {
                let (accepted, completed) = (h.days_to_accept.len() as u64, h.days_to_complete.len() as u64);
                let median = |n: u64, days: &[f64]| {
                    (!cells.count(n).suppressed).then(|| statistics::median(days)).flatten()
                };
                HandoverFigure {
                    to_agency: agency.clone(),
                    made: cells.count(h.made),
                    accepted: cells.count(accepted),
                    completed: cells.count(completed),
                    median_days_to_accept: median(accepted, &h.days_to_accept),
                    median_days_to_complete: median(completed, &h.days_to_complete),
                    overdue: cells.count(h.overdue),
                    overdue_share: share(h.overdue, h.with_due_date, cells),
                }
            })
            .collect(),
    }
}

/// Programme queries.
#[derive(Default)]
pub struct ProgrammeQuery;

#[Object]
impl ProgrammeQuery {
    /// Starter-package allocations of a programme year, one per regency/city within the token's
    /// regions (and `regencyCodes` when given), with what the grants have used.
    /// Needs `assistance:read`.
    #[graphql(guard = "RequireScope(Scope::AssistanceRead)")]
    async fn package_allocations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Programme year, 2000–2100.")] year: i32,
        #[graphql(
            desc = "Only these regencies/cities. At most 100 entries of at most 32 characters.",
            validator(max_items = 100, list, chars_max_length = 32)
        )]
        regency_codes: Option<Vec<String>>,
    ) -> async_graphql::Result<Vec<PackageAllocation>> {
        let (state, actor) = (ctx.state()?, ctx.actor()?);
        check_year(year)?;
        let regencies: Vec<String> = visible_regencies(state, actor, regency_codes.as_deref())
            .into_iter()
            .map(|r| r.code.clone())
            .collect();
        let used = Box::pin(service::usage(ctx.db()?, year, &regencies, None)).await.map_err(gql)?;
        Ok(regencies
            .into_iter()
            .map(|code| {
                let usage = used.iter().find(|(c, _)| *c == code).map(|(_, u)| *u).unwrap_or_default();
                PackageAllocation::of(state, year, code, usage)
            })
            .collect())
    }

    /// The programme's figures for a year (statistik program), per regency/city within the token's
    /// regions (and `regencyCodes` when given) and in total: starter packages, the year's cohort of businesses by status and graduation level and its survival at 3/6/12/24 months against the KUBE baseline, referrals with the receiving agencies' handover times, infrastructure requests, DISPERINDAGKOP's market services and loans. No personal data; counts from 1 to the minimum cell (5 by default) are suppressed without `pii:read`. Needs `stats:read`.
    #[graphql(guard = "RequireScope(Scope::StatsRead)")]
    async fn programme_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Programme year, 2000–2100.")] year: i32,
        #[graphql(
            desc = "Only these regencies/cities. At most 100 entries of at most 32 characters.",
            validator(max_items = 100, list, chars_max_length = 32)
        )]
        regency_codes: Option<Vec<String>>,
    ) -> async_graphql::Result<ProgrammeStatistics> {
        let (state, actor) = (ctx.state()?, ctx.actor()?);
        check_year(year)?;
        let min =
            if actor.has(Scope::PiiRead) { 1 } else { u64::from(state.rules.statistics_min_cell.max(1)) };
        let cells = Cells { min };
        let all = Box::pin(statistics::figures(ctx.db()?, year)).await.map_err(gql)?;
        let view = View {
            cells,
            ladder: state.rules.graduation.len(),
            baseline: f64::from(state.rules.survival_baseline_percent) / 100.0,
        };
        let regencies = visible_regencies(state, actor, regency_codes.as_deref());
        let mut total = statistics::Figures::default();
        let empty = statistics::Figures::default();
        let regencies = regencies
            .into_iter()
            .map(|r| {
                let f = all.get(&r.code).unwrap_or(&empty);
                total.add(f);
                area(Some(r.code.clone()), r.name.clone(), f, &view)
            })
            .collect();
        let total = area(None, "Total".into(), &total, &view);
        Ok(ProgrammeStatistics { year, minimum_cell: min, regencies, total })
    }

    /// A household (keluarga) by its KK number: its members within the token's regions with their assistance, businesses and infrastructure requests. Null, with a `NOT_FOUND` error at its path, when no member is visible. Looking a household up by KK is handling personal data. Needs `beneficiary:read` and `pii:read`.
    #[graphql(guard = "RequireScope(Scope::BeneficiaryRead).and(RequireScope(Scope::PiiRead))")]
    async fn household(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "KK number, 16 digits. At most 64 characters.", validator(chars_max_length = 64))]
        kk_number: String,
    ) -> async_graphql::Result<Option<Household>> {
        let members = Box::pin(service::household_members(ctx.db()?, ctx.actor()?, kk_number.trim()))
            .await
            .map_err(gql)?;
        if members.is_empty() {
            return Err(gql(ServiceError::NotFound));
        }
        Ok(Some(Household { kk_number: kk_number.trim().to_owned(), members }))
    }

    /// The referrals waiting for the caller's agency (rujukan masuk), within the token's regions:
    /// OPEN ones to accept or decline and ACCEPTED ones to complete — overdue first (longest
    /// overdue first), then by due date (none last), then oldest first.
    /// Needs `referral:read`.
    #[graphql(guard = "RequireScope(Scope::ReferralRead)")]
    async fn referral_work_list(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return: at most 100; 20 when absent.")] first: Option<i32>,
        #[graphql(desc = "Return the referrals after this cursor.")] after: Option<String>,
    ) -> async_graphql::Result<WorkListPage> {
        let actor = ctx.actor()?;
        let (window, limit) = window(first, after.as_deref())?;
        let today = chrono::Utc::now().date_naive();
        let rows =
            Box::pin(worklists::referrals_to_answer(ctx.db()?, actor, today, window)).await.map_err(gql)?;
        let rows = rows.into_iter().map(|referral| ReferralToAnswer { referral, today }).collect();
        Ok(ranked_page(rows, window, limit))
    }

    /// The businesses of a regency/city its coordinator should look at (perlu perhatian): those
    /// being visited — EQUIPPED, RUNNING or STALLED, and GRADUATED ones for 12 months after
    /// graduating (the rules' `graduated_visit_months`) — not visited in `notVisitedDays` days
    /// (or never), stalled, or whose last visit asked for a follow-up — never visited first,
    /// then the longest unvisited. Empty for a regency outside the token's regions.
    /// Needs `business:read` and `monitoring:read`.
    #[graphql(guard = "RequireScope(Scope::BusinessRead).and(RequireScope(Scope::MonitoringRead))")]
    async fn businesses_needing_attention(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Regency/city, Kemendagri code. At most 32 characters.",
            validator(chars_max_length = 32)
        )]
        regency_code: String,
        #[graphql(desc = "Days without a visit that put a business on the list (1–3650); 45 when absent.")]
        not_visited_days: Option<i32>,
        #[graphql(desc = "How many to return: at most 100; 20 when absent.")] first: Option<i32>,
        #[graphql(desc = "Return the businesses after this cursor.")] after: Option<String>,
    ) -> async_graphql::Result<AttentionPage> {
        let actor = ctx.actor()?;
        let days = not_visited_days.unwrap_or(45);
        if !(1..=3650).contains(&days) {
            return Err(gql(ServiceError::BadRequest("`notVisitedDays` must be between 1 and 3650".into())));
        }
        let (window, limit) = window(first, after.as_deref())?;
        let today = chrono::Utc::now().date_naive();
        let since = today - chrono::Duration::days(i64::from(days));
        let months = chrono::Months::new(ctx.state()?.rules.graduated_visit_months);
        let graduated_since = today.checked_sub_months(months).unwrap_or(chrono::NaiveDate::MIN);
        let rows = worklists::businesses_needing_attention(
            ctx.db()?,
            actor,
            &regency_code,
            (since, graduated_since),
            window,
        )
        .await
        .map_err(gql)?;
        Ok(ranked_page(rows.into_iter().map(BusinessNeedingAttention).collect(), window, limit))
    }

    /// Candidates for a business starter package in a regency/city and programme year (calon
    /// penerima): its active beneficiaries in deciles 1–5 (the rules' limit), the eligible first,
    /// then the poorest decile first, then those whose earlier business stopped, then those with
    /// fewer earlier packages. Each says why they may not receive one. Empty for a regency
    /// outside the token's regions. Needs `beneficiary:read` and `assistance:read`.
    #[graphql(guard = "RequireScope(Scope::BeneficiaryRead).and(RequireScope(Scope::AssistanceRead))")]
    async fn eligible_candidates(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Regency/city, Kemendagri code. At most 32 characters.",
            validator(chars_max_length = 32)
        )]
        regency_code: String,
        #[graphql(desc = "Programme year, 2000–2100.")] year: i32,
        #[graphql(desc = "Only the eligible ones.", default = false)] only_eligible: bool,
        #[graphql(desc = "How many candidates to return: at most 100; 20 when absent.")] first: Option<i32>,
        #[graphql(desc = "Return the candidates after this cursor.")] after: Option<String>,
    ) -> async_graphql::Result<CandidatePage> {
        let (state, actor) = (ctx.state()?, ctx.actor()?);
        check_year(year)?;
        let (window, limit) = window(first, after.as_deref())?;
        let db = ctx.db()?;
        let query = service::CandidateQuery {
            regency: &regency_code,
            year,
            only_eligible,
            offset: window.offset,
            limit: window.limit,
        };
        let mut rows = service::candidates(db, actor, &state.rules, query).await.map_err(gql)?;
        let has_next = rows.len() > limit;
        rows.truncate(limit);
        let visible = in_regions(actor, &regency_code)
            && state.regions.check_regency("regencyCode", &regency_code).is_ok();
        let allocation = if visible {
            let used =
                service::usage(db, year, std::slice::from_ref(&regency_code), None).await.map_err(gql)?;
            let usage = used.first().map(|(_, u)| *u).unwrap_or_default();
            Some(PackageAllocation::of(state, year, regency_code, usage))
        } else {
            None
        };
        let info = CandidateListInfo { allocation };
        let mut page = Connection::with_additional_fields(window.offset > 0, has_next, info);
        page.edges.extend(
            rows.into_iter()
                .enumerate()
                .map(|(i, row)| Edge::new((window.offset + i as u64).to_string(), Candidate(row))),
        );
        Ok(page)
    }
}
