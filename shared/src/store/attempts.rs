//! Attempt counters in fixed windows (failed logins, registrations, password checks).
//!
//! `LIMIT#<key>`/`LIMIT` holds `failures` (attempts counted) and `window_start` (epoch
//! seconds). `<key>` is an opaque hash built by `auth::limits` (no e-mail or address is
//! stored). Every attempt reserves a slot atomically *before* the password is checked, so
//! parallel guesses cannot slip past the limit; a success deletes the item or gives its
//! slot back. `expires_at` lets DynamoDB TTL tidy up old items; correctness never depends
//! on TTL.

use aws_sdk_dynamodb::types::ReturnValue;

use super::{Db, Item, StoreError, conditional, key, n};
use crate::config::AttemptLimit;

fn limit_key(id: &str) -> Item {
    key(format!("LIMIT#{id}"), "LIMIT")
}

#[derive(serde::Deserialize)]
struct Window {
    window_start: Option<i64>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum LoginAttempt {
    /// Go ahead and check the password.
    Allowed,
    /// Too many failures: refuse until the window passes.
    Blocked { retry_after_secs: u64 },
}

impl Db {
    /// Counts one attempt under `id` at `now` (epoch seconds) unless it is over the limit.
    pub async fn reserve_attempt(
        &self,
        id: &str,
        now: i64,
        limit: AttemptLimit,
    ) -> Result<LoginAttempt, StoreError> {
        let window = i64::try_from(limit.window.as_secs()).unwrap_or(i64::MAX);
        let cutoff = now.saturating_sub(window);
        for _ in 0..4 {
            // Within a live window and under the limit: count this attempt.
            let counted = self
                .client
                .update_item()
                .table_name(&self.tables.app)
                .set_key(Some(limit_key(id)))
                .update_expression(
                    "SET failures = if_not_exists(failures, :zero) + :one, \
                     window_start = if_not_exists(window_start, :now), expires_at = :exp",
                )
                .condition_expression(
                    "attribute_not_exists(pk) OR (window_start > :cutoff AND failures < :max)",
                )
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":exp", n(now.saturating_add(2 * window)))
                .expression_attribute_values(":cutoff", n(cutoff))
                .expression_attribute_values(":max", n(limit.max_attempts))
                .send()
                .await;
            if conditional("UpdateItem", counted)?.is_some() {
                return Ok(LoginAttempt::Allowed);
            }

            // Either the window is over (start a new one) or the limit is reached.
            let current: Option<Window> = self.get_app_item(limit_key(id), true).await?;
            let window_start = current.and_then(|w| w.window_start);
            let Some(window_start) = window_start else {
                continue; // deleted meanwhile by a successful login: try again
            };
            if window_start > cutoff {
                let retry_after = window_start.saturating_add(window).saturating_sub(now);
                return Ok(LoginAttempt::Blocked {
                    retry_after_secs: u64::try_from(retry_after.max(1)).unwrap_or(1),
                });
            }
            let restarted = self
                .client
                .update_item()
                .table_name(&self.tables.app)
                .set_key(Some(limit_key(id)))
                .update_expression("SET failures = :one, window_start = :now, expires_at = :exp")
                .condition_expression("window_start = :seen")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":exp", n(now.saturating_add(2 * window)))
                .expression_attribute_values(":seen", n(window_start))
                .return_values(ReturnValue::None)
                .send()
                .await;
            if conditional("UpdateItem", restarted)?.is_some() {
                return Ok(LoginAttempt::Allowed);
            }
        }
        Err(StoreError::Contention)
    }

    /// Forgets the attempts counted under `id` (after a successful login).
    pub async fn clear_attempts(&self, id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.tables.app)
            .set_key(Some(limit_key(id)))
            .send()
            .await
            .map_err(StoreError::dynamo("DeleteItem"))?;
        Ok(())
    }

    /// Gives back one attempt counted under `id` (a success that must not count towards a
    /// shared ceiling), if its window still holds it.
    pub async fn release_attempt(&self, id: &str) -> Result<(), StoreError> {
        let released = self
            .client
            .update_item()
            .table_name(&self.tables.app)
            .set_key(Some(limit_key(id)))
            .update_expression("SET failures = failures - :one")
            .condition_expression("failures >= :one")
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        conditional("UpdateItem", released)?;
        Ok(())
    }
}
