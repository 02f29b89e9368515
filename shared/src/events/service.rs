//! What the `/api/events*` routes do.

use std::net::IpAddr;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::id;
use super::model::{EventView, ListedEvent};
use super::validate::{EventInput, MAX_USER_AGENT, truncate};
use crate::enrich::ip::parse_client_ip;
use crate::enrich::user_agent::AgentSource;
use crate::error::ApiError;
use crate::model::User;
use crate::state::AppState;
use crate::store::{EventFilter, EventRange, ReadCost};
use crate::time::{Bound, parse_bound, site_tz};

pub const DEFAULT_PAGE_SIZE: usize = 10;
pub const MAX_PAGE_SIZE: usize = 100;

/// `POST /api/events` body, as the spec lists it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateEvent {
    pub site_id: u64,
    pub session_id: String,
    #[serde(default)]
    pub user_id: Option<String>,
    /// The visitor's address, reported by a server-side caller; wins over the request's.
    #[serde(default)]
    pub ip: Option<String>,
    pub url: String,
    #[serde(default)]
    pub referrer: Option<String>,
    /// Taken from the `User-Agent` header when absent or blank (then an HTTP library's
    /// agent does not make the event a bot).
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub screen: Option<String>,
    pub event_type: String,
    #[serde(default)]
    pub event_value: Option<String>,
}

/// Where the request came from, for fields the body may leave out.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub ip: Option<IpAddr>,
    pub user_agent: String,
}

pub async fn create(
    state: &AppState,
    user: &User,
    req: CreateEvent,
    caller: Caller,
) -> Result<EventView, ApiError> {
    let ip = match req.ip.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => Some(
            parse_client_ip(raw)
                .ok_or_else(|| ApiError::bad_request("ip is not a valid IP address"))?,
        ),
        None => caller.ip,
    };
    // The caller is the site's own backend. An agent in the body is its visitor's, as
    // reported (maybe truncated); without one, the request's agent is stored for display
    // and judged as the backend's HTTP client.
    let (user_agent, source) = match req.user_agent.filter(|agent| !agent.trim().is_empty()) {
        Some(agent) => (agent, AgentSource::Reported),
        None => (
            truncate(&caller.user_agent, MAX_USER_AGENT),
            AgentSource::Caller,
        ),
    };
    let input = EventInput {
        session_id: req.session_id,
        user_id: req.user_id.unwrap_or_default(),
        url: req.url,
        referrer: req.referrer.unwrap_or_default(),
        user_agent,
        screen: req.screen.unwrap_or_default(),
        event_type: req.event_type,
        event_value: req.event_value.unwrap_or_default(),
    }
    .validate()?;
    let site = crate::sites::service::owned(state, user, req.site_id).await?;
    let event = super::ingest::ingest_as(state, &site, input, source, ip).await?;
    Ok(EventView::from(event))
}

/// `GET /api/events/:site_id` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListEvents {
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<usize>,
    /// Events per page, default 10; above 100 is read as 100.
    #[param(minimum = 1)]
    pub page_size: Option<usize>,
    /// Only this session's events.
    pub session_id: Option<String>,
    /// Only this user's events.
    pub user_id: Option<String>,
    /// Only events of this type (`page_view`, or a custom event's name).
    pub event_type: Option<String>,
    /// From this day (`YYYY-MM-DD` or `YYYYMMDD`, its first instant in the site's time
    /// zone) or RFC 3339 time.
    pub start_time: Option<String>,
    /// Up to this day (its whole day) or RFC 3339 time.
    pub end_time: Option<String>,
    /// Only events on this page URL.
    pub url: Option<String>,
    /// Only this device class: desktop, mobile, tablet, bot or other.
    pub device: Option<String>,
    /// Only this browser (as the events show it, e.g. `Chrome`).
    pub browser: Option<String>,
    /// Only this operating system (as the events show it, e.g. `Windows 10`).
    pub os: Option<String>,
    /// Only bots (`true`) or only people (`false`).
    pub is_bot: Option<bool>,
    /// `next_cursor` of the previous page: constant-cost paging.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventList {
    pub list: Vec<ListedEvent>,
    pub total: u64,
    /// False when counting every event would cost too much: `total` then comes from the
    /// daily counters (unfiltered lists: the whole days the events span) or is a lower
    /// bound (filtered lists).
    pub total_exact: bool,
    pub page: usize,
    pub page_size: usize,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// What a cursor carries: where the next page starts (below `last_id`), and the first
