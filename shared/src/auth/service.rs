//! What the `/api/auth/*` routes do.

use serde::{Deserialize, Serialize};

use std::net::IpAddr;

use super::limits::{self, Counter, Network};
use super::password;
use super::sessions;
use super::token::Claims;
use crate::error::{ApiError, Limited};
use crate::model::{User, now_rfc3339};
use crate::state::AppState;

pub const MAX_EMAIL_LEN: usize = 254;
pub const MAX_USERNAME_LEN: usize = 64;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    /// Optional; defaults to the e-mail's local part.
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// The current password: needed to change the e-mail unless the caller signed in
    /// with it in the last 15 minutes.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub old_password: String,
    pub new_password: String,
}

/// The user as the API shows it.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct UserView {
    pub id: u64,
    pub username: String,
    pub email: String,
    pub role: String,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        UserView {
            id: user.id,
            username: user.username.clone(),
            email: user.email.clone(),
            role: user.role.clone(),
        }
    }
}

/// `data` of register, login and refresh.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuthResponse {
    pub token: String,
    pub refresh_token: String,
    pub user: UserView,
    pub expires_in: i64,
}

/// Lowercases and checks an address; the error names `field`.
pub fn normalize_email(field: &str, raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err(ApiError::bad_request(format!("{field} is required")));
    }
    if email.len() > MAX_EMAIL_LEN || !email_address::EmailAddress::is_valid(&email) {
        return Err(ApiError::bad_request(format!(
            "{field} is not a valid e-mail address"
        )));
    }
    Ok(email)
}

/// Trims and checks a username; the error names `username`.
pub fn normalize_username(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    let len = name.chars().count();
    if len == 0 || len > MAX_USERNAME_LEN || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "username must be 1 to {MAX_USERNAME_LEN} printable characters"
        )));
    }
    Ok(name.to_owned())
}

fn default_username(email: &str) -> String {
    let local = email.split('@').next().unwrap_or(email);
    local.chars().take(MAX_USERNAME_LEN).collect()
}

/// `client` is the caller's address (API Gateway's `sourceIp`, or the socket locally).
pub async fn register(
    state: &AppState,
    req: RegisterRequest,
    client: Option<IpAddr>,
) -> Result<AuthResponse, ApiError> {
    if state.config.registration == crate::config::Registration::Closed {
        return Err(ApiError::Forbidden(
            "registration is closed on this server".into(),
        ));
    }
    let email = normalize_email("email", &req.email)?;
    password::validate("password", &req.password)?;
    let username = match req.username.as_deref() {
        Some(name) => normalize_username(name)?,
        None => default_username(&email),
    };
    // Every well-formed attempt counts, taken or not: it costs a hash and probes addresses.
    let counter = limits::key(
        state,
        Counter::Register {
            network: Network::of(client),
        },
    );
    limits::reserve(
        state,
        &counter,
        state.config.limits.register,
        Limited::Registrations,
    )
    .await?;
    if state.db.find_user_by_email(&email).await?.is_some() {
        return Err(email_taken());
    }
    let password_hash = password::hash(req.password).await?;
    let now = now_rfc3339();
    let user = User {
        id: state.db.next_id("user").await?,
        username,
        email,
        role: "user".to_owned(),
        password_hash,
        token_version: 0,
        created_at: now.clone(),
        updated_at: now,
    };
    state
        .db
        .create_user(&user)
        .await?
        .map_err(|_| email_taken())?;
    tracing::info!(user_id = user.id, "user registered");
    sessions::start(state, &user, Some(chrono::Utc::now().timestamp())).await
}

fn email_taken() -> ApiError {
    ApiError::Conflict("email is already registered".into())
}

fn bad_credentials() -> ApiError {
    ApiError::Unauthorized("invalid email or password".into())
}

