//! API keys.
//!
//! `KEY#<sha256 hex>`/`KEY` holds one key (id, user_id, name, scope, prefix, key_hash,
//! created_at, last_used_at), so a request resolves its key with one GetItem on the hash;
//! `gsi1pk = USER#<owner>#KEYS`, `gsi1sk = KEY#<20-digit id>` list an owner's keys.
//! The user item counts its keys in `api_keys`, changed in the same transaction as the key
//! item, so the per-user cap holds under parallel creations.

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem, Update};

use super::users::put;
use super::{Db, Item, StoreError, conditional, key, n, s, transact};
use crate::model::ApiKey;

fn key_key(hash: &str) -> Item {
    key(format!("KEY#{hash}"), "KEY")
}

fn owner_partition(user_id: u64) -> String {
    format!("USER#{user_id}#KEYS")
}

fn user_key(id: u64) -> Item {
    key(format!("USER#{id}"), "USER")
}

/// Why a key was not created.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyRefused {
    /// The user already has the maximum number of keys.
    Limit,
    /// The user item is gone (the account was deleted meanwhile).
    NoUser,
}

impl Db {
    /// Stores a new key and counts it on its user, if the user exists and has fewer than
    /// `max` keys.
    pub async fn create_api_key(
        &self,
        api_key: &ApiKey,
        max: u64,
    ) -> Result<Result<(), KeyRefused>, StoreError> {
        let table = &self.tables.app;
        let mut item: Item = serde_dynamo::to_item(api_key)?;
        item.extend(key_key(&api_key.key_hash));
        item.insert("gsi1pk".into(), s(owner_partition(api_key.user_id)));
        item.insert("gsi1sk".into(), s(format!("KEY#{:020}", api_key.id)));
        let count = Update::builder()
            .table_name(table)
            .set_key(Some(user_key(api_key.user_id)))
            .update_expression("ADD api_keys :one")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(api_keys) OR api_keys < :max)",
            )
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let actions = vec![
            put(table, item, "attribute_not_exists(pk)")?,
            TransactWriteItem::builder().update(count).build(),
        ];
        match transact(&self.client, actions).await? {
            Ok(()) => Ok(Ok(())),
            Err(0) => Err(StoreError::Malformed(format!(
                "API key {} collided with a stored hash",
                api_key.id
            ))),
            Err(_) => match self.get_user(api_key.user_id).await? {
                Some(_) => Ok(Err(KeyRefused::Limit)),
                None => Ok(Err(KeyRefused::NoUser)),
            },
        }
    }

    /// The key with this hash (strongly consistent: a revoked key fails at once).
    pub async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKey>, StoreError> {
        self.get_app_item(key_key(hash), true).await
    }

    /// Every key of one owner (`gsi1`, eventually consistent), lowest id first.
    pub async fn list_api_keys(&self, user_id: u64) -> Result<Vec<ApiKey>, StoreError> {
        self.query_gsi1(owner_partition(user_id)).await
    }

    /// Deletes a key and uncounts it on its user, in one transaction. Returns `false` if
    /// the key was already gone. If the user is gone, the key item is deleted alone.
    pub async fn revoke_api_key(&self, api_key: &ApiKey) -> Result<bool, StoreError> {
        let table = &self.tables.app;
        let delete = Delete::builder()
            .table_name(table)
            .set_key(Some(key_key(&api_key.key_hash)))
            .condition_expression("user_id = :uid")
            .expression_attribute_values(":uid", n(api_key.user_id))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        // `attribute_exists(pk)`: an ADD on a missing user would create a bare user item.
        let uncount = Update::builder()
            .table_name(table)
            .set_key(Some(user_key(api_key.user_id)))
            .update_expression("ADD api_keys :minus")
            .condition_expression("attribute_exists(pk) AND api_keys > :zero")
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let actions = vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().update(uncount).build(),
        ];
        match transact(&self.client, actions).await? {
            Ok(()) => Ok(true),
            Err(0) => Ok(false),
            Err(_) => self.delete_api_key_item(api_key).await,
        }
    }

    /// Deletes a key item without touching its user's count (account deletion, where the
    /// user item goes last). Returns `false` if it was already gone.
    pub async fn delete_api_key_item(&self, api_key: &ApiKey) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.tables.app)
            .set_key(Some(key_key(&api_key.key_hash)))
            .condition_expression("user_id = :uid")
            .expression_attribute_values(":uid", n(api_key.user_id))
            .send()
            .await;
        Ok(conditional("DeleteItem", result)?.is_some())
    }

    /// Sets `last_used_at = now` unless it is already at or after `not_before` (so parallel
    /// requests write it at most once per interval). Returns whether it wrote. Both are
    /// RFC 3339 strings of the same fixed format, so they compare as text.
    pub async fn touch_api_key(
        &self,
        hash: &str,
        now: &str,
        not_before: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.app)
            .set_key(Some(key_key(hash)))
            .update_expression("SET last_used_at = :now")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(last_used_at) OR last_used_at < :nb)",
            )
            .expression_attribute_values(":now", s(now))
            .expression_attribute_values(":nb", s(not_before))
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_some())
    }
}