/// page's total, so later pages neither rescan earlier ones nor recount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub last_id: u64,
    pub total: u64,
    pub total_exact: bool,
    pub page: usize,
}

pub(crate) fn encode_cursor(c: Cursor) -> String {
    let Cursor {
        last_id,
        total,
        total_exact,
        page,
    } = c;
    let text = if total_exact {
        format!("v1:{last_id}:{total}:{page}")
    } else {
        format!("v2:{last_id}:{total}:{page}:0")
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

pub(crate) fn decode_cursor(raw: &str) -> Option<Cursor> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (v2, rest) = match text.strip_prefix("v1:") {
        Some(rest) => (false, rest),
        None => (true, text.strip_prefix("v2:")?),
    };
    let mut parts = rest.split(':');
    let last_id = parts.next()?.parse().ok()?;
    let total = parts.next()?.parse().ok()?;
    let page = parts.next()?.parse().ok()?;
    let total_exact = if v2 { parts.next()? == "1" } else { true };
    parts.next().is_none().then_some(Cursor {
        last_id,
        total,
        total_exact,
        page,
    })
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// How deep offset paging goes (`page × page_size`): a page reads every event before it,
/// so deeper pages would cost without bound; `cursor` paging costs one page at any depth.
pub const MAX_OFFSET_EVENTS: usize = 10_000;

/// `total` is counted exactly while the range holds at most about this many events
/// (each shard's count stops after an eighth of it).
pub const MAX_COUNTED_EVENTS: usize = 10_000;

/// A filtered page evaluates at most about this many events (an eighth per shard); when
/// that does not fill it, it shows the matches above where the read stopped and
/// `next_cursor` goes on from there.
pub const MAX_FILTERED_SCAN: usize = 10_000;

fn per_shard(events: usize) -> usize {
    events.div_ceil(usize::try_from(id::SHARDS).unwrap_or(8))
}

pub async fn list(
    state: &AppState,
    user: &User,
    site_id: u64,
    query: ListEvents,
) -> Result<EventList, ApiError> {
    Ok(list_with_cost(state, user, site_id, query).await?.0)
}

/// [`list`], and what its reads of the events and stats tables cost. The bound is in
/// docs/architecture.md (Listing cost).
pub async fn list_with_cost(
    state: &AppState,
    user: &User,
    site_id: u64,
    query: ListEvents,
) -> Result<(EventList, ReadCost), ApiError> {
    let mut cost = ReadCost::default();
    let page_size = match query.page_size {
        None => DEFAULT_PAGE_SIZE,
        Some(0) => return Err(ApiError::bad_request("page_size must be at least 1")),
        Some(size) => size.min(MAX_PAGE_SIZE),
    };
    let mut page = query.page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::bad_request("page must be at least 1"));
    }
    let site = crate::sites::service::owned(state, user, site_id).await?;
    let tz = site_tz(&site.timezone);
    let start = non_empty(query.start_time)
        .map(|raw| parse_bound("start_time", &raw, tz, Bound::Start))
        .transpose()?;
    let end = non_empty(query.end_time)
        .map(|raw| parse_bound("end_time", &raw, tz, Bound::End))
        .transpose()?;
    let mut range = EventRange {
        site_id,
        generation: site.generation,
        first_id: start.map_or(0, id::first_id_at),
        last_id: end.map_or(id::MAX_ID, id::last_id_at),
        filter: EventFilter {
            session_id: non_empty(query.session_id),
            user_id: non_empty(query.user_id),
            event_type: non_empty(query.event_type),
            url: non_empty(query.url),
            device: non_empty(query.device),
            browser: non_empty(query.browser),
            os: non_empty(query.os),
            is_bot: query.is_bot,
        },
    };
    if range.first_id > range.last_id {
        return Err(ApiError::bad_request("start_time is after end_time"));
    }

    let ((total, total_exact), offset) = match non_empty(query.cursor) {
        Some(raw) => {
            let cursor =
                decode_cursor(&raw).ok_or_else(|| ApiError::bad_request("cursor is invalid"))?;
            range.last_id = range.last_id.min(cursor.last_id.saturating_sub(1));
            page = cursor.page + 1;
            ((cursor.total, cursor.total_exact), 0)
        }
        None => {
            if page.saturating_mul(page_size) > MAX_OFFSET_EVENTS {
                return Err(ApiError::bad_request(format!(
                    "page × page_size may reach at most the first {MAX_OFFSET_EVENTS} events; \
                     follow next_cursor for later ones"
                )));
            }
            let total = list_total(state, &range, tz, &mut cost).await?;
            (total, (page - 1).saturating_mul(page_size))
        }
    };
    let want = offset + page_size + 1;
    let found = if range.filter.is_empty() {
        // Ids spread evenly over the shards: a quarter more than an even share of each
        // almost always covers the newest `want`. If not, read `want` of each.
        let share = per_shard(want) + per_shard(want) / 4 + 8;
        let first = state.db.newest_events_within(&range, want, share).await?;
        if first.frontier.is_some() && first.events.len() < want {
            let mut again = state
                .db
                .newest_events_within(&range, want, usize::MAX)
                .await?;
            again.cost += first.cost;
            again
        } else {
            first
        }
    } else {
        let budget = per_shard(MAX_FILTERED_SCAN);
        state.db.newest_events_within(&range, want, budget).await?
    };
    cost += found.cost;
    let mut events = found.events;
    let has_more = events.len() > offset + page_size;
    events.truncate(offset + page_size);
    let shown: Vec<_> = events.into_iter().skip(offset).collect();
    let cursor = |last_id| {
        Some(encode_cursor(Cursor {
            last_id,
            total,
            total_exact,
            page,
        }))
    };
    let next_cursor = match (shown.last(), found.frontier) {
        (Some(last), _) if has_more => cursor(last.id),
        // The read stopped before the page filled: go on below where it stopped.
        (_, Some(frontier)) => cursor(frontier.saturating_add(1)),
        _ => None,
    };
    let list = EventList {
        list: shown
            .into_iter()
            .map(|event| ListedEvent {
                event: EventView::from(event),
                deleted_at: None,
            })
            .collect(),
        total,
        total_exact,
        page,
        page_size,
        next_cursor,
    };
    Ok((list, cost))
}

