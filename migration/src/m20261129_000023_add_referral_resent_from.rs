//! A declined referral can be re-sent to another agency: the new referral names the one it
//! re-sends.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("referral").add_column(uuid_null("resent_from")).to_owned())
            .await?;
        // Unique: a declined referral is re-sent once, also when two requests race (NULLs, the
        // referrals that re-send nothing, are not compared).
        manager
            .create_index(
                Index::create()
                    .name("ux_referral_resent_from")
                    .table("referral")
                    .col("resent_from")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ux_referral_resent_from").table("referral").to_owned())
            .await?;
        manager.alter_table(Table::alter().table("referral").drop_column("resent_from").to_owned()).await
    }
}
