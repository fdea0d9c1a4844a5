//! Demo data on the scale of the real programme: about 168 starter-package recipients in each of
//! Kaltim's ten regencies/cities, with businesses in every state, trainings, loans, housing
//! requests, referrals and monthly visits. Every person is synthetic (`isDemo`), with NIKs and
//! KK numbers that pass validation. Each seeded record gets its CREATED case event.

use chrono::{Datelike, Months, NaiveDate, Utc};
use entity::{
    assistance, beneficiary, business, case_event, infrastructure_request, loan_application, market_service,
    monitoring_visit, referral, training, training_enrollment, volunteer,
};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    TransactionTrait,
};
use uuid::Uuid;

use crate::{regions::Regions, rules::Rules};

/// Beneficiaries per regency/city (10 × 168 = 1,680, the press figure for 2025).
pub const PER_REGENCY: usize = 168;
const SEED_CLIENT: &str = "demo-seed";

const FIRST_MALE: &[&str] = &[
    "Ahmad", "Budi", "Hendra", "Rudi", "Syahrul", "Agus", "Yusuf", "Rahmat", "Dedi", "Irwan", "Fajar",
    "Samsul",
];
const FIRST_FEMALE: &[&str] = &[
    "Siti", "Nur", "Dewi", "Rina", "Wahyuni", "Fitri", "Aisyah", "Sri", "Lestari", "Yuliana", "Rohani",
    "Masitah",
];
const LAST: &[&str] = &[
    "Hidayat",
    "Saputra",
    "Rahman",
    "Wijaya",
    "Kurniawan",
    "Pratama",
    "Santoso",
    "Hasan",
    "Nugroho",
    "Setiawan",
    "Anwar",
    "Syamsuddin",
];
const STREETS: &[&str] = &[
    "Jl. Pahlawan",
    "Jl. Merdeka",
    "Jl. Gerilya",
    "Jl. Pramuka",
    "Jl. Kadrie Oening",
    "Jl. Sudirman",
    "Jl. Cendana",
    "Jl. Lambung Mangkurat",
];
const SECTORS: &[(&str, &str)] = &[
    ("FOOD", "Warung Makan"),
    ("BEVERAGE", "Es Teh"),
    ("FRIED_SNACKS", "Gorengan"),
    ("CAKES", "Kue Basah"),
    ("POULTRY", "Ternak Ayam"),
    ("MOTORBIKE_REPAIR", "Bengkel Motor"),
    ("GROCERY", "Warung Kelontong"),
    ("TAILORING", "Jahit"),
    ("CRAFT", "Anyaman"),
    ("FISHERY", "Ikan Asin"),
];

struct Seeder {
    rng: StdRng,
    now: chrono::DateTime<Utc>,
    events: Vec<case_event::ActiveModel>,
}

impl Seeder {
    fn event(
        &mut self,
        entity_type: &str,
        id: Uuid,
        beneficiary: Option<Uuid>,
        status: Option<&str>,
        agency: &str,
        regency: &str,
    ) {
        self.events.push(case_event::ActiveModel {
            beneficiary_id: Set(beneficiary),
            entity_type: Set(entity_type.into()),
            entity_id: Set(id),
            action: Set(crate::records::wire(crate::events::CaseAction::Created)),
            from_status: Set(None),
            to_status: Set(status.map(str::to_owned)),
            changed_fields: Set("[\"*\"]".into()),
            actor_agency: Set(agency.into()),
            actor_client: Set(SEED_CLIENT.into()),
            regency_code: Set(regency.into()),
            occurred_at: Set(self.now),
            ..Default::default()
        });
    }

    fn date(&mut self, from: NaiveDate, days: i64) -> NaiveDate {
        from + chrono::Duration::days(self.rng.random_range(0..days.max(1)))
    }
}

