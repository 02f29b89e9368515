//! Share links: what `/api/sites/{id}/shares*` (the owner's) and `/api/share/{token}*`
//! (the public, read-only view of one site's statistics) do.
//!
//! A share reaches one site's summary, rankings, breakdown and realtime figures, never
//! raw events, addresses, session ids or settings. An unknown, revoked or expired token is
//! the same 404. A password-protected share needs an unlock token (`POST
//! /api/share/{token}/unlock`): a JWT of its own kind (`typ: share`, one hour), valid for
//! that share alone; unlock attempts are limited per share and client network like
//! logins.

use std::net::IpAddr;

use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::auth::limits::{self, Counter, Network};
use crate::error::{ApiError, Limited};
use crate::model::{Site, User, now_rfc3339};
use crate::state::AppState;
use crate::store::Share;

/// Shares one site may have.
pub const MAX_SHARES_PER_SITE: usize = 50;
/// Lifetime of an unlock token.
pub const UNLOCK_TTL_SECS: i64 = 3600;
/// Random bytes in a share token (192 bits; 32 URL-safe characters).
const TOKEN_BYTES: usize = 24;
const MAX_PASSWORD_CHARS: usize = 128;
const ISSUER: &str = "pingoo";

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateShare {
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Unlock {
    pub password: String,
}

/// A share as its owner sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ShareView {
    pub id: u64,
    pub token: String,
    /// The dashboard's page for it, relative to the API's origin.
    pub url: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub has_password: bool,
}

impl From<&Share> for ShareView {
    fn from(s: &Share) -> Self {
        ShareView {
            id: s.id,
            token: s.token.clone(),
            url: format!("/share/{}", s.token),
            created_at: s.created_at.clone(),
            expires_at: s.expires_at.clone(),
            has_password: s.password_hash.is_some(),
        }
    }
}

/// `GET /api/share/{token}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PublicShare {
    pub site: PublicSite,
    pub has_password: bool,
}

/// What a share shows of its site.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PublicSite {
    pub name: String,
    pub domain: String,
    pub timezone: String,
}

/// `POST /api/share/{token}/unlock`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Unlocked {
    pub token: String,
    pub expires_in: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct ShareClaims {
    /// The share's id.
    sub: String,
    typ: String,
    iat: i64,
    exp: i64,
    iss: String,
}

fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    crate::ids::fill_random(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token as a request gives it, if it could be one (checked before it reaches DynamoDB).
fn plausible_token(raw: &str) -> bool {
    (16..=64).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn not_found() -> ApiError {
    ApiError::NotFound("share not found".into())
}

fn parse_expiry(raw: &str, now: DateTime<Utc>) -> Result<String, ApiError> {
    let at = DateTime::parse_from_rfc3339(raw.trim())
        .map_err(|_| {
            ApiError::bad_request(format!(
                "expires_at must be an RFC 3339 time like 2026-12-31T23:59:59Z; got {raw:?}"
            ))
        })?
        .with_timezone(&Utc);
    if at <= now {
        return Err(ApiError::bad_request("expires_at must be in the future"));
    }
    Ok(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn expired(share: &Share, now: DateTime<Utc>) -> bool {
    share
        .expires_at
        .as_deref()
        .and_then(|e| DateTime::parse_from_rfc3339(e).ok())
        .is_some_and(|e| e.with_timezone(&Utc) <= now)
}

/// `POST /api/sites/{id}/shares`.
pub async fn create(
    state: &AppState,
    user: &User,
    site_id: u64,
    req: CreateShare,
) -> Result<ShareView, ApiError> {
    let now = Utc::now();
    let expires_at = req
        .expires_at
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(|e| parse_expiry(e, now))
        .transpose()?;
    let password = match req.password {
        Some(p) if !p.is_empty() => {
            if p.chars().count() > MAX_PASSWORD_CHARS {
                return Err(ApiError::bad_request(format!(
                    "password must be at most {MAX_PASSWORD_CHARS} characters"
                )));
            }
            Some(crate::auth::password::hash(p).await?)
        }
        _ => None,
    };
    let site = crate::sites::service::owned(state, user, site_id).await?;
    if state.db.list_shares(site.id).await?.len() >= MAX_SHARES_PER_SITE {
        return Err(ApiError::Forbidden(format!(
            "a site has at most {MAX_SHARES_PER_SITE} share links; revoke one first"
        )));
    }
    let share = Share {
        id: state.db.next_id("share").await?,
        site_id: site.id,
        token: new_token(),
        created_at: now_rfc3339(),
        expires_at,
        password_hash: password,
    };
    state.db.create_share(&share).await?;
    tracing::info!(site_id, share_id = share.id, "share created");
    Ok(ShareView::from(&share))
}

/// `GET /api/sites/{id}/shares`: newest first.
pub async fn list(state: &AppState, user: &User, site_id: u64) -> Result<Vec<ShareView>, ApiError> {
    let site = crate::sites::service::owned(state, user, site_id).await?;
    let mut shares = state.db.list_shares(site.id).await?;
    shares.sort_by_key(|s| std::cmp::Reverse(s.id));
    Ok(shares.iter().map(ShareView::from).collect())
}

/// `DELETE /api/sites/{id}/shares/{share_id}`: the link stops working at once.
pub async fn revoke(
    state: &AppState,
    user: &User,
    site_id: u64,
    share_id: u64,
) -> Result<(), ApiError> {
    let site = crate::sites::service::owned(state, user, site_id).await?;
    let share = state
        .db
        .list_shares(site.id)
        .await?
        .into_iter()
        .find(|s| s.id == share_id)
        .ok_or_else(|| ApiError::NotFound(format!("share {share_id} not found")))?;
    state.db.delete_share(&share.token).await?;
    tracing::info!(site_id, share_id, "share revoked");
    Ok(())
}

/// Deletes every share of a site (its deletion, or its owner's). A share of a site that
/// is gone answers 404 anyway; this removes the items.
pub async fn delete_all(state: &AppState, site_id: u64) -> Result<usize, ApiError> {
    let shares = state.db.list_shares(site_id).await?;
    for share in &shares {
        state.db.delete_share(&share.token).await?;
    }
    Ok(shares.len())
}

/// The share behind a public token and its site, if the token is live.
async fn live(state: &AppState, token: &str) -> Result<(Share, Site), ApiError> {
    if !plausible_token(token) {
        return Err(not_found());
    }
    let share = state.db.get_share(token).await?.ok_or_else(not_found)?;
    if expired(&share, Utc::now()) {
        return Err(not_found());
    }
    let site = state
        .db
        .get_site(share.site_id)
        .await?
        .ok_or_else(not_found)?;
    Ok((share, site))
}

/// `GET /api/share/{token}`: what the share shows before any password.
pub async fn info(state: &AppState, token: &str) -> Result<PublicShare, ApiError> {
    let (share, site) = live(state, token).await?;
    Ok(PublicShare {
        site: PublicSite {
            name: site.name,
            domain: site.domain,
            timezone: site.timezone,
        },
        has_password: share.password_hash.is_some(),
    })
}

fn keys(state: &AppState) -> (EncodingKey, DecodingKey) {
    (
        EncodingKey::from_secret(&state.config.jwt_secret),
        DecodingKey::from_secret(&state.config.jwt_secret),
    )
}

/// The site a public read may see: the share's, once its password (if any) is unlocked
/// by `bearer`.
pub async fn site_for_read(
    state: &AppState,
    token: &str,
    bearer: Option<&str>,
) -> Result<Site, ApiError> {
    let (share, site) = live(state, token).await?;
    if share.password_hash.is_some() {
        let locked = || {
            ApiError::Unauthorized(
                "this share has a password: POST /api/share/{token}/unlock, then send its token as Authorization: Bearer".into(),
            )
        };
        let bearer = bearer.ok_or_else(locked)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        let claims = jsonwebtoken::decode::<ShareClaims>(bearer, &keys(state).1, &validation)
            .map_err(|_| locked())?
            .claims;
        if claims.typ != "share" || claims.sub != share.id.to_string() {
            return Err(locked());
        }
    }
    Ok(site)
}

/// `POST /api/share/{token}/unlock`.
pub async fn unlock(
    state: &AppState,
    token: &str,
    req: Unlock,
    client: Option<IpAddr>,
) -> Result<Unlocked, ApiError> {
    let (share, _) = live(state, token).await?;
    let Some(hash) = share.password_hash.clone() else {
        return Err(ApiError::bad_request("this share has no password"));
    };
    // Attempts per share and client network (a /24 or /48), as logins are limited.
    let limit_key = limits::key(
        state,
        Counter::ShareUnlock {
            share_id: share.id,
            network: Network::of(client),
        },
    );
    limits::reserve(
        state,
        &limit_key,
        state.config.limits.login,
        Limited::Logins,
    )
    .await?;
    let now = Utc::now().timestamp();
    if req.password.chars().count() > MAX_PASSWORD_CHARS
        || !crate::auth::password::verify(req.password, hash).await?
    {
        return Err(ApiError::Unauthorized("wrong password".into()));
    }
    state.db.clear_attempts(&limit_key).await?;
    let claims = ShareClaims {
        sub: share.id.to_string(),
        typ: "share".into(),
        iat: now,
        exp: now + UNLOCK_TTL_SECS,
        iss: ISSUER.into(),
    };
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys(state).0)
        .map_err(ApiError::internal)?;
    Ok(Unlocked {
        token,
        expires_in: UNLOCK_TTL_SECS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_url_safe_and_checked_before_lookup() {
        let t = new_token();
        assert_eq!(t.len(), 32);
        assert!(plausible_token(&t));
        assert_ne!(t, new_token());
        assert!(!plausible_token("short"));
        assert!(!plausible_token(&"a".repeat(3000)));
        assert!(!plausible_token("abc/def/ghi/jklmnop"));
    }

    #[test]
    fn expiries_must_be_future_rfc_3339() {
        let now = Utc::now();
        assert!(parse_expiry("2999-01-01T00:00:00Z", now).is_ok());
        assert!(parse_expiry("2000-01-01T00:00:00Z", now).is_err());
        assert!(parse_expiry("tomorrow", now).is_err());
    }
}
