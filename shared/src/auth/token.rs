//! JWTs (HS256): short-lived access tokens and 30-day refresh tokens.
//!
//! A `typ` claim tells them apart so neither works as the other, and a `ver` claim carries
//! the user's token version: bumping it (on a password change) revokes every earlier token.
//! `fam` names the sign-in's refresh family (see `auth::sessions`), `gen` a refresh
//! token's place in it, and `auth_time` when the password was last given. Tokens issued
//! before families existed have none of the three.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Access token lifetime, also reported to clients as `expires_in`.
pub const ACCESS_TTL_SECS: i64 = 259_200;
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;
const ISSUER: &str = "pingoo";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a string per RFC 7519.
    pub sub: String,
    pub typ: TokenKind,
    /// The user's token version when the token was issued.
    pub ver: u64,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    /// The refresh family (one per sign-in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
    /// A refresh token's generation within its family.
    #[serde(rename = "gen", default, skip_serializing_if = "is_zero")]
    pub generation: u32,
    /// Epoch seconds of the password sign-in this token descends from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The sign-in a token is issued for.
#[derive(Debug, Clone, Copy)]
pub struct Grant<'a> {
    pub user_id: u64,
    pub version: u64,
    pub family: Option<&'a str>,
    pub generation: u32,
    pub auth_time: Option<i64>,
}

impl Claims {
    pub fn user_id(&self) -> Option<u64> {
        self.sub.parse().ok()
    }
}

/// Signing and verification keys, built once per container.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs a token of `kind` for a user, valid for `ttl_secs` from `now`, outside any
    /// family (as tokens were before families existed).
    pub fn issue(
        &self,
        user_id: u64,
        version: u64,
        kind: TokenKind,
        now: i64,
        ttl_secs: i64,
    ) -> Result<String, ApiError> {
        let grant = Grant {
            user_id,
            version,
            family: None,
            generation: 0,
            auth_time: None,
        };
        self.issue_for(&grant, kind, now, ttl_secs)
    }

    /// Signs a token of `kind` for `grant`, valid for `ttl_secs` from `now`.
    pub fn issue_for(
        &self,
        grant: &Grant<'_>,
        kind: TokenKind,
        now: i64,
        ttl_secs: i64,
    ) -> Result<String, ApiError> {
        let claims = Claims {
            sub: grant.user_id.to_string(),
            typ: kind,
            ver: grant.version,
            iat: now,
            exp: now + ttl_secs,
            iss: ISSUER.to_owned(),
            fam: grant.family.map(str::to_owned),
            generation: grant.generation,
            auth_time: grant.auth_time,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    /// Verifies signature, expiry, issuer and kind. The error text is fit for clients.
    pub fn verify(&self, token: &str, kind: TokenKind) -> Result<Claims, String> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| describe(e.kind()))?;
        if data.claims.typ != kind {
            return Err(match kind {
                TokenKind::Access => "a refresh token cannot be used as an access token".into(),
                TokenKind::Refresh => "an access token cannot be used as a refresh token".into(),
            });
        }
        Ok(data.claims)
    }
}

fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "token has expired".into(),
        ErrorKind::InvalidSignature => "signature is invalid".into(),
        ErrorKind::InvalidIssuer => "token was not issued by this service".into(),
        ErrorKind::InvalidAlgorithm => "token algorithm is not accepted".into(),
        ErrorKind::ImmatureSignature => "token is not valid yet".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("token lacks the `{claim}` claim"),
        ErrorKind::InvalidClaimFormat(claim) => format!("token claim `{claim}` is malformed"),
        ErrorKind::Json(_) => "token claims are malformed".into(),
        ErrorKind::Base64(e) => format!("token is malformed: could not base64 decode: {e}"),
        ErrorKind::Utf8(_) => "token is malformed: not UTF-8".into(),
        _ => "token is malformed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(b"0123456789abcdef0123456789abcdef")
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn access_tokens_round_trip() {
        let keys = keys();
        let token = keys
            .issue(7, 3, TokenKind::Access, now(), ACCESS_TTL_SECS)
            .unwrap();
        let claims = keys.verify(&token, TokenKind::Access).unwrap();
        assert_eq!(claims.user_id(), Some(7));
        assert_eq!(claims.ver, 3);
    }

    #[test]
    fn kinds_are_not_interchangeable() {
        let keys = keys();
        let refresh = keys
            .issue(7, 0, TokenKind::Refresh, now(), REFRESH_TTL_SECS)
            .unwrap();
        let access = keys
            .issue(7, 0, TokenKind::Access, now(), ACCESS_TTL_SECS)
            .unwrap();
        assert!(keys.verify(&refresh, TokenKind::Access).is_err());
        assert!(keys.verify(&access, TokenKind::Refresh).is_err());
    }

    #[test]
    fn expired_and_foreign_tokens_are_rejected() {
        let keys = keys();
        let expired = keys
            .issue(7, 0, TokenKind::Access, now() - 1000, 100)
            .unwrap();
        assert_eq!(
            keys.verify(&expired, TokenKind::Access).unwrap_err(),
            "token has expired"
        );
        let other = TokenKeys::new(b"another secret of at least 32 bytes!")
            .issue(7, 0, TokenKind::Access, now(), 100)
            .unwrap();
        assert_eq!(
            keys.verify(&other, TokenKind::Access).unwrap_err(),
            "signature is invalid"
        );
        assert!(
            keys.verify("garbage", TokenKind::Access)
                .unwrap_err()
                .starts_with("token is malformed")
        );
    }
}
