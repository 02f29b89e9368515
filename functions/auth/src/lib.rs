//! `/api/auth/*` and the health check.
//!
//! | route | handler |
//! |---|---|
//! | `POST /api/auth/register` | [`register`] |
//! | `POST /api/auth/login` | [`login`] |
//! | `POST /api/auth/refresh` | [`refresh`] |
//! | `POST /api/auth/logout` | [`logout`] |
//! | `POST /api/auth/logout-all` | [`logout_all`] |
//! | `GET /api/auth/me` | [`me`] |
//! | `DELETE /api/auth/me` | [`delete_me`] |
//! | `PUT /api/auth/profile` | [`profile`] |
//! | `PUT /api/auth/password` | [`password`] |
//! | `POST /api/auth/keys` | [`create_key`] |
//! | `GET /api/auth/keys` | [`list_keys`] |
//! | `DELETE /api/auth/keys/{id}` | [`revoke_key`] |
//! | `GET /api/health`, `GET /health` | `pingoo::http::health_routes` |
//!
//! Every route here that needs a caller takes [`AuthUser`] (or [`SignedIn`], which adds
//! the token's claims): a user's JWT, never an API key (403).
//!
//! This function also owns API Gateway's `$default` route, so unknown paths get the
//! envelope 404 from `pingoo::http::service`.

use axum::Json;
use axum::Router;
use axum::extract::State;
use pingoo::auth::account::{self, DeleteAccountRequest};
use pingoo::auth::keys::{self, CreateKeyRequest, CreatedKey, KeyView};
use pingoo::auth::service::{
    self, LoginRequest, PasswordRequest, ProfileRequest, ProfileUpdated, RegisterRequest,
};
use pingoo::auth::sessions::{self, RefreshRequest};
use pingoo::auth::{AuthResponse, UserView};
use pingoo::envelope::{Envelope, ok};
use pingoo::http::extract::{AuthUser, ClientInfo, IdParam, JsonBody, SignedIn};
use pingoo::openapi::ErrorEnvelope;
use pingoo::{ApiError, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type Reply<T> = Result<Json<Envelope<T>>, ApiError>;

/// The routes with their OpenAPI description (each path is its handler's
/// `#[utoipa::path]`).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(config))
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(logout_all))
        .routes(routes!(me, delete_me))
        .routes(routes!(profile))
        .routes(routes!(password))
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
        .merge(pingoo::http::health_routes())
        .routes(routes!(openapi_json))
}

/// The routes, without fallbacks or layers, so the local runner can merge them.
pub fn routes() -> Router<AppState> {
    api().split_for_parts().0
}

/// This function's part of the OpenAPI description.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

/// What the Lambda runs.
pub fn router(state: AppState) -> Router {
    pingoo::http::service(routes(), state)
}

/// The API's description: `docs/openapi.json`, which a test keeps equal to what the
/// code generates (`infra/local/tests/openapi.rs`).
pub const OPENAPI_JSON: &str = include_str!("../../../docs/openapi.json");

#[utoipa::path(get, operation_id = "get_openapi", path = "/api/openapi.json", tag = "meta", summary = "This API's OpenAPI 3.1 description",
    responses((status = 200, description = "The description (also browsable at /api/docs).", content_type = "application/json", body = Object)))]
async fn openapi_json() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
        ],
        OPENAPI_JSON,
    )
}

#[utoipa::path(get, operation_id = "get_auth_config", path = "/api/auth/config", tag = "auth", summary = "What clients need before signing in",
    responses((status = 200, description = "Whether registration is open, and the beacon's own URL when it has one.", body = Envelope<service::PublicConfig>)))]
async fn config(State(state): State<AppState>) -> Reply<service::PublicConfig> {
    Ok(ok(service::public_config(&state)))
}

#[utoipa::path(post, operation_id = "register", path = "/api/auth/register", tag = "auth", summary = "Create an account",
    description = "The password needs 8 to 128 characters. The answer signs the new user in.",
    request_body = RegisterRequest,
    responses((status = 200, description = "The user and its tokens.", body = Envelope<AuthResponse>),
        (status = 403, description = "Registration is closed on this deployment.", body = ErrorEnvelope),
        (status = 409, description = "The e-mail is already registered.", body = ErrorEnvelope), (status = 429, description = "Too many attempts; `Retry-After` says when to try again.", body = ErrorEnvelope, headers(("Retry-After" = u64, description = "Seconds to wait.")))))]
async fn register(
    State(state): State<AppState>,
    client: ClientInfo,
    JsonBody(req): JsonBody<RegisterRequest>,
) -> Reply<AuthResponse> {
    Ok(ok(service::register(&state, req, client.ip).await?))
}

#[utoipa::path(post, operation_id = "login", path = "/api/auth/login", tag = "auth", summary = "Sign in",
    request_body = LoginRequest,
    responses((status = 200, description = "The user and its tokens.", body = Envelope<AuthResponse>),
        (status = 401, description = "Wrong e-mail or password.", body = ErrorEnvelope), (status = 429, description = "Too many attempts; `Retry-After` says when to try again.", body = ErrorEnvelope, headers(("Retry-After" = u64, description = "Seconds to wait.")))))]
async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Reply<AuthResponse> {
    Ok(ok(service::login(&state, req, client.ip).await?))
}

#[utoipa::path(post, operation_id = "refresh", path = "/api/auth/refresh", tag = "auth", summary = "Trade a refresh token for new tokens",
    description = "A refresh token works once; using one twice revokes every token of its sign-in. Store `data.refresh_token`.",
    request_body = RefreshRequest,
    responses((status = 200, description = "New tokens.", body = Envelope<AuthResponse>),
        (status = 401, description = "The refresh token is invalid, expired, revoked or already used.", body = ErrorEnvelope),
        (status = 409, description = "The session was refreshed concurrently; try again.", body = ErrorEnvelope)))]
