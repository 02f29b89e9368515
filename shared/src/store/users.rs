//! Users and their e-mail guards.
//!
//! `USER#<id>`/`USER` holds the user; `EMAIL#<email>`/`EMAIL` reserves an address for one
//! user. Both are written in one transaction, so an address is unique even under races.

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};

use super::{Db, Item, StoreError, conditional, key, n, s, transact};
use crate::model::User;

pub(crate) fn user_key(id: u64) -> Item {
    key(format!("USER#{id}"), "USER")
}

fn email_key(email: &str) -> Item {
    key(format!("EMAIL#{email}"), "EMAIL")
}

/// The e-mail address already belongs to someone.
#[derive(Debug, PartialEq, Eq)]
pub struct EmailTaken;

impl Db {
    fn user_item(&self, user: &User) -> Result<Item, StoreError> {
        let mut item: Item = serde_dynamo::to_item(user)?;
        item.extend(user_key(user.id));
        Ok(item)
    }

    /// Stores a new user and reserves its e-mail, atomically.
    pub async fn create_user(&self, user: &User) -> Result<Result<(), EmailTaken>, StoreError> {
        let table = &self.tables.app;
        let mut guard = email_key(&user.email);
        guard.insert("user_id".into(), n(user.id));
        let actions = vec![
            put(table, guard, "attribute_not_exists(pk)")?,
            put(table, self.user_item(user)?, "attribute_not_exists(pk)")?,
        ];
        Ok(transact(&self.client, actions)
            .await?
            .map_err(|_| EmailTaken))
    }

    pub async fn get_user(&self, id: u64) -> Result<Option<User>, StoreError> {
        self.get_app_item(user_key(id), true).await
    }

    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        match self.guard_target(email_key(email), true).await? {
            Some(id) => self.get_user(id).await,
            None => Ok(None),
        }
    }

    /// Saves a changed username and e-mail. A new e-mail is reserved and the old one
    /// released in the same transaction, which also stores `updated.token_version` (an
    /// e-mail change revokes earlier tokens). `Ok(Err(EmailTaken))` if the address is in
    /// use.
    pub async fn update_profile(
        &self,
        old: &User,
        updated: &User,
    ) -> Result<Result<(), EmailTaken>, StoreError> {
        let table = &self.tables.app;
        let email_changes = updated.email != old.email;
        let mut update = Update::builder()
            .table_name(table)
            .set_key(Some(user_key(old.id)))
            .update_expression(if email_changes {
                "SET username = :u, email = :e, updated_at = :t, token_version = :v"
            } else {
                "SET username = :u, email = :e, updated_at = :t"
            })
            .condition_expression("email = :old")
            .expression_attribute_values(":u", s(&updated.username))
            .expression_attribute_values(":e", s(&updated.email))
            .expression_attribute_values(":t", s(&updated.updated_at))
            .expression_attribute_values(":old", s(&old.email));
        if email_changes {
            update = update.expression_attribute_values(":v", n(updated.token_version));
        }
        let update = update
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let mut actions = vec![TransactWriteItem::builder().update(update).build()];
        if email_changes {
            let mut guard = email_key(&updated.email);
            guard.insert("user_id".into(), n(updated.id));
            actions.insert(0, put(table, guard, "attribute_not_exists(pk)")?);
            let release = Delete::builder()
                .table_name(table)
                .set_key(Some(email_key(&old.email)))
                .condition_expression("user_id = :id")
                .expression_attribute_values(":id", n(old.id))
                .build()
                .map_err(|e| StoreError::Malformed(e.to_string()))?;
            actions.push(TransactWriteItem::builder().delete(release).build());
        }
        Ok(transact(&self.client, actions)
            .await?
            .map_err(|_| EmailTaken))
    }

    /// Replaces the password hash and bumps the token version, revoking every earlier token.
    /// Fails (returns `false`) if the version moved since `user` was read.
    pub async fn set_password(
        &self,
        user: &User,
        password_hash: &str,
        updated_at: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.app)
            .set_key(Some(user_key(user.id)))
            .update_expression("SET password_hash = :h, updated_at = :t, token_version = :next")
            .condition_expression("token_version = :current")
            .expression_attribute_values(":h", s(password_hash))
            .expression_attribute_values(":t", s(updated_at))
            .expression_attribute_values(":current", n(user.token_version))
            .expression_attribute_values(":next", n(user.token_version + 1))
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_some())
    }
}

impl Db {
    /// Bumps the token version without changing the password: every token issued so far
    /// fails from now on. Returns `false` if the version moved since `user` was read.
    pub async fn revoke_tokens(&self, user: &User, updated_at: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.app)
            .set_key(Some(user_key(user.id)))
            .update_expression("SET updated_at = :t, token_version = :next")
            .condition_expression("token_version = :current")
            .expression_attribute_values(":t", s(updated_at))
            .expression_attribute_values(":current", n(user.token_version))
            .expression_attribute_values(":next", n(user.token_version + 1))
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_some())
    }

    /// Deletes the user and its e-mail guard in one transaction, if the user still has the
    /// address `user.email`. Returns `false` (nothing deleted) otherwise, or if it is gone.
    pub async fn delete_user(&self, user: &User) -> Result<bool, StoreError> {
        let table = &self.tables.app;
        let delete_user = Delete::builder()
            .table_name(table)
            .set_key(Some(user_key(user.id)))
            .condition_expression("email = :email")
            .expression_attribute_values(":email", s(&user.email))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let delete_guard = Delete::builder()
            .table_name(table)
            .set_key(Some(email_key(&user.email)))
            .condition_expression("user_id = :id")
            .expression_attribute_values(":id", n(user.id))
            .build()
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        let actions = vec![
            TransactWriteItem::builder().delete(delete_user).build(),
            TransactWriteItem::builder().delete(delete_guard).build(),
        ];
        Ok(transact(&self.client, actions).await?.is_ok())
    }
}

pub(crate) fn put(
    table: &str,
    item: Item,
    condition: &str,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .build()
        .map_err(|e| StoreError::Malformed(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}
