//! API keys for scripts and integrations: `pgo_` + 32 random bytes (URL-safe base64).
//!
//! The key is shown once, when it is created; the store keeps its SHA-256 only (a key is
//! 256 random bits, so a fast hash is enough: nothing to brute-force). A request with
//! `Authorization: Bearer pgo_…` hashes the key and reads `KEY#<hash>`; the routes that
//! accept keys say which scope they need (`crate::http::extract`).

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::model::{ApiKey, KeyScope, User, now_rfc3339};
use crate::state::AppState;
use crate::store::KeyRefused;

/// What every key starts with; a bearer token without it is a JWT.
pub const KEY_PREFIX: &str = "pgo_";
/// Keys per user.
pub const MAX_KEYS_PER_USER: u64 = 50;
pub const MAX_NAME_LEN: usize = 64;
/// `last_used_at` is written at most once per this many seconds per key.
pub const TOUCH_INTERVAL_SECS: i64 = 60;
/// Characters of the key shown in lists after `pgo_`.
const SHOWN_CHARS: usize = 8;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    pub name: String,
    /// Text, parsed by [`parse_scope`]: serde_json reports an enum given a number as a
    /// syntax error without the field's name.
    #[schema(value_type = KeyScope)]
    pub scope: String,
}

/// `data` of `POST /api/auth/keys`: the only answer that carries `key`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedKey {
    pub id: u64,
    pub name: String,
    pub scope: KeyScope,
    pub key: String,
    pub prefix: String,
    pub created_at: String,
}

/// One entry of `GET /api/auth/keys` (never the key).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeyView {
    pub id: u64,
    pub name: String,
    pub scope: KeyScope,
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<ApiKey> for KeyView {
    fn from(key: ApiKey) -> Self {
        KeyView {
            id: key.id,
            name: key.name,
            scope: key.scope,
            prefix: key.prefix,
            created_at: key.created_at,
            last_used_at: key.last_used_at,
        }
    }
}

/// Whether a bearer token is an API key rather than a JWT.
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

/// SHA-256 of the key, lowercase hex: the key's storage id.
pub fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random key.
fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    crate::ids::fill_random(&mut bytes);
    format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn normalize_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    let len = name.chars().count();
    if len == 0 || len > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "name must be 1 to {MAX_NAME_LEN} printable characters"
        )));
    }
    Ok(name.to_owned())
}

fn parse_scope(raw: &str) -> Result<KeyScope, ApiError> {
    [KeyScope::Read, KeyScope::Ingest, KeyScope::ReadIngest]
        .into_iter()
        .find(|scope| scope.as_str() == raw)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "scope must be `read`, `ingest` or `read_ingest`, got {raw:?}"
            ))
        })
}

pub async fn create(
    state: &AppState,
    user: &User,
    req: CreateKeyRequest,
) -> Result<CreatedKey, ApiError> {
    let name = normalize_name(&req.name)?;
    let scope = parse_scope(&req.scope)?;
    let key = generate_key();
    let prefix: String = key.chars().take(KEY_PREFIX.len() + SHOWN_CHARS).collect();
    let api_key = ApiKey {
        id: state.db.next_id("key").await?,
        user_id: user.id,
        name,
        scope,
        prefix,
        key_hash: hash_key(&key),
        created_at: now_rfc3339(),
        last_used_at: None,
    };
    match state.db.create_api_key(&api_key, MAX_KEYS_PER_USER).await? {
        Ok(()) => {}
        Err(KeyRefused::Limit) => {
            return Err(ApiError::Forbidden(format!(
                "a user may have at most {MAX_KEYS_PER_USER} API keys; revoke one first"
            )));
        }
        Err(KeyRefused::NoUser) => {
            return Err(ApiError::InvalidToken("user no longer exists".into()));
        }
    }
    tracing::info!(
        user_id = user.id,
        key_id = api_key.id,
        scope = api_key.scope.as_str(),
        "API key created"
    );
    Ok(CreatedKey {
        id: api_key.id,
        name: api_key.name,
        scope: api_key.scope,
        key,
        prefix: api_key.prefix,
        created_at: api_key.created_at,
    })
}

