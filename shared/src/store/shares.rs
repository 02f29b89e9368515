//! Share links: a public, read-only view of one site's statistics.
//!
//! `SHARE#<token>`/`SHARE` holds the share (its site, id, expiry, optional password hash),
//! so a public request resolves its token with one strongly consistent GetItem; revoking
//! deletes the item, so a revoked token answers 404 at once. `gsi1pk = SITE#<id>#SHARES`,
//! `gsi1sk = SHARE#<zero-padded id>` lists a site's shares for its owner.

use serde::{Deserialize, Serialize};

use super::{Db, Item, StoreError, conditional, key, s};

fn share_key(token: &str) -> Item {
    key(format!("SHARE#{token}"), "SHARE")
}

fn site_partition(site_id: u64) -> String {
    format!("SITE#{site_id}#SHARES")
}

/// A stored share link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub id: u64,
    pub site_id: u64,
    /// The secret part of the link (at least 128 random bits, URL-safe).
    pub token: String,
    pub created_at: String,
    /// RFC 3339; none: never expires.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// argon2id PHC string when the share has a password.
    #[serde(default)]
    pub password_hash: Option<String>,
}

impl Db {
    pub async fn create_share(&self, share: &Share) -> Result<(), StoreError> {
        let mut item: Item = serde_dynamo::to_item(share)?;
        item.extend(share_key(&share.token));
        item.insert("gsi1pk".into(), s(site_partition(share.site_id)));
        item.insert("gsi1sk".into(), s(format!("SHARE#{:020}", share.id)));
        let put = self
            .client
            .put_item()
            .table_name(&self.tables.app)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match conditional("PutItem", put)? {
            Some(_) => Ok(()),
            None => Err(StoreError::Malformed(format!(
                "share token of share {} collided",
                share.id
            ))),
        }
    }

    /// The share behind a token (strongly consistent: a revoked share is gone at once).
    pub async fn get_share(&self, token: &str) -> Result<Option<Share>, StoreError> {
        self.get_app_item(share_key(token), true).await
    }

    /// A site's shares, oldest first (eventually consistent).
    pub async fn list_shares(&self, site_id: u64) -> Result<Vec<Share>, StoreError> {
        self.query_gsi1(site_partition(site_id)).await
    }

    pub async fn delete_share(&self, token: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.tables.app)
            .set_key(Some(share_key(token)))
            .send()
            .await
            .map_err(StoreError::dynamo("DeleteItem"))?;
        Ok(())
    }
}
