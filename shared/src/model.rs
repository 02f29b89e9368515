//! Stored records. Their JSON views for the API live next to the services.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub username: String,
    /// Lowercase; unique through an e-mail guard item.
    pub email: String,
    pub role: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Bumped on a password change; tokens carrying an older version are refused.
    pub token_version: u64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Site {
    pub id: u64,
    pub user_id: u64,
    pub name: String,
    /// Normalized: `scheme://host[:port]` or a bare `host[:port]`.
    pub domain: String,
    /// Public id the tracker may send instead of the numeric site id.
    pub tracking_id: String,
    /// IANA time zone that defines the site's days.
    pub timezone: String,
    /// Bumped when the site's statistics are cleared: events and counters of older
    /// generations are unreachable at once and purged in the background. Never shown by
    /// the API (and never written by `to_item`: only `UpdateItem ADD` changes it).
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub generation: u64,
    pub created_at: String,
    pub updated_at: String,
}

/// Timestamps as the API shows them: RFC 3339, UTC, microseconds.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// What an API key may do. A key never reaches account endpoints, whatever its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// GET on sites, events, statistics.
    Read,
    /// `POST /api/events`.
    Ingest,
    /// Both.
    ReadIngest,
}

impl KeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::Read => "read",
            KeyScope::Ingest => "ingest",
            KeyScope::ReadIngest => "read_ingest",
        }
    }

    /// Whether a key of this scope may do what `needed` (`Read` or `Ingest`) allows.
    pub fn allows(self, needed: KeyScope) -> bool {
        self == needed || self == KeyScope::ReadIngest
    }
}

/// An API key as stored: `KEY#<sha256 hex of the key>`/`KEY`. The key itself is never
/// stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: u64,
    pub user_id: u64,
    pub name: String,
    pub scope: KeyScope,
    /// The key's first characters (`pgo_` and 8 more), to recognise it in a list.
    pub prefix: String,
    /// SHA-256 of the key, lowercase hex (also in `pk`).
    pub key_hash: String,
    pub created_at: String,
    /// Written at most once a minute (see `auth::keys`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
}
