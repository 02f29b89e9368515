//! Sites and their tracking-id guards.
//!
//! `SITE#<id>`/`SITE` holds the site, with `gsi1pk = USER#<owner>#SITES` and
//! `gsi1sk = SITE#<zero-padded id>` so one Query lists an owner's sites newest first.
//! `TRACK#<tracking_id>`/`TRACK` maps the public tracking id to the site.

use std::time::SystemTime;

use aws_sdk_dynamodb::types::{Delete, ReturnValue, TransactWriteItem, Update};

use super::users::{put, user_key};
use super::{Db, Item, StoreError, conditional, key, n, s, transact};
use crate::model::Site;

/// A site write's condition: the owner (`:uid`) and the generation (`:current`, with
/// `:zero` for sites stored before generations existed) are still what the caller read.
const SAME_OWNER_AND_GENERATION: &str = "user_id = :uid AND (generation = :current OR (attribute_not_exists(generation) AND :current = :zero))";

fn site_key(id: u64) -> Item {
    key(format!("SITE#{id}"), "SITE")
}

fn tracking_key(tracking_id: &str) -> Item {
    key(format!("TRACK#{tracking_id}"), "TRACK")
}

fn owner_partition(user_id: u64) -> String {
    format!("USER#{user_id}#SITES")
}

/// Fields a site update may change; `None` keeps the stored value.
#[derive(Debug, Default, Clone)]
pub struct SiteChanges {
    pub name: Option<String>,
    pub domain: Option<String>,
    pub timezone: Option<String>,
}

/// Why a site was not created.
#[derive(Debug, PartialEq, Eq)]
pub enum SiteRefused {
    /// The user already has the maximum number of sites.
    Limit,
    /// The user item is gone (the account was deleted meanwhile).
    NoUser,
}

/// The user's count of sites (`ADD`ed with each create and delete, in the same
/// transaction). Users from before the count started at 0 whatever they had.
const SITES_COUNT: &str = "sites";

impl Db {
    /// Stores a new site and counts it on its user, if the user exists and has fewer than
    /// `max` sites.
    pub async fn create_site(
        &self,
        site: &Site,
        max: u64,
    ) -> Result<Result<(), SiteRefused>, StoreError> {
        let table = &self.tables.app;
        let mut item: Item = serde_dynamo::to_item(site)?;
        item.extend(site_key(site.id));
        item.insert("gsi1pk".into(), s(owner_partition(site.user_id)));
        item.insert("gsi1sk".into(), s(format!("SITE#{:020}", site.id)));
        let mut guard = tracking_key(&site.tracking_id);
        guard.insert("site_id".into(), n(site.id));
        let count = Update::builder()
            .table_name(table)
            .set_key(Some(user_key(site.user_id)))
            .update_expression("ADD #sites :one")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(#sites) OR #sites < :max)",
            )
            .expression_attribute_names("#sites", SITES_COUNT)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let actions = vec![
            put(table, item, "attribute_not_exists(pk)")?,
            put(table, guard, "attribute_not_exists(pk)")?,
            TransactWriteItem::builder().update(count).build(),
        ];
        match transact(&self.client, actions).await? {
            Ok(()) => Ok(Ok(())),
            Err(2) => match self.get_user(site.user_id).await? {
                Some(_) => Ok(Err(SiteRefused::Limit)),
                None => Ok(Err(SiteRefused::NoUser)),
            },
            Err(index) => Err(StoreError::Malformed(format!(
                "site {} collided (action {index})",
                site.id
            ))),
        }
    }

    pub async fn get_site(&self, id: u64) -> Result<Option<Site>, StoreError> {
        self.get_app_item(site_key(id), true).await
    }

    /// The site behind a public tracking id (eventually consistent: the beacon's hot path).
    pub async fn find_site_by_tracking_id(
        &self,
        tracking_id: &str,
    ) -> Result<Option<Site>, StoreError> {
        match self.guard_target(tracking_key(tracking_id), false).await? {
            Some(id) => self.get_site(id).await,
            None => Ok(None),
        }
    }

    /// Every site of one owner (`gsi1`, eventually consistent; the caller orders them).
    pub async fn list_sites(&self, user_id: u64) -> Result<Vec<Site>, StoreError> {
        self.query_gsi1(owner_partition(user_id)).await
    }

