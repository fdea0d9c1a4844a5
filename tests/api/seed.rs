//! Demo data: the real programme's scale, valid synthetic identities, every record with its event.

use std::collections::BTreeMap;

use sea_orm::{EntityTrait, PaginatorTrait};
use sinergi_api::{identity::check_nik, regions::Regions};

use crate::helpers::spawn_app;

#[tokio::test]
async fn demo_data_covers_every_regency_with_valid_identities() {
    let app = spawn_app().await;
    let regions = Regions::load();
    let seeded = sinergi_api::seed::seed_if_empty(&app.db, &regions, &sinergi_api::rules::Rules::default())
        .await
        .expect("seed");
    assert_eq!(seeded, 1680);
    assert_eq!(
        sinergi_api::seed::seed_if_empty(&app.db, &regions, &sinergi_api::rules::Rules::default())
            .await
            .expect("again"),
        0,
        "seeding is once"
    );

    let people = entity::beneficiary::Entity::find().all(&app.db).await.expect("people");
    let mut per_regency: BTreeMap<String, usize> = BTreeMap::new();
    let today = chrono::Utc::now().date_naive();
    for p in &people {
        *per_regency.entry(p.regency_code.clone()).or_default() += 1;
        assert!(p.is_demo);
        let info = check_nik("nik", &p.nik, None, &regions, today)
            .unwrap_or_else(|e| panic!("{} invalid: {e}", p.nik));
        assert_eq!(info.birth_date, p.birth_date, "{}", p.nik);
    }
    assert_eq!(per_regency.len(), 10);
    assert!(per_regency.values().all(|n| *n == 168));

    let statuses: std::collections::BTreeSet<String> = entity::business::Entity::find()
        .all(&app.db)
        .await
        .expect("businesses")
        .into_iter()
        .map(|b| b.status)
        .collect();
    for status in
        ["PROPOSED", "APPROVED", "EQUIPPED", "RUNNING", "STALLED", "CLOSED", "GRADUATED", "REJECTED"]
    {
        assert!(statuses.contains(status), "a business in {status}");
    }
    let records = entity::beneficiary::Entity::find().count(&app.db).await.expect("n")
        + entity::business::Entity::find().count(&app.db).await.expect("n")
        + entity::assistance::Entity::find().count(&app.db).await.expect("n")
        + entity::training::Entity::find().count(&app.db).await.expect("n")
        + entity::training_enrollment::Entity::find().count(&app.db).await.expect("n")
        + entity::loan_application::Entity::find().count(&app.db).await.expect("n")
        + entity::infrastructure_request::Entity::find().count(&app.db).await.expect("n")
        + entity::referral::Entity::find().count(&app.db).await.expect("n")
        + entity::monitoring_visit::Entity::find().count(&app.db).await.expect("n")
        + entity::volunteer::Entity::find().count(&app.db).await.expect("n")
        + entity::market_service::Entity::find().count(&app.db).await.expect("n");
    assert_eq!(app.event_count().await as u64, records, "every seeded record has its event");

    // Volunteers visit the businesses assigned to them; graduated businesses stand on the
    // ladder's top; the cohort spreads over the levels.
    let businesses = entity::business::Entity::find().all(&app.db).await.expect("businesses");
    assert_eq!(entity::volunteer::Entity::find().count(&app.db).await.expect("n"), 30);
    assert!(businesses.iter().filter(|b| b.status == "RUNNING").all(|b| b.volunteer_id.is_some()));
    let graduated: Vec<_> = businesses.iter().filter(|b| b.status == "GRADUATED").collect();
    assert!(
        graduated.iter().all(|b| b.level == 6),
        "{:?}",
        graduated.iter().map(|b| b.level).collect::<Vec<_>>()
    );
    let levels: std::collections::BTreeSet<i32> = businesses.iter().map(|b| b.level).collect();
    assert!(levels.len() >= 4, "levels in the demo: {levels:?}");
    // Graduated businesses know when they graduated, and some closed after graduating.
    assert!(graduated.iter().all(|b| b.graduated_on.is_some()));
    let relapsed = businesses.iter().filter(|b| b.status == "CLOSED" && b.graduated_on.is_some()).count();
    assert!(relapsed > 0, "a business that closed after graduating");
    // DISPERINDAGKOP's market services, in every state; a graduated business's market access
    // is one of them.
    let services = entity::market_service::Entity::find().all(&app.db).await.expect("services");
    let states: std::collections::BTreeSet<&str> = services.iter().map(|m| m.status.as_str()).collect();
    assert!(["PLANNED", "IN_PROGRESS", "COMPLETED"].iter().all(|s| states.contains(s)), "{states:?}");
    assert!(
        graduated.iter().all(|b| services.iter().any(|m| m.business_id == b.id && m.status == "COMPLETED"))
    );
}