/// Failed logins are limited per (e-mail, client network) and, much higher, per e-mail: a
/// guesser on one network locks out only that network, and guessing spread over many
/// networks still meets a ceiling.
pub async fn login(
    state: &AppState,
    req: LoginRequest,
    client: Option<IpAddr>,
) -> Result<AuthResponse, ApiError> {
    let email = req.email.trim().to_lowercase();
    if email.is_empty() || req.password.is_empty() {
        return Err(ApiError::bad_request("email and password are required"));
    }
    if email.len() > MAX_EMAIL_LEN || req.password.chars().count() > password::MAX_LEN {
        return Err(bad_credentials());
    }
    let network = Network::of(client);
    let pair = limits::key(
        state,
        Counter::Login {
            email: &email,
            network,
        },
    );
    let ceiling = limits::key(state, Counter::LoginPerEmail { email: &email });
    let limit = &state.config.limits;
    limits::reserve(state, &pair, limit.login, Limited::Logins).await?;
    limits::reserve(state, &ceiling, limit.login_per_email, Limited::Logins).await?;
    let user = state.db.find_user_by_email(&email).await?;
    // Verify against a dummy hash for unknown addresses so both cases take as long.
    let stored = user
        .as_ref()
        .map_or_else(|| password::DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let matches = password::verify(req.password, stored).await?;
    match user {
        Some(user) if matches => {
            // This network's failures are forgiven; the ceiling only gets this try back.
            state.db.clear_attempts(&pair).await?;
            state.db.release_attempt(&ceiling).await?;
            sessions::start(state, &user, Some(chrono::Utc::now().timestamp())).await
        }
        _ => Err(bad_credentials()),
    }
}

/// `data` of a profile update: the user, and after an e-mail change the new tokens of
/// the caller's session (the change revokes every other token of the user).
#[derive(Debug, Serialize, Deserialize)]
pub struct ProfileUpdated {
    #[serde(flatten)]
    pub user: UserView,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub session: Option<NewSession>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct NewSession {
    pub token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

// The shape of `ProfileUpdated` for the API's description. Derived on `ProfileUpdated`
// itself, the flattened `Option` was described as "an object or null", which an answer
// without the tokens is not (found by schemathesis).
/// The user, and after an e-mail change the caller's new tokens.
#[derive(utoipa::ToSchema)]
#[schema(as = ProfileUpdated)]
#[allow(dead_code)]
pub struct ProfileUpdatedShape {
    pub id: u64,
    pub username: String,
    pub email: String,
    pub role: String,
    /// After an e-mail change: the caller's new access token.
    #[schema(nullable = false)]
    pub token: Option<String>,
    /// After an e-mail change: the caller's new refresh token.
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
    /// After an e-mail change: the new access token's lifetime in seconds.
    #[schema(nullable = false)]
    pub expires_in: Option<i64>,
}

/// `PUT /api/auth/profile`. A username alone needs nothing more; a new e-mail needs the
/// current `password` or a sign-in in the last 15 minutes, and revokes the user's other
/// tokens (the caller gets new ones).
pub async fn update_profile(
    state: &AppState,
    user: User,
    claims: &Claims,
    req: ProfileRequest,
    client: Option<IpAddr>,
) -> Result<ProfileUpdated, ApiError> {
    if req.username.is_none() && req.email.is_none() {
        return Err(ApiError::bad_request(
            "nothing to update: give username and/or email",
        ));
    }
    let mut updated = user.clone();
    if let Some(name) = &req.username {
        updated.username = normalize_username(name)?;
    }
    if let Some(email) = &req.email {
        updated.email = normalize_email("email", email)?;
    }
    let email_changes = updated.email != user.email;
    let mut auth_time = claims.auth_time;
    if email_changes {
        let now = chrono::Utc::now().timestamp();
        match req.password {
            Some(given) => {
                check_password(state, &user, given, client, ApiError::Forbidden).await?;
                auth_time = Some(now);
            }
            None if sessions::is_fresh(claims, now) => {}
            None => {
                return Err(ApiError::Forbidden(
                    "changing the e-mail needs your current password (`password`): the last sign-in was more than 15 minutes ago".into(),
                ));
            }
        }
        updated.token_version = user.token_version.saturating_add(1);
    }
    updated.updated_at = now_rfc3339();
    state
        .db
        .update_profile(&user, &updated)
        .await?
        .map_err(|_| email_taken())?;
    let session = if email_changes {
        tracing::info!(user_id = user.id, "e-mail changed; other tokens revoked");
        let fresh = sessions::start(state, &updated, auth_time).await?;
        Some(NewSession {
            token: fresh.token,
            refresh_token: fresh.refresh_token,
            expires_in: fresh.expires_in,
        })
    } else {
        None
    };
    Ok(ProfileUpdated {
        user: UserView::from(&updated),
        session,
    })
}

/// Checks `given` against the user's password, limited per (user, client network) so a
/// stolen access token cannot be used to guess it. `wrong` builds the error of a miss.
async fn check_password(
    state: &AppState,
    user: &User,
    given: String,
    client: Option<IpAddr>,
    wrong: impl FnOnce(String) -> ApiError,
) -> Result<(), ApiError> {
    let counter = limits::key(
        state,
        Counter::Password {
            user_id: user.id,
            network: Network::of(client),
        },
    );
    limits::reserve(
        state,
        &counter,
        state.config.limits.password,
        Limited::PasswordChecks,
    )
    .await?;
    if given.chars().count() > password::MAX_LEN
        || !password::verify(given, user.password_hash.clone()).await?
    {
        return Err(wrong("password is incorrect".into()));
    }
    state.db.clear_attempts(&counter).await?;
    Ok(())
}

/// Wrong `old_password`s are limited per (user, client network): a stolen access token
/// cannot be used to guess the password it would need to take the account over.
pub async fn change_password(
    state: &AppState,
    user: User,
    req: PasswordRequest,
    client: Option<IpAddr>,
) -> Result<(), ApiError> {
    password::validate("new_password", &req.new_password)?;
    check_password(state, &user, req.old_password, client, |_| {
        ApiError::bad_request("old_password is incorrect")
    })
    .await?;
    let hash = password::hash(req.new_password).await?;
    if !state.db.set_password(&user, &hash, &now_rfc3339()).await? {
        return Err(ApiError::Conflict(
            "the password was changed concurrently; sign in again".into(),
        ));
    }
    tracing::info!(
        user_id = user.id,
        "password changed; earlier tokens revoked"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            normalize_email("email", "  User@Example.COM ").unwrap(),
            "user@example.com"
        );
        for bad in ["", "no-at-sign", "a@", "@b.c", "two@@x.y", "sp ace@x.y"] {
            let err = normalize_email("email", bad).unwrap_err().to_string();
            assert!(err.starts_with("email "), "{bad}: {err}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(normalize_email("email", &long).is_err());
    }

    #[test]
    fn default_username_is_the_local_part() {
        assert_eq!(default_username("user@example.com"), "user");
    }

    #[test]
    fn usernames_are_trimmed_and_bounded() {
        assert_eq!(normalize_username("  ada ").unwrap(), "ada");
        assert!(normalize_username("   ").is_err());
        assert!(normalize_username("a\u{0}b").is_err());
        assert!(normalize_username(&"x".repeat(65)).is_err());
        assert_eq!(normalize_username("李雷").unwrap(), "李雷");
    }
}

/// What the server tells clients before they sign in (`GET /api/auth/config`).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PublicConfig {
    pub registration: crate::config::Registration,
    /// Where tracking snippets load the tracker from when the beacon has its own URL
    /// (`BeaconEndpoint=FunctionUrl`); absent when it is this origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beacon_url: Option<String>,
}

pub fn public_config(state: &AppState) -> PublicConfig {
    PublicConfig {
        registration: state.config.registration,
        beacon_url: state.config.beacon_url.clone(),
    }
}