async fn refresh(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<RefreshRequest>,
) -> Reply<AuthResponse> {
    Ok(ok(sessions::refresh(&state, req).await?))
}

#[utoipa::path(post, operation_id = "logout", path = "/api/auth/logout", tag = "auth", summary = "Sign out this session",
    security(("jwt" = [])),
    responses((status = 200, description = "`data` is a message.", body = Envelope<String>)))]
async fn logout(State(state): State<AppState>, session: SignedIn) -> Reply<&'static str> {
    sessions::logout(&state, &session.claims).await?;
    Ok(ok("signed out"))
}

#[utoipa::path(post, operation_id = "logout_all", path = "/api/auth/logout-all", tag = "auth", summary = "Sign out every session",
    security(("jwt" = [])),
    responses((status = 200, description = "`data` is a message.", body = Envelope<String>)))]
async fn logout_all(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Reply<&'static str> {
    sessions::logout_all(&state, &user).await?;
    Ok(ok("signed out everywhere"))
}

#[utoipa::path(get, operation_id = "get_me", path = "/api/auth/me", tag = "auth", summary = "The signed-in user",
    security(("jwt" = [])),
    responses((status = 200, description = "The user.", body = Envelope<UserView>)))]
async fn me(AuthUser(user): AuthUser) -> Reply<UserView> {
    Ok(ok(UserView::from(&user)))
}

#[utoipa::path(put, operation_id = "update_profile", path = "/api/auth/profile", tag = "auth", summary = "Change the username or e-mail",
    description = "A new e-mail needs the current `password` unless the caller signed in in the last 15 minutes; it revokes the user's other tokens and the answer carries the caller's new ones.",
    request_body = ProfileRequest, security(("jwt" = [])),
    responses((status = 200, description = "The user, and new tokens after an e-mail change.", body = Envelope<service::ProfileUpdatedShape>),
        (status = 409, description = "The e-mail is already registered, or the account changed concurrently.", body = ErrorEnvelope), (status = 429, description = "Too many attempts; `Retry-After` says when to try again.", body = ErrorEnvelope, headers(("Retry-After" = u64, description = "Seconds to wait.")))))]
async fn profile(
    State(state): State<AppState>,
    session: SignedIn,
    client: ClientInfo,
    JsonBody(req): JsonBody<ProfileRequest>,
) -> Reply<ProfileUpdated> {
    let SignedIn { user, claims } = session;
    Ok(ok(service::update_profile(
        &state, user, &claims, req, client.ip,
    )
    .await?))
}

#[utoipa::path(put, operation_id = "change_password", path = "/api/auth/password", tag = "auth", summary = "Change the password",
    description = "Revokes every token of the user.",
    request_body = PasswordRequest, security(("jwt" = [])),
    responses((status = 200, description = "`data` is a message.", body = Envelope<String>),
        (status = 409, description = "The password was changed concurrently; sign in again.", body = ErrorEnvelope), (status = 429, description = "Too many attempts; `Retry-After` says when to try again.", body = ErrorEnvelope, headers(("Retry-After" = u64, description = "Seconds to wait.")))))]
async fn password(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    client: ClientInfo,
    JsonBody(req): JsonBody<PasswordRequest>,
) -> Reply<&'static str> {
    service::change_password(&state, user, req, client.ip).await?;
    Ok(ok("密码修改成功"))
}

#[utoipa::path(delete, operation_id = "delete_account", path = "/api/auth/me", tag = "auth", summary = "Delete the account, its sites and their data",
    request_body = DeleteAccountRequest, security(("jwt" = [])),
    responses((status = 200, description = "`data` is a message.", body = Envelope<String>),
        (status = 409, description = "The account changed concurrently; try again.", body = ErrorEnvelope)))]
async fn delete_me(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<DeleteAccountRequest>,
) -> Reply<&'static str> {
    account::delete_account(&state, user, req).await?;
    Ok(ok("account deleted"))
}

#[utoipa::path(post, operation_id = "create_key", path = "/api/auth/keys", tag = "keys", summary = "Create an API key",
    description = "The key itself is in this answer only. At most 50 keys a user.",
    request_body = CreateKeyRequest, security(("jwt" = [])),
    responses((status = 200, description = "The key.", body = Envelope<CreatedKey>,
        links(("RevokeKey" = (operation_id = "revoke_key", parameters(("id" = "$response.body#/data/id"))))))))]
async fn create_key(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<CreateKeyRequest>,
) -> Reply<CreatedKey> {
    Ok(ok(keys::create(&state, &user, req).await?))
}

#[utoipa::path(get, operation_id = "list_keys", path = "/api/auth/keys", tag = "keys", summary = "List the user's API keys",
    security(("jwt" = [])),
    responses((status = 200, description = "The keys, without the keys themselves.", body = Envelope<Vec<KeyView>>)))]
async fn list_keys(State(state): State<AppState>, AuthUser(user): AuthUser) -> Reply<Vec<KeyView>> {
    Ok(ok(keys::list(&state, &user).await?))
}

#[utoipa::path(delete, operation_id = "revoke_key", path = "/api/auth/keys/{id}", tag = "keys", summary = "Revoke an API key",
    params(("id" = u64, Path, description = "The key's id.")), security(("jwt" = [])),
    responses((status = 200, description = "`data` is a message.", body = Envelope<String>)))]
async fn revoke_key(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdParam(id): IdParam,
) -> Reply<&'static str> {
    keys::revoke(&state, &user, id).await?;
    Ok(ok("API key revoked"))
}