/// Reads every row of `E` by position (`pgrecord`) and by SeaORM's reader: the same models. On
/// PostgreSQL the rows must really be read by position; elsewhere SeaORM reads them.
async fn read_both_ways<E>(db: &sea_orm::DatabaseConnection, id: E::Column) -> usize
where
    E: sea_orm::EntityTrait,
    E::Model: sinergi_api::pgrecord::BinaryModel + PartialEq + std::fmt::Debug,
{
    use sea_orm::{ConnectionTrait, QueryOrder, QueryTrait};
    let select = || E::find().order_by_asc(id);
    let expected = select().all(db).await.expect("read by SeaORM");
    let positional = sinergi_api::pgrecord::all(db, select()).await.expect("read by position");
    assert_eq!(positional, expected);
    let rows = db.query_all_raw(select().build(db.get_database_backend())).await.expect("rows");
    let positions = sinergi_api::pgrecord::Positions::<E>::of(rows.first());
    assert_eq!(positions.by_position(), crate::helpers::postgres() && !rows.is_empty());
    if positions.by_position() {
        // Not one row left to SeaORM's reader.
        let read: Vec<E::Model> =
            rows.iter().map(|row| positions.read(row).expect("every row reads by position")).collect();
        assert_eq!(read, expected);
    }
    expected.len()
}

#[tokio::test]
async fn rows_read_by_position_are_the_models_seaorm_reads() {
    let app = spawn_app().await;
    let regions = Regions::load();
    sinergi_api::seed::seed_if_empty(&app.db, &regions, &sinergi_api::rules::Rules::default())
        .await
        .expect("seed");
    let db = &app.db;
    use entity::*;
    // The tables lists and loaders read, with their NULLs (reasons, closing visits, start dates,
    // revenues, land proofs).
    let counts = [
        read_both_ways::<beneficiary::Entity>(db, beneficiary::Column::Id).await,
        read_both_ways::<business::Entity>(db, business::Column::Id).await,
        read_both_ways::<loan_application::Entity>(db, loan_application::Column::Id).await,
        read_both_ways::<monitoring_visit::Entity>(db, monitoring_visit::Column::Id).await,
        read_both_ways::<referral::Entity>(db, referral::Column::Id).await,
        read_both_ways::<training::Entity>(db, training::Column::Id).await,
        read_both_ways::<training_enrollment::Entity>(db, training_enrollment::Column::Id).await,
        read_both_ways::<infrastructure_request::Entity>(db, infrastructure_request::Column::Id).await,
        read_both_ways::<market_service::Entity>(db, market_service::Column::Id).await,
        read_both_ways::<assistance::Entity>(db, assistance::Column::Id).await,
        read_both_ways::<volunteer::Entity>(db, volunteer::Column::Id).await,
        read_both_ways::<pii_access_log::Entity>(db, pii_access_log::Column::Id).await,
        read_both_ways::<webhook_delivery::Entity>(db, webhook_delivery::Column::Id).await,
    ];
    assert!(counts[..5].iter().all(|n| *n > 0), "the demo fills the case's main tables: {counts:?}");

    // Statements whose columns are not the entity's in order are read by name, as before.
    use sea_orm::{ConnectionTrait, EntityTrait, Iterable, QuerySelect, QueryTrait, sea_query::Expr};
    let people = || beneficiary::Entity::find().order_by_id_asc();
    let expected = people().all(db).await.expect("people");
    let cases = [
        ("reversed columns", people().select_only().columns(beneficiary::Column::iter().rev()), false),
        ("a column after the entity's", people().column_as(Expr::val(1), "extra"), true),
        ("a later column of an entity column's name", people().column_as(Expr::val("x"), "full_name"), false),
    ];
    for (case, select, by_position) in cases {
        let rows = db.query_all_raw(select.clone().build(db.get_database_backend())).await.expect("rows");
        let positions = sinergi_api::pgrecord::Positions::<beneficiary::Entity>::of(rows.first());
        assert_eq!(positions.by_position(), by_position && crate::helpers::postgres(), "{case}");
        let read = sinergi_api::pgrecord::all(db, select.clone()).await.expect("read");
        assert_eq!(read, select.all(db).await.expect("read by SeaORM"), "{case}");
        if !case.starts_with("a later column") {
            assert_eq!(read, expected, "{case}");
        }
    }
}