    /// Applies `changes` if the site still belongs to `user_id`; returns the new site, or
    /// `None` if it is gone or changed owner meanwhile.
    pub async fn update_site(
        &self,
        id: u64,
        user_id: u64,
        changes: &SiteChanges,
        updated_at: &str,
    ) -> Result<Option<Site>, StoreError> {
        let mut sets = vec!["updated_at = :t"];
        let mut request = self
            .client
            .update_item()
            .table_name(&self.tables.app)
            .set_key(Some(site_key(id)))
            .condition_expression("user_id = :uid")
            .expression_attribute_values(":uid", n(user_id))
            .expression_attribute_values(":t", s(updated_at))
            .return_values(ReturnValue::AllNew);
        if let Some(name) = &changes.name {
            sets.push("#name = :name");
            request = request
                .expression_attribute_names("#name", "name")
                .expression_attribute_values(":name", s(name));
        }
        if let Some(domain) = &changes.domain {
            sets.push("#domain = :domain");
            request = request
                .expression_attribute_names("#domain", "domain")
                .expression_attribute_values(":domain", s(domain));
        }
        if let Some(timezone) = &changes.timezone {
            sets.push("#tz = :tz");
            request = request
                .expression_attribute_names("#tz", "timezone")
                .expression_attribute_values(":tz", s(timezone));
        }
        let result = request
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await;
        match conditional("UpdateItem", result)?.and_then(|out| out.attributes) {
            Some(item) => Ok(Some(serde_dynamo::from_item(item)?)),
            None => Ok(None),
        }
    }

    /// Starts the site's next generation (its statistics and events read as empty at once)
    /// and queues a purge of the current one, in one transaction. Returns `false` if the
    /// site is gone or its generation moved meanwhile.
    pub async fn clear_site_stats(&self, site: &Site) -> Result<bool, StoreError> {
        let table = &self.tables.app;
        let bump = Update::builder()
            .table_name(table)
            .set_key(Some(site_key(site.id)))
            .update_expression("SET generation = :next")
            .condition_expression(SAME_OWNER_AND_GENERATION)
            .expression_attribute_values(":uid", n(site.user_id))
            .expression_attribute_values(":current", n(site.generation))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":next", n(site.generation + 1))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let actions = vec![
            TransactWriteItem::builder().update(bump).build(),
            super::purge::purge_job(table, site.id, site.generation, SystemTime::now())?,
        ];
        Ok(transact(&self.client, actions).await?.is_ok())
    }

    /// Deletes the site and its tracking-id guard and queues a purge of its current
    /// generation, all in one transaction, if it still belongs to its owner and is still
    /// at the generation `site` was read with. Returns `false` if it is gone, changed owner
    /// or moved to another generation meanwhile: the caller reads it again and retries, so
    /// a concurrent clear can never leave the generation it started without a purge job.
    pub async fn delete_site(&self, site: &Site) -> Result<bool, StoreError> {
        let table = &self.tables.app;
        let delete_site = Delete::builder()
            .table_name(table)
            .set_key(Some(site_key(site.id)))
            .condition_expression(SAME_OWNER_AND_GENERATION)
            .expression_attribute_values(":uid", n(site.user_id))
            .expression_attribute_values(":current", n(site.generation))
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let delete_guard = Delete::builder()
            .table_name(table)
            .set_key(Some(tracking_key(&site.tracking_id)))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        // Uncounted on its user (who exists while their sites do: account deletion deletes
        // the user last).
        let uncount = Update::builder()
            .table_name(table)
            .set_key(Some(user_key(site.user_id)))
            .update_expression("ADD #sites :minus")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#sites", SITES_COUNT)
            .expression_attribute_values(":minus", n(-1))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let actions = vec![
            TransactWriteItem::builder().delete(delete_site).build(),
            TransactWriteItem::builder().delete(delete_guard).build(),
            super::purge::purge_job(table, site.id, site.generation, SystemTime::now())?,
            TransactWriteItem::builder().update(uncount).build(),
        ];
        Ok(transact(&self.client, actions).await?.is_ok())
    }
}
