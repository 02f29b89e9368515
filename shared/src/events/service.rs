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
use crate::store::{EventFilter, EventRange};
use crate::time::{Bound, parse_bound, site_tz};

pub const DEFAULT_PAGE_SIZE: usize = 10;
pub const MAX_PAGE_SIZE: usize = 100;

/// `POST /api/events` body, as the spec lists it.
#[derive(Debug, Deserialize)]
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
#[derive(Debug, Default, Deserialize)]
pub struct ListEvents {
    pub page: Option<usize>,
    pub page_size: Option<usize>,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub event_type: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub url: Option<String>,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub is_bot: Option<bool>,
    /// `next_cursor` of the previous page: constant-cost paging.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EventList {
    pub list: Vec<ListedEvent>,
    pub total: u64,
    pub page: usize,
    pub page_size: usize,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A cursor carries the last id shown and the total of the first page, so later pages
/// neither rescan earlier ones nor recount.
pub(crate) fn encode_cursor(last_id: u64, total: u64, page: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("v1:{last_id}:{total}:{page}"))
}

pub(crate) fn decode_cursor(raw: &str) -> Option<(u64, u64, usize)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.strip_prefix("v1:")?.split(':');
    let last_id = parts.next()?.parse().ok()?;
    let total = parts.next()?.parse().ok()?;
    let page = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((last_id, total, page))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// How deep offset paging goes (`page × page_size`): a page reads every event before it,
/// so deeper pages would cost without bound; `cursor` paging costs one page at any depth.
pub const MAX_OFFSET_EVENTS: usize = 10_000;

pub async fn list(
    state: &AppState,
    user: &User,
    site_id: u64,
    query: ListEvents,
) -> Result<EventList, ApiError> {
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

    let (total, offset) = match non_empty(query.cursor) {
        Some(raw) => {
            let (last_id, total, cursor_page) =
                decode_cursor(&raw).ok_or_else(|| ApiError::bad_request("cursor is invalid"))?;
            range.last_id = range.last_id.min(last_id.saturating_sub(1));
            page = cursor_page + 1;
            (total, 0)
        }
        None => {
            if page.saturating_mul(page_size) > MAX_OFFSET_EVENTS {
                return Err(ApiError::bad_request(format!(
                    "page × page_size may reach at most the first {MAX_OFFSET_EVENTS} events; \
                     follow next_cursor for later ones"
                )));
            }
            let total = state.db.count_events(&range).await?;
            (total, (page - 1).saturating_mul(page_size))
        }
    };
    let mut events = state
        .db
        .newest_events(&range, offset + page_size + 1)
        .await?;
    let has_more = events.len() > offset + page_size;
    events.truncate(offset + page_size);
    let shown: Vec<_> = events.into_iter().skip(offset).collect();
    let next_cursor = match shown.last() {
        Some(last) if has_more => Some(encode_cursor(last.id, total, page)),
        _ => None,
    };
    Ok(EventList {
        list: shown
            .into_iter()
            .map(|event| ListedEvent {
                event: EventView::from(event),
                deleted_at: None,
            })
            .collect(),
        total,
        page,
        page_size,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let cursor = encode_cursor(123_456, 99, 3);
        assert_eq!(decode_cursor(&cursor), Some((123_456, 99, 3)));
        assert_eq!(decode_cursor("junk"), None);
        assert_eq!(decode_cursor(""), None);
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("v1:1:2:3:4");
        assert_eq!(decode_cursor(&forged), None);
    }
}
