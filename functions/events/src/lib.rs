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
