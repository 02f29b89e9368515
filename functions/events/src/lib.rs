//! `/api/events*`: the JWT event API.
//!
//! | route | handler |
//! |---|---|
//! | `POST /api/events` | [`create`] |
//! | `GET /api/events/{site_id}` | [`list`] |

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use pingoo::envelope::{Envelope, ok};
use pingoo::events::EventView;
use pingoo::events::service::{self, Caller, CreateEvent, EventList, ListEvents};
use pingoo::http::extract::{AuthUser, ClientInfo, IdParam, JsonBody, QueryParams};
use pingoo::{ApiError, AppState};

type Reply<T> = Result<Json<Envelope<T>>, ApiError>;

/// Largest `POST /api/events` body.
pub const BODY_LIMIT: usize = 16 * 1024;

/// The routes, without fallbacks or layers, so the local runner can merge them.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/events", post(create))
        .route("/api/events/{site_id}", get(list))
}

/// What the Lambda runs.
pub fn router(state: AppState) -> Router {
    pingoo::http::service(routes(), state)
}

async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
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
    AuthUser(user): AuthUser,
    IdParam(site_id): IdParam,
    QueryParams(query): QueryParams<ListEvents>,
) -> Reply<EventList> {
    Ok(ok(service::list(&state, &user, site_id, query).await?))
}
