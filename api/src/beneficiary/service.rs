//! Beneficiary rules and storage: NIK/KK checks, uniqueness, lifecycle. No GraphQL here.

use chrono::Utc;
use entity::beneficiary::{self, ActiveModel, Column, Entity};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, TransactionTrait,
    sea_query::Expr,
};
use uuid::Uuid;

use super::{BeneficiaryChanges, BeneficiaryCriteria, BeneficiaryStatus, NewBeneficiary, Sex};
use crate::{
    auth::{Actor, Scope},
    context::AppState,
    error::{Problems, ServiceError, UserWarning},
    events::CaseAction,
    identity::{check_kk, check_nik},
    moves::{Move, StatusChange},
    page::{Listing, Narrow, Rows, paginate},
    records::{self, existing_for_retry, require_region, wire, within_regions},
};

/// A page of beneficiaries.
#[tracing::instrument(level = "debug", skip_all, name = "beneficiary::list")]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    listing: Listing<BeneficiaryCriteria, Column>,
) -> Result<Rows<Entity>, ServiceError> {
    let Listing { filter: f, paging } = listing;
    // Looking a person up by NIK or KK number is handling their personal data.
    if (f.nik.is_some() || f.kk_number.is_some()) && !actor.has(Scope::PiiRead) {
        return Err(ServiceError::Forbidden(
            "filtering by NIK or KK number needs the `pii:read` scope".into(),
        ));
    }
    let mut select = within_regions(Entity::find(), actor);
    if let Some(volunteer) = actor.volunteer {
        // A volunteer lists only its own cases: no search, sort or cursor can tell it anything
        // of anyone else (as if no one else were registered).
        let cases = crate::volunteer::service::cases_of(db, volunteer).await?.unwrap_or_default();
        select = select.filter(Column::Id.is_in(cases));
    }
    let select = select
        .one_of(Column::RegencyCode, f.regency_codes)
        .one_of(Column::DistrictCode, f.district_codes)
        .one_of_enum(Column::Status, f.statuses)
        .between(Column::Decile, f.decile_min, f.decile_max)
        .containing(Column::FullName, f.name_contains)
        .equal(Column::Nik, f.nik)
        .equal(Column::KkNumber, f.kk_number)
        .equal(Column::CreatedByAgency, f.created_by_agency)
        .equal(Column::IsDemo, f.is_demo)
        .between(Column::CreatedAt, f.created_from, f.created_to);
    paginate(db, select, paging, (Column::CreatedAt, Order::Asc)).await
}

fn check_decile(decile: i32) -> Result<(), ServiceError> {
    if (1..=10).contains(&decile) {
        Ok(())
    } else {
        Err(ServiceError::validation("decile", format!("decile must be 1–10, got {decile}")))
    }
}

fn check_name(name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ServiceError::validation("fullName", "full name must be 1–200 characters"));
    }
    Ok(name.to_owned())
}

/// The regency of a beneficiary wherever it is (for the personal-data log only).
async fn find_any(db: &impl ConnectionTrait, id: Uuid) -> Result<String, ServiceError> {
    Ok(Entity::find_by_id(id).one(db).await?.map(|b| b.regency_code).unwrap_or_default())
}

async fn ensure_unique(
    db: &impl ConnectionTrait,
    id: Uuid,
    nik: &str,
    kk: &str,
    head_of_family: bool,
) -> Result<(), ServiceError> {
    let same_nik = Entity::find().filter(Column::Nik.eq(nik)).filter(Column::Id.ne(id)).one(db).await?;
    if let Some(other) = same_nik {
        return Err(ServiceError::DuplicatePerson {
            field: "nik".into(),
            message: "a beneficiary with this NIK exists".into(),
            beneficiary: other.id,
            regency: other.regency_code,
        });
    }
    if head_of_family {
        let head = Entity::find()
            .filter(Column::KkNumber.eq(kk))
            .filter(Column::IsHeadOfFamily.eq(true))
            .filter(Column::Id.ne(id))
            .one(db)
            .await?;
        if let Some(other) = head {
            return Err(ServiceError::DuplicatePerson {
                field: "isHeadOfFamily".into(),
                message: "this KK already has a head of family".into(),
                beneficiary: other.id,
                regency: other.regency_code,
            });
        }
    }
    Ok(())
}

/// Registers a beneficiary; a NIK or KK first issued outside Kaltim comes back as a warning.
#[tracing::instrument(level = "debug", skip_all, name = "beneficiary::create")]
pub async fn create(
    state: &AppState,
    actor: &Actor,
    input: NewBeneficiary,
) -> Result<(beneficiary::Model, Vec<UserWarning>), ServiceError> {
    let (nik, kk) = (input.nik.clone(), input.kk_number.clone());
    let result = create_checked(state, actor, input).await;
    person_of_duplicate(&state.db, result, &nik, &kk).await
}

