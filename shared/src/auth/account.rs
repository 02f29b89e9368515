//! `DELETE /api/auth/me`: deleting an account and everything it owns.

use serde::Deserialize;

use super::password;
use crate::error::ApiError;
use crate::model::{User, now_rfc3339};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    pub password: String,
}

/// Deletes `user` after checking the password.
///
/// Order, so that a crash half-way leaves nothing reachable that should be gone and the
/// user can simply try again (every step is idempotent):
///
/// 1. the token version is bumped: every JWT of the user fails from now on, so nothing
///    new (a site, a key) can be created through them while we delete;
/// 2. every site, through `delete_site` (the site and its tracking guard go and a purge
///    job for its events and counters is queued, in one transaction per site), then its
///    share links (a share of a deleted site already answers 404);
/// 3. every API key item;
/// 4. the families that arrive later: add a `delete_*` step for each here, before the
///    user item, so the owner still exists while they are deleted;
/// 5. last, the user and its e-mail guard in one transaction; the address is free again.
///
/// Until step 5 the user still exists: signing in again works and the deletion can be
/// repeated. The owner's lists come from `gsi1` (eventually consistent): a site created
/// within the index's propagation delay (well under a second on AWS) before step 1 could
/// be missed; nothing can be created after step 1.
pub async fn delete_account(
    state: &AppState,
    user: User,
    req: DeleteAccountRequest,
) -> Result<(), ApiError> {
    if req.password.is_empty() {
        return Err(ApiError::bad_request("password is required"));
    }
    let matches = req.password.chars().count() <= password::MAX_LEN
        && password::verify(req.password, user.password_hash.clone()).await?;
    if !matches {
        return Err(ApiError::Unauthorized("password is incorrect".into()));
    }
    let changed =
        || ApiError::Conflict("the account was changed concurrently; sign in and try again".into());
    if !state.db.revoke_tokens(&user, &now_rfc3339()).await? {
        return Err(changed());
    }

    let sites = state.db.list_sites(user.id).await?;
    let mut shares = 0;
    for site in &sites {
        delete_site(state, site).await?;
        shares += crate::shares::delete_all(state, site.id).await?;
    }
    let keys = state.db.list_api_keys(user.id).await?;
    for key in &keys {
        state.db.delete_api_key_item(key).await?;
    }

    if !state.db.delete_user(&user).await? && state.db.get_user(user.id).await?.is_some() {
        // The user is still there with another address (a profile change raced us).
        return Err(changed());
    }
    tracing::info!(
        user_id = user.id,
        sites = sites.len(),
        keys = keys.len(),
        shares,
        "account deleted"
    );
    Ok(())
}

/// Deletes one of the user's sites (and queues its purge). `delete_site` refuses when the
/// site moved meanwhile (a concurrent clear of its statistics, say): read it again and
/// retry, a few times, so no generation is left without a purge job.
async fn delete_site(state: &AppState, listed: &crate::model::Site) -> Result<(), ApiError> {
    const ATTEMPTS: usize = 5;
    let mut site = listed.clone();
    for _ in 0..ATTEMPTS {
        if state.db.delete_site(&site).await? {
            return Ok(());
        }
        match state.db.get_site(site.id).await? {
            Some(current) if current.user_id == site.user_id => site = current,
            // Gone already (or, impossibly, someone else's): nothing of ours is left.
            _ => return Ok(()),
        }
    }
    Err(ApiError::Conflict(format!(
        "site {} kept changing while the account was deleted; try again",
        site.id
    )))
}