/// The user's keys, oldest first.
pub async fn list(state: &AppState, user: &User) -> Result<Vec<KeyView>, ApiError> {
    let mut keys = state.db.list_api_keys(user.id).await?;
    keys.sort_by_key(|k| k.id);
    Ok(keys.into_iter().map(KeyView::from).collect())
}

/// Revokes one of the user's keys; it fails from the next request on. Another user's key
/// id answers 404, like an unknown one.
pub async fn revoke(state: &AppState, user: &User, id: u64) -> Result<(), ApiError> {
    let not_found = || ApiError::NotFound(format!("API key {id} not found"));
    let keys = state.db.list_api_keys(user.id).await?;
    let key = keys
        .into_iter()
        .find(|k| k.id == id && k.user_id == user.id)
        .ok_or_else(not_found)?;
    if !state.db.revoke_api_key(&key).await? {
        return Err(not_found());
    }
    tracing::info!(user_id = user.id, key_id = id, "API key revoked");
    Ok(())
}

/// The key and its user behind a `pgo_…` bearer token, or 401 like a bad JWT.
pub async fn authenticate(state: &AppState, token: &str) -> Result<(ApiKey, User), ApiError> {
    let key = state
        .db
        .find_api_key(&hash_key(token))
        .await?
        .ok_or_else(|| ApiError::InvalidToken("unknown or revoked API key".into()))?;
    let user = state
        .db
        .get_user(key.user_id)
        .await?
        .ok_or_else(|| ApiError::InvalidToken("user no longer exists".into()))?;
    Ok((key, user))
}

/// Records that `key` was used at `now`, at most once per [`TOUCH_INTERVAL_SECS`]: no
/// write when the stored `last_used_at` is recent, and a conditional write otherwise so
/// parallel requests write once. A failure is logged and ignored: bookkeeping never
/// fails a request.
pub async fn note_use(state: &AppState, key: &ApiKey, now: chrono::DateTime<chrono::Utc>) {
    let not_before = now - chrono::Duration::seconds(TOUCH_INTERVAL_SECS);
    let recent = key
        .last_used_at
        .as_deref()
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .is_some_and(|at| at > not_before);
    if recent {
        return;
    }
    let format =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    if let Err(err) = state
        .db
        .touch_api_key(&key.key_hash, &format(now), &format(not_before))
        .await
    {
        tracing::warn!(key_id = key.id, error = %err, "could not record an API key's use");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_url_safe_and_distinct() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        assert!(is_api_key(&a));
        assert_eq!(a.len(), KEY_PREFIX.len() + 43);
        assert!(
            a[KEY_PREFIX.len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert!(!is_api_key("eyJhbGciOiJIUzI1NiJ9.e30.x"));
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(normalize_name("  ci ").unwrap(), "ci");
        for bad in ["", "  ", "a\nb"] {
            assert!(
                normalize_name(bad)
                    .unwrap_err()
                    .to_string()
                    .starts_with("name ")
            );
        }
        assert!(normalize_name(&"x".repeat(65)).is_err());
    }

    #[test]
    fn scopes_parse_from_their_names_only() {
        assert_eq!(parse_scope("read").unwrap(), KeyScope::Read);
        assert_eq!(parse_scope("ingest").unwrap(), KeyScope::Ingest);
        assert_eq!(parse_scope("read_ingest").unwrap(), KeyScope::ReadIngest);
        for bad in ["", "READ", "write", "read,ingest"] {
            assert!(
                parse_scope(bad)
                    .unwrap_err()
                    .to_string()
                    .starts_with("scope ")
            );
        }
    }

    #[test]
    fn scopes_allow_what_they_say() {
        assert!(KeyScope::Read.allows(KeyScope::Read));
        assert!(!KeyScope::Read.allows(KeyScope::Ingest));
        assert!(KeyScope::Ingest.allows(KeyScope::Ingest));
        assert!(!KeyScope::Ingest.allows(KeyScope::Read));
        assert!(KeyScope::ReadIngest.allows(KeyScope::Read));
        assert!(KeyScope::ReadIngest.allows(KeyScope::Ingest));
    }
}