/// A `DUPLICATE` the unique index gave (a racing writer got there first) names the person it
/// matched, like the one the check gives, so it is logged as a read too.
async fn person_of_duplicate<T>(
    db: &impl ConnectionTrait,
    result: Result<T, ServiceError>,
    nik: &str,
    kk: &str,
) -> Result<T, ServiceError> {
    let Err(ServiceError::Duplicate { field, message }) = result else { return result };
    let other = match field.as_str() {
        "nik" => Entity::find().filter(Column::Nik.eq(nik)).one(db).await?,
        "isHeadOfFamily" => {
            Entity::find()
                .filter(Column::KkNumber.eq(kk))
                .filter(Column::IsHeadOfFamily.eq(true))
                .one(db)
                .await?
        }
        _ => None,
    };
    Err(match other {
        Some(other) => ServiceError::DuplicatePerson {
            field,
            message,
            beneficiary: other.id,
            regency: other.regency_code,
        },
        None => ServiceError::Duplicate { field, message },
    })
}

async fn create_checked(
    state: &AppState,
    actor: &Actor,
    input: NewBeneficiary,
) -> Result<(beneficiary::Model, Vec<UserWarning>), ServiceError> {
    let today = Utc::now().date_naive();
    // Every problem with the input is reported at once.
    let mut problems = Problems::default();
    let full_name = problems.check(check_name(&input.full_name));
    let nik = problems.check(check_nik("nik", &input.nik, Some(input.sex.into()), &state.regions, today));
    let kk = problems.check(check_kk("kkNumber", &input.kk_number, &state.regions, today));
    problems.check(check_decile(input.decile));
    let regency = problems.check(state.regions.check_regency("regencyCode", &input.regency_code));
    if regency.is_some() {
        let district =
            state.regions.check_district("districtCode", &input.district_code, &input.regency_code);
        if problems.check(district).is_some()
            && let Some(village) = &input.village_code
        {
            problems.check(state.regions.check_village("villageCode", village, &input.district_code));
        }
    }
    problems.finish()?;
    let (Some(full_name), Some(nik), Some(kk)) = (full_name, nik, kk) else {
        return Err(ServiceError::validation("input", "the input did not pass its checks"));
    };
    let mut warnings = nik.warnings;
    if nik.birth_date != input.birth_date {
        warnings.push(UserWarning {
            field: vec!["birthDate".into()],
            message: format!("birth date differs from the one the NIK encodes ({})", nik.birth_date),
        });
    }
    warnings.extend(kk);
    require_region(actor, &input.regency_code)?;

    let txn = state.db.begin().await?;
    let id = input.id.unwrap_or_else(Uuid::now_v7);
    // A client-supplied id of someone else's beneficiary says that person exists: logged as a read.
    let retry = existing_for_retry::<Entity>(&txn, actor, input.id).await;
    if let Err(ServiceError::Duplicate { field, message }) = retry {
        let other = find_any(&txn, id).await?;
        return Err(ServiceError::DuplicatePerson { field, message, beneficiary: id, regency: other });
    }
    if let Some(existing) = retry? {
        return Ok((existing, Vec::new()));
    }
    ensure_unique(&txn, id, &input.nik, &input.kk_number, input.is_head_of_family).await?;
    let active = ActiveModel {
        id: Set(id),
        nik: Set(input.nik),
        kk_number: Set(input.kk_number),
        is_head_of_family: Set(input.is_head_of_family),
        full_name: Set(full_name),
        birth_date: Set(input.birth_date),
        sex: Set(wire(input.sex)),
        phone: Set(input.phone),
        address: Set(input.address),
        regency_code: Set(input.regency_code),
        district_code: Set(input.district_code),
        village_code: Set(input.village_code),
        decile: Set(input.decile),
        decile_source: Set(wire(input.decile_source)),
        decile_assessed_on: Set(input.decile_assessed_on),
        status: Set(wire(BeneficiaryStatus::Active)),
        status_reason: Set(None),
        is_demo: Set(false),
        ..Default::default()
    };
    let model = records::commit_insert::<Entity, _>(txn, actor, active).await?;
    Ok((model, warnings))
}

/// Changes a beneficiary's details under optimistic concurrency.
#[tracing::instrument(level = "debug", skip_all, name = "beneficiary::update")]
pub async fn update(
    state: &AppState,
    actor: &Actor,
    input: BeneficiaryChanges,
) -> Result<(beneficiary::Model, Vec<UserWarning>), ServiceError> {
    let (nik, kk) = (input.nik.clone().unwrap_or_default(), input.kk_number.clone().unwrap_or_default());
    let result = update_checked(state, actor, input).await;
    person_of_duplicate(&state.db, result, &nik, &kk).await
}