/// The last day of the quarter before the one `today` is in.
fn last_quarter_end(today: NaiveDate) -> NaiveDate {
    let first_month = (today.month0() / 3) * 3 + 1;
    ymd(today.year(), first_month, 1) - chrono::Duration::days(1)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

async fn insert_all<A>(txn: &sea_orm::DatabaseTransaction, rows: Vec<A>) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(200).collect();
        <A::Entity as EntityTrait>::insert_many(chunk).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// Seeds demo data when there are no beneficiaries yet; returns how many were created.
pub async fn seed_if_empty(db: &DatabaseConnection, regions: &Regions, rules: &Rules) -> Result<u64, DbErr> {
    if beneficiary::Entity::find().count(db).await? > 0 {
        return Ok(0);
    }
    seed(db, regions, rules, PER_REGENCY, 2025).await
}

/// Seeds `per_regency` beneficiaries in each regency/city, all in one transaction.
pub async fn seed(
    db: &DatabaseConnection,
    regions: &Regions,
    rules: &Rules,
    per_regency: usize,
    seed: u64,
) -> Result<u64, DbErr> {
    let now = Utc::now();
    let today = now.date_naive();
    let mut s = Seeder { rng: StdRng::seed_from_u64(seed), now, events: Vec::new() };
    let (mut people, mut businesses, mut aid, mut trainings, mut enrollments) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut loans, mut infra, mut referrals, mut visits) = (vec![], vec![], vec![], vec![]);
    let (mut volunteers, mut market) = (vec![], vec![]);
    let audit =
        |agency: &str| (Set(1), Set(agency.to_owned()), Set(SEED_CLIENT.to_owned()), Set(now), Set(now));
    let regencies: Vec<_> = regions.regencies().cloned().collect();
    let mut serial = 0usize;
    // Everyone's decile comes from the last quarterly DTSEN update (the end of the quarter before
    // this one), so candidates stay current whenever the demo is started; the packages of 2025
    // keep the assessment they were decided on.
    let assessed = last_quarter_end(today);

    for regency in &regencies {
        let districts: Vec<_> = regions
            .of_level("district")
            .filter(|d| d.parent_code.as_deref() == Some(&regency.code))
            .cloned()
            .collect();
        // Trainings of the regency: technical guidance (done), packaging (done), marketing (open).
        let guidance = Uuid::now_v7();
        let packaging = Uuid::now_v7();
        let marketing = Uuid::now_v7();
        let plan = [
            (
                guidance,
                "DINSOS",
                "Bimbingan Teknis Usaha Ekonomi Produktif",
                "TECHNICAL_GUIDANCE",
                ymd(2025, 3, 10),
                "COMPLETED",
                per_regency as i32 + 10,
            ),
            (
                packaging,
                "DISNAKERTRANS",
                "Pelatihan Pengemasan Produk",
                "PACKAGING",
                ymd(2025, 8, 4),
                "COMPLETED",
                90,
            ),
            (
                marketing,
                "DISNAKERTRANS",
                "Pemasaran Digital untuk UMKM",
                "DIGITAL_MARKETING",
                today + chrono::Duration::days(21),
                "OPEN",
                40,
            ),
        ];
        let mut seats = [0i32; 3];
        // Three volunteers per regency/city, who share its businesses' visits.
        let crew: Vec<(Uuid, String)> = ["PSM", "TKSK", "TAGANA"]
            .into_iter()
            .enumerate()
            .map(|(n, kind)| {
                let id = Uuid::now_v7();
                let name = format!(
                    "{} {} ({kind})",
                    FIRST_FEMALE[(serial + n) % FIRST_FEMALE.len()],
                    LAST[n % LAST.len()]
                );
                let (v, ca, cc, cr, up) = audit("DINSOS");
                volunteers.push(volunteer::ActiveModel {
                    id: Set(id),
                    name: Set(name.clone()),
                    kind: Set(kind.into()),
                    regency_code: Set(regency.code.clone()),
                    district_code: Set(None),
                    status: Set("ACTIVE".into()),
                    status_reason: Set(None),
                    version: v,
                    created_by_agency: ca,
                    created_by_client: cc,
                    created_at: cr,
                    updated_at: up,
                });
                s.event("VOLUNTEER", id, None, Some("ACTIVE"), "DINSOS", &regency.code);
                (id, name)
            })
            .collect();
        for r in 0..per_regency {
            serial += 1;
            let district = districts
                .choose(&mut s.rng)
                .map(|d| d.code.clone())
                .unwrap_or_else(|| format!("{}01", regency.code));
            let female = s.rng.random_bool(0.55);
            let birth = s.date(ymd(1962, 1, 1), 365 * 38);
            let day = birth.day() + if female { 40 } else { 0 };
            let nik = format!(
                "{district}{day:02}{:02}{:02}{:04}",
                birth.month(),
                birth.year() % 100,
                serial % 9999 + 1
            );
            let recorded = s.date(ymd(2010, 1, 1), 365 * 14);
            let kk = format!(
                "{district}{:02}{:02}{:02}{:04}",
                recorded.day(),
                recorded.month(),
                recorded.year() % 100,
                serial % 9999 + 1
            );
            let first = if female { FIRST_FEMALE } else { FIRST_MALE };
            let name = format!(
                "{} {}",
                first.choose(&mut s.rng).unwrap_or(&"Nur"),
                LAST.choose(&mut s.rng).unwrap_or(&"Hasan")
            );
            let person = Uuid::now_v7();
            let decile = s.rng.random_range(1..=5);
            let (v, ca, cc, cr, up) = audit("DINSOS");
            people.push(beneficiary::ActiveModel {
                id: Set(person),
                nik: Set(nik),
                kk_number: Set(kk),
                is_head_of_family: Set(true),
                full_name: Set(name.clone()),
                birth_date: Set(birth),
                sex: Set(if female { "FEMALE" } else { "MALE" }.into()),
                phone: Set(Some(format!("08{}", s.rng.random_range(1_100_000_000u64..1_399_999_999)))),
                address: Set(Some(format!(
                    "{} No. {}, RT {:02}",
                    STREETS.choose(&mut s.rng).unwrap_or(&"Jl. Pahlawan"),
                    s.rng.random_range(1..200),
                    s.rng.random_range(1..40)
                ))),
                regency_code: Set(regency.code.clone()),
                district_code: Set(district.clone()),
                village_code: Set(Some(format!("{district}{:04}", 2001 + r % 12))),
                decile: Set(decile),
                decile_source: Set("DTSEN".into()),
                decile_assessed_on: Set(assessed),
                status: Set(if r % 40 == 0 { "GRADUATED" } else { "ACTIVE" }.into()),
                status_reason: Set(None),
                is_demo: Set(true),
                version: v,
                created_by_agency: ca,
                created_by_client: cc,
                created_at: cr,
                updated_at: up,
            });
            s.event("BENEFICIARY", person, Some(person), Some("ACTIVE"), "DINSOS", &regency.code);

            // The business and its lifecycle position: mostly running, some in every other state.
            let status = match s.rng.random_range(0..100) {
                0..=3 => "PROPOSED",
                4..=5 => "REJECTED",
                6..=9 => "APPROVED",
                10..=13 => "EQUIPPED",
                14..=69 => "RUNNING",
                70..=81 => "STALLED",
                82..=91 => "CLOSED",
                _ => "GRADUATED",
            };
            let (sector, label) = *SECTORS.choose(&mut s.rng).unwrap_or(&("FOOD", "Warung Makan"));
            let biz = Uuid::now_v7();
            let running = matches!(status, "RUNNING" | "STALLED" | "CLOSED" | "GRADUATED");
            // Businesses being visited are assigned to one of the regency's volunteers.
            let visitor = matches!(status, "EQUIPPED" | "RUNNING" | "STALLED" | "GRADUATED")
                .then(|| &crew[r % crew.len()]);
            let started = running.then(|| s.date(ymd(2025, 4, 1), 150));
            // Permanence is visited, not assumed: one closed business in five had graduated
            // before it closed (a relapse the statistics count).
            let relapsed = status == "CLOSED" && r % 5 == 0;
            let graduated_on = match status {
                "GRADUATED" => started.map(|d| d + chrono::Days::new(365)),
                _ if relapsed => started.map(|d| d + chrono::Days::new(180)),
                _ => None,
            };
            let changed_on = match status {
                "GRADUATED" => graduated_on,
                _ if relapsed => started.map(|d| d + chrono::Days::new(270)),
                _ => started,
            };
            let stopped_before = s.rng.random_bool(0.4);
            let (v, ca, cc, cr, up) = audit("DINSOS");
            businesses.push(business::ActiveModel {
                id: Set(biz),
                beneficiary_id: Set(person),
                regency_code: Set(regency.code.clone()),
                name: Set(format!("{label} {}", name.split(' ').next().unwrap_or("Bu"))),
                sector: Set(sector.into()),
                previously_stopped: Set(stopped_before),
                stop_cause: Set(stopped_before.then(|| "Usaha berhenti saat pandemi COVID-19".to_owned())),
                nib: Set((status == "GRADUATED")
                    .then(|| format!("{}", s.rng.random_range(1_200_000_000_000u64..1_299_999_999_999)))),
                monthly_revenue: Set(running.then(|| s.rng.random_range(15..120) * 100_000)),
                workers: Set(if status == "GRADUATED" { s.rng.random_range(1..4) } else { 0 }),
                lead_agency: Set(if status == "GRADUATED" { "DISPERINDAGKOP" } else { "DINSOS" }.into()),
                started_on: Set(started),
                status: Set(status.into()),
                status_reason: Set(
                    (status == "CLOSED").then(|| "Modal habis untuk kebutuhan rumah tangga".to_owned())
                ),
                status_changed_on: Set(changed_on),
                graduated_on: Set(graduated_on),
                closure_proposed_by_visit: Set(None),
                closure_proposed_on: Set(None),
                level: Set(0),
                volunteer_id: Set(visitor.map(|(id, _)| *id)),
                version: v,
                created_by_agency: ca,
                created_by_client: cc,
                created_at: cr,
                updated_at: up,
            });
            s.event("BUSINESS", biz, Some(person), Some(status), "DINSOS", &regency.code);

            // The starter package, planned once approved and delivered once equipped.
            if !matches!(status, "PROPOSED" | "REJECTED") {
                let id = Uuid::now_v7();
                let state = if status == "APPROVED" { "PLANNED" } else { "DISBURSED" };
                // The approved ones wait for this year's packages (the next cohort).
                let year = if state == "PLANNED" { today.year() } else { 2025 };
                let (v, ca, cc, cr, up) = audit("DINSOS");
                aid.push(assistance::ActiveModel {
                    id: Set(id),
                    beneficiary_id: Set(person),
                    regency_code: Set(regency.code.clone()),
                    programme: Set("BUSINESS_STARTER_PACKAGE".into()),
                    amount: Set(s.rng.random_range(45..=50) * 100_000),
                    items: Set(Some(format!("Peralatan dan bahan baku usaha {}", label.to_lowercase()))),
                    period_start: Set(ymd(year, 2, 1)),
                    period_end: Set(Some(ymd(year, 12, 31))),
                    fund_source: Set(format!("APBD Provinsi Kalimantan Timur {year}")),
                    disbursed_on: Set((state == "DISBURSED").then(|| ymd(2025, 3, 20))),
                    decile: Set(decile),
                    decile_source: Set("DTSEN".into()),
                    decile_assessed_on: Set(ymd(2025, 1, 31)),
                    status: Set(state.into()),
                    status_reason: Set(None),
                    business_id: Set(Some(biz)),
                    interest: Set(Some(format!("Usaha {}", label.to_lowercase()))),
                    requested_goods: Set(Some(format!("Peralatan dan bahan {}", label.to_lowercase()))),
                    price_assessment: Set(Some(5_000_000)),
                    price_assessed_on: Set(Some(ymd(2025, 1, 20))),
                    version: v,
                    created_by_agency: ca,
                    created_by_client: cc,
                    created_at: cr,
                    updated_at: up,
                });
                s.event("ASSISTANCE", id, Some(person), Some(state), "DINSOS", &regency.code);
            }

            // Technical guidance for every equipped business; packaging and marketing for some.
            let mut picks = Vec::new();
            if running || status == "EQUIPPED" {
                picks.push((0, "COMPLETED", "DINSOS"));
            }
            // A graduated business has climbed the whole ladder: its packaging training included.
            if running && seats[1] < plan[1].6 && (status == "GRADUATED" || s.rng.random_bool(0.35)) {
                picks.push((1, "COMPLETED", "DISNAKERTRANS"));
            }
            if status == "RUNNING" && seats[2] < 20 && s.rng.random_bool(0.2) {
                picks.push((2, "ENROLLED", "DISNAKERTRANS"));
            }
            for (slot, status, agency) in picks {
                let id = Uuid::now_v7();
                seats[slot] += 1;
                let (v, ca, cc, cr, up) = audit(agency);
                enrollments.push(training_enrollment::ActiveModel {
                    id: Set(id),
                    training_id: Set(plan[slot].0),
                    beneficiary_id: Set(person),
                    business_id: Set(Some(biz)),
                    regency_code: Set(regency.code.clone()),
                    certificate_no: Set(
                        (status == "COMPLETED").then(|| format!("SERT/{}/{serial:05}", plan[slot].3))
                    ),
                    status: Set(status.into()),
                    status_reason: Set(None),
                    version: v,
                    created_by_agency: ca,
                    created_by_client: cc,
                    created_at: cr,
                    updated_at: up,
                });
                s.event("TRAINING_ENROLLMENT", id, Some(person), Some(status), agency, &regency.code);
            }

            // Monthly visits by a volunteer since the start, the last one seeing today's status.
            if let Some(start) = started {
                let volunteer = visitor.map_or_else(|| crew[0].1.clone(), |(_, name)| name.clone());
                let mut month = 1;
                while let Some(on) = start.checked_add_months(Months::new(month)).filter(|d| *d < today) {
                    let last = on.checked_add_months(Months::new(1)).is_none_or(|n| n >= today);
                    let seen = match (last, status) {
                        (true, "STALLED") => "STALLED",
                        (true, "CLOSED") => "CLOSED",
                        _ => "RUNNING",
                    };
                    let id = Uuid::now_v7();
                    let obstacles = if seen == "RUNNING" { "[]" } else { "[\"CAPITAL\",\"MARKETING\"]" };
                    let (v, ca, cc, cr, up) = audit("RELAWAN");
                    visits.push(monitoring_visit::ActiveModel {
                        id: Set(id),
                        business_id: Set(biz),
                        beneficiary_id: Set(person),
                        regency_code: Set(regency.code.clone()),
                        volunteer_name: Set(volunteer.clone()),
                        visited_on: Set(on),
                        observed_status: Set(seen.into()),
                        revenue_estimate: Set(Some(if status == "GRADUATED" {
                            s.rng.random_range(55..150) * 100_000
                        } else {
                            s.rng.random_range(10..120) * 100_000
                        })),
                        obstacles: Set(obstacles.into()),
                        notes: Set(None),
                        follow_up_needed: Set(seen != "RUNNING"),
                        version: v,
                        created_by_agency: ca,
                        created_by_client: cc,
                        created_at: cr,
                        updated_at: up,
                    });
                    s.event("MONITORING_VISIT", id, Some(person), None, "RELAWAN", &regency.code);
                    month += 1;
                }
            }

            // Referrals on to sector agencies, with the loan or housing request they led to.
            if matches!(status, "RUNNING" | "GRADUATED") && s.rng.random_bool(0.25) {
                let loan = Uuid::now_v7();
                let loan_status =
                    *["DRAFT", "SUBMITTED", "UNDER_REVIEW", "APPROVED", "DISBURSED", "DISBURSED", "REJECTED"]
                        .choose(&mut s.rng)
                        .unwrap_or(&"SUBMITTED");
                let requested = s.rng.random_range(5..=10) * 1_000_000;
                let (v, ca, cc, cr, up) = audit("DISPERINDAGKOP");
                loans.push(loan_application::ActiveModel {
                    id: Set(loan),
                    business_id: Set(biz),
                    beneficiary_id: Set(person),
                    regency_code: Set(regency.code.clone()),
                    product: Set("KUR_SUPER_MICRO".into()),
                    lender: Set("Bank Kaltimtara".into()),
                    requested_amount: Set(requested),
                    approved_amount: Set(
                        matches!(loan_status, "APPROVED" | "DISBURSED").then_some(requested)
                    ),
                    tenor_months: Set(24),
                    has_collateral: Set(false),
                    decision_reason: Set(None),
                    status: Set(loan_status.into()),
                    status_reason: Set((loan_status == "REJECTED")
                        .then(|| "Riwayat kredit belum memenuhi".to_owned())),
                    version: v,
                    created_by_agency: ca,
                    created_by_client: cc,
                    created_at: cr,
                    updated_at: up,
                });
                s.event(
                    "LOAN_APPLICATION",
                    loan,
                    Some(person),
                    Some(loan_status),
                    "DISPERINDAGKOP",
                    &regency.code,
                );
                referrals.push(referral_row(
                    &mut s,
                    person,
                    Some(biz),
                    &regency.code,
                    "DISPERINDAGKOP",
                    "CAPITAL_ACCESS",
                    "COMPLETED",
                    Some(("LOAN_APPLICATION", loan)),
                ));
            } else if status == "STALLED" && s.rng.random_bool(0.5) {
                // Open and accepted ones past their due date (overdue on the work lists); a
                // declined one re-sent to DISPERINDAGKOP's business development.
                let state = *["OPEN", "ACCEPTED", "DECLINED"].choose(&mut s.rng).unwrap_or(&"OPEN");
                let declined = referral_row(
                    &mut s,
                    person,
                    Some(biz),
                    &regency.code,
                    "DISNAKERTRANS",
                    "SKILLS_TRAINING",
                    state,
                    None,
                );
                let first = declined.id.clone().take();
                referrals.push(declined);
                if state == "DECLINED" {
                    let mut again = referral_row(
                        &mut s,
                        person,
                        Some(biz),
                        &regency.code,
                        "DISPERINDAGKOP",
                        "BUSINESS_DEVELOPMENT",
                        "OPEN",
                        None,
                    );
                    again.resent_from = Set(first);
                    again.due_by = Set(Some(today + chrono::Duration::days(30)));
                    referrals.push(again);
                }
            }
            // DISPERINDAGKOP's market services: a graduated business's market access came from a
            // referral answered by a completed placement; some running businesses have one under
            // way, planned, or a registration or certification.
            let served = match status {
                "GRADUATED" => {
                    Some(("COMPLETED", if r % 2 == 0 { "ECOMMERCE_PLACEMENT" } else { "MARKET_PLACEMENT" }))
                }
                "RUNNING" if r % 6 == 0 => Some(("IN_PROGRESS", "PRODUCT_REGISTRATION")),
                "RUNNING" if r % 6 == 3 => Some(("PLANNED", "HALAL_CERTIFICATION")),
                "RUNNING" if r % 10 == 1 => Some(("COMPLETED", "BUSINESS_COACHING")),
                "RUNNING" if r % 10 == 7 => Some(("CANCELLED", "HALAL_CERTIFICATION")),
                _ => None,
            };
            if let Some((state, kind)) = served {
                let id = Uuid::now_v7();
                let begun = started.map(|d| d + chrono::Days::new(60));
                let done = state == "COMPLETED";
                let (v, ca, cc, cr, up) = audit("DISPERINDAGKOP");
                market.push(market_service::ActiveModel {
                    id: Set(id),
                    business_id: Set(biz),
                    beneficiary_id: Set(person),
                    regency_code: Set(regency.code.clone()),
                    kind: Set(kind.into()),
                    provider: Set(Some(
                        match kind {
                            "ECOMMERCE_PLACEMENT" => "Toko daring UMKM Kaltim",
                            "MARKET_PLACEMENT" => "Galeri UMKM Disperindagkop",
                            "PRODUCT_REGISTRATION" => "Dinas Kesehatan (PIRT)",
                            "HALAL_CERTIFICATION" => "BPJPH (sertifikasi halal)",
                            _ => "Pendamping PLUT-KUMKM",
                        }
                        .to_owned(),
                    )),
                    description: Set(None),
                    planned_on: Set(begun),
                    started_on: Set((state != "PLANNED").then_some(begun).flatten()),
                    completed_on: Set(done.then(|| begun.map(|d| d + chrono::Days::new(30))).flatten()),
                    result: Set(done.then(|| match kind {
                        "ECOMMERCE_PLACEMENT" => {
                            "Toko aktif di lokapasar; pesanan pertama terkirim".to_owned()
                        }
                        "MARKET_PLACEMENT" => "Produk dipajang di galeri UMKM".to_owned(),
                        _ => "Pendampingan selesai: pembukuan sederhana berjalan".to_owned(),
                    })),
                    status: Set(state.into()),
                    status_reason: Set(
                        (state == "CANCELLED").then(|| "Biaya sertifikasi belum tersedia".to_owned())
                    ),
                    version: v,
                    created_by_agency: ca,
                    created_by_client: cc,
                    created_at: cr,
                    updated_at: up,
                });
                s.event("MARKET_SERVICE", id, Some(person), Some(state), "DISPERINDAGKOP", &regency.code);
                if status == "GRADUATED" {
                    referrals.push(referral_row(
                        &mut s,
                        person,
                        Some(biz),
                        &regency.code,
                        "DISPERINDAGKOP",
                        "MARKETING",
                        "COMPLETED",
                        Some(("MARKET_SERVICE", id)),
                    ));
                }
            }
            if r % 7 == 0 {
                let id = Uuid::now_v7();
                let kind = *["LIVABLE_HOUSING", "SANITATION", "CLEAN_WATER", "ELECTRICITY"]
                    .choose(&mut s.rng)
                    .unwrap_or(&"SANITATION");
                let state = *["SUBMITTED", "SURVEYED", "APPROVED", "IN_PROGRESS", "COMPLETED", "REJECTED"]
                    .choose(&mut s.rng)
                    .unwrap_or(&"SUBMITTED");
                let surveyed = state != "SUBMITTED";
                let (v, ca, cc, cr, up) = audit("PUPR");
                infra.push(infrastructure_request::ActiveModel {
                    id: Set(id),
                    beneficiary_id: Set(person),
                    regency_code: Set(regency.code.clone()),
                    district_code: Set(district.clone()),
                    village_code: Set(Some(format!("{district}{:04}", 2001 + r % 12))),
                    kind: Set(kind.into()),
                    location: Set(Some("Rumah penerima manfaat".into())),
                    estimated_cost: Set(Some(s.rng.random_range(5..=25) * 1_000_000)),
                    survey_notes: Set(surveyed.then(|| "Atap bocor dan lantai tanah".to_owned())),
                    has_land_proof: Set(surveyed.then_some(state != "REJECTED")),
                    is_only_house: Set(surveyed.then_some(true)),
                    housing_aid_last_10_years: Set(surveyed.then_some(false)),
                    decision_reason: Set(None),
                    status: Set(state.into()),
                    status_reason: Set(
                        (state == "REJECTED").then(|| "Tidak ada bukti kepemilikan lahan".to_owned())
                    ),
                    version: v,
                    created_by_agency: ca,
                    created_by_client: cc,
                    created_at: cr,
                    updated_at: up,
                });
                s.event("INFRASTRUCTURE_REQUEST", id, Some(person), Some(state), "PUPR", &regency.code);
                let service = if kind == "LIVABLE_HOUSING" { "HOUSING" } else { kind };
                let service = if service == "ELECTRICITY" { "OTHER" } else { service };
                referrals.push(referral_row(
                    &mut s,
                    person,
                    None,
                    &regency.code,
                    "PUPR",
                    service,
                    "COMPLETED",
                    Some(("INFRASTRUCTURE_REQUEST", id)),
                ));
            }
        }
        for (slot, (id, agency, title, topic, starts, status, capacity)) in plan.into_iter().enumerate() {
            let (v, ca, cc, cr, up) = audit(agency);
            trainings.push(training::ActiveModel {
                id: Set(id),
                organiser_agency: Set(agency.into()),
                title: Set(format!("{title} — {}", regency.name)),
                topic: Set(topic.into()),
                regency_code: Set(regency.code.clone()),
                venue: Set(Some(format!("Aula Dinas, {}", regency.name))),
                starts_on: Set(starts),
                ends_on: Set(starts + chrono::Duration::days(3)),
                capacity: Set(capacity),
                seats_taken: Set(seats[slot]),
                status: Set(status.into()),
                status_reason: Set(None),
                version: v,
                created_by_agency: ca,
                created_by_client: cc,
                created_at: cr,
                updated_at: up,
            });
            s.event("TRAINING", id, None, Some(status), agency, &regency.code);
        }
    }

    let count = people.len() as u64;
    // Events first in the list are written last so every event follows its record's insert.
    let events = std::mem::take(&mut s.events);
    let txn = db.begin().await?;
    insert_all(&txn, volunteers).await?;
    insert_all(&txn, people).await?;
    let firms: Vec<Uuid> = businesses.iter().filter_map(|b| b.id.clone().take()).collect();
    insert_all(&txn, businesses).await?;
    insert_all(&txn, aid).await?;
    insert_all(&txn, trainings).await?;
    insert_all(&txn, enrollments).await?;
    insert_all(&txn, loans).await?;
    insert_all(&txn, infra).await?;
    insert_all(&txn, referrals).await?;
    insert_all(&txn, market).await?;
    insert_all(&txn, visits).await?;
    insert_all(&txn, events).await?;
    levels(&txn, rules, &firms).await?;
    txn.commit().await?;
    Ok(count)
}

