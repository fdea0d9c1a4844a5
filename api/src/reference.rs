//! Reference data every token may read: agencies and Kaltim's regions, plus `me`.

use async_graphql::{Context, Enum, Object, SimpleObject};
use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set, sea_query::OnConflict};

use crate::{auth::Me, context::ContextExt, policy::Policy, records::EntityType};

/// Writes the policy's agencies into the `agency` table (idempotent; names follow the policy).
pub async fn sync_agencies(db: &impl ConnectionTrait, policy: &Policy) -> Result<(), DbErr> {
    let rows = policy.agencies().map(|a| entity::agency::ActiveModel {
        code: Set(a.code.clone()),
        name: Set(a.name.clone()),
        created_at: Set(Utc::now()),
    });
    entity::agency::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(entity::agency::Column::Code)
                .update_column(entity::agency::Column::Name)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Records an agency's API client (a token's `sub`) the first time a token is issued for it.
pub async fn register_client(db: &impl ConnectionTrait, agency: &str, client: &str) -> Result<(), DbErr> {
    entity::api_client::Entity::insert(entity::api_client::ActiveModel {
        id: Set(format!("{agency}/{client}")),
        agency_code: Set(agency.to_owned()),
        name: Set(client.to_owned()),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    })
    .on_conflict(OnConflict::column(entity::api_client::Column::Id).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Level of a region.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum RegionLevel {
    /// Province (provinsi).
    Province,
    /// Regency (kabupaten).
    Regency,
    /// City (kota), at the same level as a regency.
    City,
    /// District (kecamatan).
    District,
}

/// A Kemendagri region (wilayah) of Kalimantan Timur.
#[derive(SimpleObject)]
pub struct Region {
    /// Kemendagri code without dots (the scheme NIK and KK use).
    pub code: String,
    /// Level.
    pub level: RegionLevel,
    /// Name.
    pub name: String,
    /// Parent's Kemendagri code.
    pub parent_code: Option<String>,
    /// BPS code of a regency; BPS numbers some regencies differently, so never use it as a key.
    pub bps_code: Option<String>,
}

/// An agency (OPD, organisasi perangkat daerah).
#[derive(SimpleObject)]
pub struct Agency {
    /// Code used in tokens and records, e.g. `DINSOS`.
    pub code: String,
    /// Name.
    pub name: String,
    /// Record types it owns: creates, updates and moves along their lifecycles.
    pub owns: Vec<EntityType>,
}

/// Reference queries; any valid token may read them.
#[derive(Default)]
pub struct ReferenceQuery;

#[Object]
impl ReferenceQuery {
    /// The caller's own token: agency, client, scopes, regions.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Me> {
        Ok(Me::from(ctx.actor()?))
    }

    /// Kaltim's regions (Kemendagri codes), optionally of one level and/or under one parent.
    async fn regions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only regions of this level.")] level: Option<RegionLevel>,
        #[graphql(
            desc = "Only the regions under this Kemendagri code (e.g. `6472` for Samarinda's districts); the regencies/cities of Kaltim when absent."
        )]
        parent_code: Option<String>,
    ) -> async_graphql::Result<Vec<Region>> {
        ctx.actor()?;
        let regions = &ctx.state()?.regions;
        let wanted = level.map(|l| match l {
            RegionLevel::Province => "province",
            RegionLevel::Regency => "regency",
            RegionLevel::City => "city",
            RegionLevel::District => "district",
        });
        Ok(["province", "regency", "city", "district"]
            .into_iter()
            .filter(|l| wanted.is_none_or(|w| w == *l))
            .flat_map(|l| regions.of_level(l))
            .filter(|r| parent_code.as_ref().is_none_or(|p| r.parent_code.as_ref() == Some(p)))
            .map(|r| Region {
                code: r.code.clone(),
                level: match r.level.as_str() {
                    "province" => RegionLevel::Province,
                    "regency" => RegionLevel::Regency,
                    "city" => RegionLevel::City,
                    _ => RegionLevel::District,
                },
                name: r.name.clone(),
                parent_code: r.parent_code.clone(),
                bps_code: r.bps_code.clone(),
            })
            .collect())
    }

    /// The agencies (OPD) of the access policy.
    async fn agencies(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Agency>> {
        ctx.actor()?;
        let policy = &ctx.state()?.policy;
        Ok(policy
            .agencies()
            .map(|a| Agency {
                code: a.code.clone(),
                name: a.name.clone(),
                owns: a.owns.iter().copied().collect(),
            })
            .collect())
    }
}
