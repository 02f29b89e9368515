//! Refresh-token families: one item per sign-in.
//!
//! `FAMILY#<id>`/`FAMILY` holds user_id, generation (the generation of the one refresh token of
//! the family that may be used next), rotated_at, auth_time (the password sign-in that
//! started it), revoked and expires_at (TTL: the last refresh token's expiry plus a day).
//! A rotation moves `generation` on with one conditional UpdateItem, so of two refreshes with the
//! same token exactly one rotates.

use serde::{Deserialize, Serialize};

use super::{Db, Item, StoreError, conditional, key, n};

fn family_key(id: &str) -> Item {
    key(format!("FAMILY#{id}"), "FAMILY")
}

/// One sign-in's refresh-token family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Family {
    pub id: String,
    pub user_id: u64,
    pub generation: u32,
    /// Epoch seconds of the last rotation (or of the sign-in).
    pub rotated_at: i64,
    /// Epoch seconds of the password sign-in; `None` for a family continued from a token
    /// issued before families existed.
    #[serde(default)]
    pub auth_time: Option<i64>,
    #[serde(default)]
    pub revoked: bool,
    pub expires_at: i64,
}

impl Db {
    pub async fn create_family(&self, family: &Family) -> Result<(), StoreError> {
        let mut item: Item = serde_dynamo::to_item(family)?;
        item.extend(family_key(&family.id));
        self.client
            .put_item()
            .table_name(&self.tables.app)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(StoreError::dynamo("PutItem"))?;
        Ok(())
    }

    pub async fn get_family(&self, id: &str) -> Result<Option<Family>, StoreError> {
        self.get_app_item(family_key(id), true).await
    }

    /// Moves the family from generation `seen` to the next. `false` if it was no longer at
    /// `seen`, was revoked, or is gone.
    pub async fn rotate_family(
        &self,
        id: &str,
        seen: u32,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.app)
            .set_key(Some(family_key(id)))
            .update_expression("SET generation = :next, rotated_at = :now, expires_at = :exp")
            .condition_expression("generation = :seen AND revoked = :no")
            .expression_attribute_values(":seen", n(seen))
            .expression_attribute_values(":next", n(seen.saturating_add(1)))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":exp", n(expires_at))
            .expression_attribute_values(
                ":no",
                aws_sdk_dynamodb::types::AttributeValue::Bool(false),
            )
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_some())
    }

    /// Revokes every token of the family, for good (a missing family stays missing).
    pub async fn revoke_family(&self, id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.app)
            .set_key(Some(family_key(id)))
            .update_expression("SET revoked = :yes")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(
                ":yes",
                aws_sdk_dynamodb::types::AttributeValue::Bool(true),
            )
            .send()
            .await;
        conditional("UpdateItem", result)?;
        Ok(())
    }
}