/// The list's `total` and whether it is exact: a count of at most
/// [`MAX_COUNTED_EVENTS`]; beyond, the daily counters' sum over the days the range's
/// events span (unfiltered) or the count so far (a lower bound, filtered).
async fn list_total(
    state: &AppState,
    range: &crate::store::EventRange,
    tz: chrono_tz::Tz,
    cost: &mut ReadCost,
) -> Result<(u64, bool), ApiError> {
    let count = state
        .db
        .count_events_up_to(range, per_shard(MAX_COUNTED_EVENTS))
        .await?;
    *cost += count.cost;
    if count.complete {
        return Ok((count.counted, true));
    }
    if !range.filter.is_empty() {
        return Ok((count.counted, false));
    }
    let (span, span_cost) = state.db.event_id_span(range).await?;
    *cost += span_cost;
    let Some((oldest, newest)) = span else {
        return Ok((count.counted, false));
    };
    let first = id::time_of(oldest).with_timezone(&tz).date_naive();
    let last = id::time_of(newest).with_timezone(&tz).date_naive();
    let days: Vec<_> = first.iter_days().take_while(|d| *d <= last).collect();
    let (stored, day_cost) =
        crate::stats::query::stored_event_total(&state.db, range.site_id, range.generation, &days)
            .await?;
    *cost += day_cost;
    // The counters trail the stream by seconds: never report fewer than were counted.
    Ok((stored.max(count.counted), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        for total_exact in [true, false] {
            let c = Cursor {
                last_id: 123_456,
                total: 99,
                total_exact,
                page: 3,
            };
            assert_eq!(decode_cursor(&encode_cursor(c)), Some(c));
        }
        // Cursors handed out before `total_exact` existed still work.
        let v1 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("v1:5:6:7");
        assert_eq!(
            decode_cursor(&v1).map(|c| (c.last_id, c.total_exact)),
            Some((5, true))
        );
        assert_eq!(decode_cursor("junk"), None);
        assert_eq!(decode_cursor(""), None);
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("v1:1:2:3:4");
        assert_eq!(decode_cursor(&forged), None);
    }
}
