//! `/api/events*`: the event API, for a JWT or an API key. `POST` takes [`IngestAccess`]
//! (scope `ingest`), every GET [`ReadAccess`] (scope `read`).
//!
//! | route | handler |
//! |---|---|
//! | `POST /api/events` | [`create`] |
//! | `GET /api/events/{site_id}` | [`list`] |
//! | `GET /api/events/{site_id}/stats` | [`stats`] |
//! | `GET /api/events/{site_id}/summary` | [`summary`] |
//! | `GET /api/events/{site_id}/breakdown` | [`breakdown`] |
//! | `GET /api/events/{site_id}/realtime` | [`realtime`] |
//! | `GET /api/events/{site_id}/export` | [`export`] (CSV) |
//! | `GET /api/share/{token}` | [`share_info`] (public) |
//! | `POST /api/share/{token}/unlock` | [`share_unlock`] (public) |
//! | `GET /api/share/{token}/summary` | [`share_summary`] (public) |
//! | `GET /api/share/{token}/stats` | [`share_stats`] (public) |
//! | `GET /api/share/{token}/breakdown` | [`share_breakdown`] (public) |
//! | `GET /api/share/{token}/realtime` | [`share_realtime`] (public) |

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use pingoo::envelope::{Envelope, ok};
use pingoo::events::EventView;
use pingoo::events::service::{self, Caller, CreateEvent, EventList, ListEvents};
use pingoo::http::extract::{ClientInfo, IdParam, IngestAccess, JsonBody, QueryParams, ReadAccess};
use pingoo::stats::query::{Ranking, Summary};
use pingoo::stats::rankings::Breakdown;
use pingoo::stats::realtime::Realtime;
use pingoo::stats::service::{self as stats_service, BreakdownQuery, StatsQuery, SummaryQuery};
use pingoo::{ApiError, AppState};

type Reply<T> = Result<Json<Envelope<T>>, ApiError>;

/// Largest `POST /api/events` body.
pub const BODY_LIMIT: usize = 16 * 1024;

/// The routes, without fallbacks or layers, so the local runner can merge them.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/events", post(create))
        .route("/api/events/{site_id}", get(list))
        .route("/api/events/{site_id}/stats", get(stats))
        .route("/api/events/{site_id}/summary", get(summary))
        .route("/api/events/{site_id}/breakdown", get(breakdown))
        .route("/api/events/{site_id}/realtime", get(realtime))
        .route("/api/events/{site_id}/export", get(export))
        .route("/api/share/{token}", get(share_info))
        .route("/api/share/{token}/unlock", post(share_unlock))
        .route("/api/share/{token}/summary", get(share_summary))
        .route("/api/share/{token}/stats", get(share_stats))
        .route("/api/share/{token}/breakdown", get(share_breakdown))
        .route("/api/share/{token}/realtime", get(share_realtime))
}

/// What the Lambda runs.
pub fn router(state: AppState) -> Router {
    pingoo::http::service(routes(), state)
}

async fn create(
    State(state): State<AppState>,
    IngestAccess(user): IngestAccess,
    client: ClientInfo,
    JsonBody(req): JsonBody<CreateEvent, BODY_LIMIT>,
) -> Reply<EventView> {
    let caller = Caller {
        ip: client.ip,
        user_agent: client.user_agent,
    };
    Ok(ok(service::create(&state, &user, req, caller).await?))
}

async fn list(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(site_id): IdParam,
    QueryParams(query): QueryParams<ListEvents>,
) -> Reply<EventList> {
    Ok(ok(service::list(&state, &user, site_id, query).await?))
}

async fn stats(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(site_id): IdParam,
    QueryParams(query): QueryParams<StatsQuery>,
) -> Reply<Ranking> {
    Ok(ok(
        stats_service::stats(&state, &user, site_id, query).await?
    ))
}

async fn summary(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(site_id): IdParam,
    QueryParams(query): QueryParams<SummaryQuery>,
) -> Reply<Summary> {
    Ok(ok(
        stats_service::summary(&state, &user, site_id, query).await?
    ))
}

async fn breakdown(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(site_id): IdParam,
    QueryParams(query): QueryParams<BreakdownQuery>,
) -> Reply<Breakdown> {
    Ok(ok(
        stats_service::breakdown(&state, &user, site_id, query).await?
    ))
}

async fn realtime(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(site_id): IdParam,
) -> Reply<Realtime> {
    Ok(ok(stats_service::realtime(
        &state,
        &user,
        site_id,
        stats_service::now(),
    )
    .await?))
}

async fn export(
    State(state): State<AppState>,
    ReadAccess(user): ReadAccess,
    IdParam(site_id): IdParam,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    QueryParams(query): QueryParams<pingoo::export::ExportQuery>,
) -> Result<axum::response::Response, ApiError> {
    let csv = pingoo::export::export(&state, &user, site_id, query).await?;
    Ok(pingoo::export::response(csv, &uri))
}

/// A share token from the path, and the unlock token from `Authorization: Bearer`.
struct ShareAccess {
    token: String,
    bearer: Option<String>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ShareAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let axum::extract::Path(token) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::NotFound("share not found".into()))?;
        // A header that is no bearer token unlocks nothing: the read then answers as a
        // locked share does.
        let bearer = pingoo::http::extract::bearer(parts)
            .ok()
            .flatten()
            .map(str::to_owned);
        Ok(ShareAccess { token, bearer })
    }
}

impl ShareAccess {
    async fn site(&self, state: &AppState) -> Result<pingoo::model::Site, ApiError> {
        pingoo::shares::site_for_read(state, &self.token, self.bearer.as_deref()).await
    }
}

async fn share_info(
    State(state): State<AppState>,
    access: ShareAccess,
) -> Reply<pingoo::shares::PublicShare> {
    Ok(ok(pingoo::shares::info(&state, &access.token).await?))
}

async fn share_unlock(
    State(state): State<AppState>,
    access: ShareAccess,
    client: ClientInfo,
    JsonBody(req): JsonBody<pingoo::shares::Unlock>,
) -> Reply<pingoo::shares::Unlocked> {
    Ok(ok(pingoo::shares::unlock(
        &state,
        &access.token,
        req,
        client.ip,
    )
    .await?))
}

async fn share_summary(
    State(state): State<AppState>,
    access: ShareAccess,
    QueryParams(query): QueryParams<SummaryQuery>,
) -> Reply<Summary> {
    let site = access.site(&state).await?;
    Ok(ok(stats_service::summary_for(&state, &site, query).await?))
}

async fn share_stats(
    State(state): State<AppState>,
    access: ShareAccess,
    QueryParams(query): QueryParams<StatsQuery>,
) -> Reply<Ranking> {
    let site = access.site(&state).await?;
    Ok(ok(stats_service::stats_for(&state, &site, query).await?))
}

async fn share_breakdown(
    State(state): State<AppState>,
    access: ShareAccess,
    QueryParams(query): QueryParams<BreakdownQuery>,
) -> Reply<Breakdown> {
    let site = access.site(&state).await?;
    Ok(ok(stats_service::breakdown_for(&state, &site, query).await?))
}

async fn share_realtime(State(state): State<AppState>, access: ShareAccess) -> Reply<Realtime> {
    let site = access.site(&state).await?;
    Ok(ok(stats_service::realtime_for(
        &state,
        &site,
        stats_service::now(),
    )
    .await?))
}
