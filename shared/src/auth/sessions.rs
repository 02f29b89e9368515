//! Sign-ins as refresh-token families: rotation, reuse detection, sign-out.
//!
//! Every password sign-in (login, register) starts a family: one `FAMILY#` item and
//! tokens that name it (`fam`). Each `POST /api/auth/refresh` answers a new refresh token
//! of the next generation (`gen`) and moves the family on, so the one used stops working.
//! A refresh token of an older generation is a reuse: someone holds a copy, so the whole
//! family is revoked, the thief's tokens and the owner's alike, access tokens included
//! (every request checks its token's family). The one exception is a refresh with the
//! generation just replaced within `REFRESH_REUSE_GRACE_SECONDS` of the rotation (two tabs
//! of one dashboard refreshing at once): it gets tokens of the current generation.
//!
//! Tokens from before families existed carry no `fam`: their refresh starts a family.

use serde::Deserialize;

use super::service::{AuthResponse, UserView};
use super::token::{ACCESS_TTL_SECS, Claims, Grant, REFRESH_TTL_SECS, TokenKind};
use crate::error::ApiError;
use crate::model::User;
use crate::state::AppState;
use crate::store::Family;

/// How long after a password sign-in an access token may change the e-mail without the
/// password.
pub const FRESH_SIGN_IN_SECS: i64 = 15 * 60;

/// Families outlive their last refresh token by a day, then DynamoDB's TTL removes them.
const FAMILY_TTL_MARGIN_SECS: i64 = 24 * 3600;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Starts a family for `user` and answers its first tokens. `auth_time` is when the
/// password was given (`None` when continuing a token from before families).
pub async fn start(
    state: &AppState,
    user: &User,
    auth_time: Option<i64>,
) -> Result<AuthResponse, ApiError> {
    let now = now();
    let family = Family {
        id: crate::ids::tracking_id(),
        user_id: user.id,
        generation: 0,
        rotated_at: now,
        auth_time,
        revoked: false,
        expires_at: now + REFRESH_TTL_SECS + FAMILY_TTL_MARGIN_SECS,
    };
    state.db.create_family(&family).await?;
    tokens(state, user, &family, now)
}

fn tokens(
    state: &AppState,
    user: &User,
    family: &Family,
    now: i64,
) -> Result<AuthResponse, ApiError> {
    let grant = Grant {
        user_id: user.id,
        version: user.token_version,
        family: Some(&family.id),
        generation: family.generation,
        auth_time: family.auth_time,
    };
    let keys = &state.tokens;
    Ok(AuthResponse {
        token: keys.issue_for(&grant, TokenKind::Access, now, ACCESS_TTL_SECS)?,
        refresh_token: keys.issue_for(&grant, TokenKind::Refresh, now, REFRESH_TTL_SECS)?,
        user: UserView::from(user),
        expires_in: ACCESS_TTL_SECS,
    })
}

fn invalid(why: &str) -> ApiError {
    ApiError::Unauthorized(format!("invalid refresh token: {why}"))
}

/// The family a token names, if it may still be used by `user_id`.
async fn live_family(state: &AppState, id: &str, user_id: u64) -> Result<Option<Family>, ApiError> {
    if !crate::ids::is_plausible_tracking_id(id) {
        return Ok(None);
    }
    Ok(state
        .db
        .get_family(id)
        .await?
        .filter(|family| family.user_id == user_id && !family.revoked))
}

/// `POST /api/auth/refresh`: rotates the token's family, or revokes it on reuse.
pub async fn refresh(state: &AppState, req: RefreshRequest) -> Result<AuthResponse, ApiError> {
    let claims = state
        .tokens
        .verify(req.refresh_token.trim(), TokenKind::Refresh)
        .map_err(|why| invalid(&why))?;
    let user_id = claims
        .user_id()
        .ok_or_else(|| invalid("token subject is malformed"))?;
    let user = state
        .db
        .get_user(user_id)
        .await?
        .ok_or_else(|| invalid("user no longer exists"))?;
    if user.token_version != claims.ver {
        return Err(invalid("token has been revoked"));
    }
    let Some(family_id) = claims.fam.as_deref() else {
        return start(state, &user, None).await;
    };
    let grace = i64::try_from(state.config.refresh_reuse_grace.as_secs()).unwrap_or(i64::MAX);
    // Two attempts: a lost race for the rotation is judged again on what won it.
    for _ in 0..2 {
        let family = live_family(state, family_id, user.id)
            .await?
            .ok_or_else(|| invalid("token has been revoked"))?;
        let now = now();
        if claims.generation == family.generation {
            let expires_at = now + REFRESH_TTL_SECS + FAMILY_TTL_MARGIN_SECS;
            if state
                .db
                .rotate_family(family_id, family.generation, now, expires_at)
                .await?
            {
                let next = Family {
                    generation: family.generation.saturating_add(1),
                    rotated_at: now,
                    expires_at,
                    ..family
                };
                return tokens(state, &user, &next, now);
            }
            continue;
        }
        if claims.generation.saturating_add(1) == family.generation
            && now - family.rotated_at < grace
        {
            return tokens(state, &user, &family, now);
        }
        if claims.generation < family.generation {
            state.db.revoke_family(family_id).await?;
            tracing::warn!(
                user_id = user.id,
                presented = claims.generation,
                current = family.generation,
                "refresh token reused: its family is revoked"
            );
            return Err(invalid(
                "it was already used, so every token of this sign-in is revoked; sign in again",
            ));
        }
        return Err(invalid("token is from an unknown generation"));
    }
    Err(ApiError::Conflict(
        "the session was refreshed concurrently; try again".into(),
    ))
}

/// Whether an access token's sign-in is still live (checked on every request). Tokens from
/// before families existed have none to check.
pub async fn check(state: &AppState, claims: &Claims, user_id: u64) -> Result<(), ApiError> {
    match claims.fam.as_deref() {
        None => Ok(()),
        Some(id) => match live_family(state, id, user_id).await? {
            Some(_) => Ok(()),
            None => Err(ApiError::InvalidToken("token has been revoked".into())),
        },
    }
}

/// `POST /api/auth/logout`: revokes the caller's sign-in (its refresh and access tokens).
pub async fn logout(state: &AppState, claims: &Claims) -> Result<(), ApiError> {
    if let Some(id) = claims.fam.as_deref() {
        state.db.revoke_family(id).await?;
    }
    Ok(())
}

/// `POST /api/auth/logout-all`: revokes every token of the user (the token version).
pub async fn logout_all(state: &AppState, user: &User) -> Result<(), ApiError> {
    if !state
        .db
        .revoke_tokens(user, &crate::model::now_rfc3339())
        .await?
    {
        return Err(ApiError::Conflict(
            "the account changed concurrently; sign in again".into(),
        ));
    }
    tracing::info!(user_id = user.id, "signed out everywhere");
    Ok(())
}

/// Whether the token descends from a password sign-in in the last 15 minutes.
pub fn is_fresh(claims: &Claims, now: i64) -> bool {
    claims
        .auth_time
        .is_some_and(|at| now.saturating_sub(at) <= FRESH_SIGN_IN_SECS)
}