async fn update_checked(
    state: &AppState,
    actor: &Actor,
    input: BeneficiaryChanges,
) -> Result<(beneficiary::Model, Vec<UserWarning>), ServiceError> {
    let today = Utc::now().date_naive();
    let txn = state.db.begin().await?;
    let before = records::load_for_write::<Entity>(&txn, actor, input.id, input.expected_version).await?;
    let mut active = ActiveModel { id: NotSet, ..Default::default() };
    let mut warnings = Vec::new();

    // Correcting a NIK or KK is handling personal data: it needs `pii:read`, like registering.
    if (input.nik.is_some() || input.kk_number.is_some()) && !actor.has(crate::auth::Scope::PiiRead) {
        return Err(ServiceError::Forbidden("changing a NIK or KK number needs the `pii:read` scope".into()));
    }
    let nik = input.nik.clone().unwrap_or_else(|| before.nik.clone());
    let kk = input.kk_number.clone().unwrap_or_else(|| before.kk_number.clone());
    let head = input.is_head_of_family.unwrap_or(before.is_head_of_family);
    if let Some(value) = input.nik {
        let sex: Sex =
            before.sex.parse().map_err(|_| ServiceError::validation("nik", "stored sex is unknown"))?;
        warnings.extend(check_nik("nik", &value, Some(sex.into()), &state.regions, today)?.warnings);
        active.nik = Set(value);
    }
    if let Some(value) = input.kk_number {
        warnings.extend(check_kk("kkNumber", &value, &state.regions, today)?);
        active.kk_number = Set(value);
    }
    if let Some(value) = input.is_head_of_family {
        active.is_head_of_family = Set(value);
    }
    if let Some(value) = input.full_name {
        active.full_name = Set(check_name(&value)?);
    }
    if let Some(value) = input.birth_date {
        active.birth_date = Set(value);
    }
    if let Some(value) = input.phone.change() {
        active.phone = Set(value);
    }
    if let Some(value) = input.address.change() {
        active.address = Set(value);
    }
    let regency = input.regency_code.clone().unwrap_or_else(|| before.regency_code.clone());
    let district = input.district_code.clone().unwrap_or_else(|| before.district_code.clone());
    if input.regency_code.is_some() || input.district_code.is_some() {
        state.regions.check_regency("regencyCode", &regency)?;
        state.regions.check_district("districtCode", &district, &regency)?;
        require_region(actor, &regency)?;
        active.regency_code = Set(regency);
        active.district_code = Set(district.clone());
    }
    if let Some(value) = input.village_code.change() {
        if let Some(village) = &value {
            state.regions.check_village("villageCode", village, &district)?;
        }
        active.village_code = Set(value);
    }
    if let Some(value) = input.decile {
        check_decile(value)?;
        let (Some(source), Some(as_of)) = (input.decile_source, input.decile_assessed_on) else {
            return Err(ServiceError::validation(
                "decileSource",
                "a new decile needs its source and assessed-on date",
            ));
        };
        active.decile = Set(value);
        active.decile_source = Set(wire(source));
        active.decile_assessed_on = Set(as_of);
    }
    if !sea_orm::ActiveModelTrait::is_changed(&active) {
        return Err(ServiceError::validation("input", "nothing to change"));
    }
    ensure_unique(&txn, before.id, &nik, &kk, head).await?;
    let after = records::update::<Entity, _>(&txn, actor, &before, active, CaseAction::Updated).await?;
    if after.regency_code != before.regency_code {
        move_case(&txn, after.id, &after.regency_code).await?;
    }
    crate::events::commit(txn).await?;
    Ok((after, warnings))
}

/// Moves a beneficiary's records to their new regency/city, in the update's transaction, so that
/// region bounds follow the person: the new regency's agencies see the whole case, the old one's
/// no longer do. The beneficiary's UPDATED event (changed `regencyCode`) records the move.
pub(crate) async fn move_case(
    txn: &impl ConnectionTrait,
    beneficiary: Uuid,
    regency: &str,
) -> Result<(), ServiceError> {
    use entity::{
        assistance, business, infrastructure_request, loan_application, market_service, monitoring_visit,
        referral, training_enrollment,
    };
    macro_rules! relocate {
        ($($module:ident),+) => {$(
            $module::Entity::update_many()
                .col_expr($module::Column::RegencyCode, Expr::value(regency))
                .filter($module::Column::BeneficiaryId.eq(beneficiary))
                .exec(txn)
                .await?;
        )+};
    }
    relocate!(
        assistance,
        business,
        infrastructure_request,
        loan_application,
        market_service,
        monitoring_visit,
        referral,
        training_enrollment
    );
    Ok(())
}

/// A lifecycle move.
#[tracing::instrument(level = "debug", skip_all, name = "beneficiary::change_status")]
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    to: &Move<BeneficiaryStatus>,
    change: StatusChange,
) -> Result<beneficiary::Model, ServiceError> {
    records::transition::<Entity, ActiveModel, _, _>(&state.db, actor, to, change, |_, _, ()| Ok(())).await
}