/// Gives each business the level its seeded evidence reaches (part of the seeded record, as if
/// it had been kept all along: no event of its own).
async fn levels(txn: &sea_orm::DatabaseTransaction, rules: &Rules, ids: &[Uuid]) -> Result<(), DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
    let today = Utc::now().date_naive();
    let mut by_level: std::collections::BTreeMap<i32, Vec<Uuid>> = Default::default();
    for chunk in ids.chunks(500) {
        let businesses = business::Entity::find()
            .filter(business::Column::Id.is_in(chunk.iter().copied()))
            .all(txn)
            .await?;
        for business in businesses {
            let standing = crate::programme::graduation::standing(txn, rules, &business, today)
                .await
                .map_err(|e| DbErr::Custom(e.to_string()))?;
            if standing.level > 0 {
                by_level.entry(standing.level).or_default().push(business.id);
            }
        }
    }
    for (level, ids) in by_level {
        for chunk in ids.chunks(500) {
            business::Entity::update_many()
                .col_expr(business::Column::Level, Expr::value(level))
                .filter(business::Column::Id.is_in(chunk.iter().copied()))
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn referral_row(
    s: &mut Seeder,
    person: Uuid,
    biz: Option<Uuid>,
    regency: &str,
    to: &str,
    service: &str,
    status: &str,
    outcome: Option<(&str, Uuid)>,
) -> referral::ActiveModel {
    let id = Uuid::now_v7();
    s.event("REFERRAL", id, Some(person), Some(status), "DINSOS", regency);
    referral::ActiveModel {
        id: Set(id),
        beneficiary_id: Set(person),
        business_id: Set(biz),
        regency_code: Set(regency.into()),
        from_agency: Set("DINSOS".into()),
        to_agency: Set(to.into()),
        service: Set(service.into()),
        reason: Set("Usaha sudah berjalan, perlu pengembangan lanjutan".into()),
        due_by: Set(Some(ymd(2025, 12, 31))),
        outcome_type: Set(outcome.map(|(t, _)| t.to_owned())),
        outcome_id: Set(outcome.map(|(_, id)| id)),
        response_note: Set(None),
        status: Set(status.into()),
        status_reason: Set((status == "DECLINED").then(|| "Kuota pelatihan tahun ini penuh".to_owned())),
        version: Set(1),
        created_by_agency: Set("DINSOS".into()),
        created_by_client: Set(SEED_CLIENT.into()),
        created_at: Set(s.now),
        updated_at: Set(s.now),
        resent_from: Set(None),
        visit_id: Set(None),
    }
}
