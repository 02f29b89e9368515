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
use axum::routing::{delete, get, post, put};
use pingoo::auth::account::{self, DeleteAccountRequest};
use pingoo::auth::keys::{self, CreateKeyRequest, CreatedKey, KeyView};
use pingoo::auth::service::{
    self, LoginRequest, PasswordRequest, ProfileRequest, ProfileUpdated, RegisterRequest,
};
use pingoo::auth::sessions::{self, RefreshRequest};
use pingoo::auth::{AuthResponse, UserView};
use pingoo::envelope::{Envelope, ok};
use pingoo::http::extract::{AuthUser, ClientInfo, IdParam, JsonBody, SignedIn};
use pingoo::{ApiError, AppState};

type Reply<T> = Result<Json<Envelope<T>>, ApiError>;

/// The routes, without fallbacks or layers, so the local runner can merge them.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/config", get(config))
        .route("/api/auth/register", post(register))
        .route("/api/auth/login", post(login))
        .route("/api/auth/refresh", post(refresh))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/logout-all", post(logout_all))
        .route("/api/auth/me", get(me).delete(delete_me))
        .route("/api/auth/profile", put(profile))
        .route("/api/auth/password", put(password))
        .route("/api/auth/keys", get(list_keys).post(create_key))
        .route("/api/auth/keys/{id}", delete(revoke_key))
        .merge(pingoo::http::health_routes())
}

/// What the Lambda runs.
pub fn router(state: AppState) -> Router {
    pingoo::http::service(routes(), state)
}

async fn config(State(state): State<AppState>) -> Reply<service::PublicConfig> {
    Ok(ok(service::public_config(&state)))
}

async fn register(
    State(state): State<AppState>,
    client: ClientInfo,
    JsonBody(req): JsonBody<RegisterRequest>,
) -> Reply<AuthResponse> {
    Ok(ok(service::register(&state, req, client.ip).await?))
}

async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Reply<AuthResponse> {
    Ok(ok(service::login(&state, req, client.ip).await?))
}

async fn refresh(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<RefreshRequest>,
) -> Reply<AuthResponse> {
    Ok(ok(sessions::refresh(&state, req).await?))
}

async fn logout(State(state): State<AppState>, session: SignedIn) -> Reply<&'static str> {
    sessions::logout(&state, &session.claims).await?;
    Ok(ok("signed out"))
}

async fn logout_all(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Reply<&'static str> {
    sessions::logout_all(&state, &user).await?;
    Ok(ok("signed out everywhere"))
}

async fn me(AuthUser(user): AuthUser) -> Reply<UserView> {
    Ok(ok(UserView::from(&user)))
}

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

async fn password(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    client: ClientInfo,
    JsonBody(req): JsonBody<PasswordRequest>,
) -> Reply<&'static str> {
    service::change_password(&state, user, req, client.ip).await?;
    Ok(ok("密码修改成功"))
}

async fn delete_me(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<DeleteAccountRequest>,
) -> Reply<&'static str> {
    account::delete_account(&state, user, req).await?;
    Ok(ok("account deleted"))
}

async fn create_key(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<CreateKeyRequest>,
) -> Reply<CreatedKey> {
    Ok(ok(keys::create(&state, &user, req).await?))
}

async fn list_keys(State(state): State<AppState>, AuthUser(user): AuthUser) -> Reply<Vec<KeyView>> {
    Ok(ok(keys::list(&state, &user).await?))
}

async fn revoke_key(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdParam(id): IdParam,
) -> Reply<&'static str> {
    keys::revoke(&state, &user, id).await?;
    Ok(ok("API key revoked"))
}
