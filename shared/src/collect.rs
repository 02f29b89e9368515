//! The public beacon: `POST /send` (the original tracker's endpoint), `/api/send` and
//! `/api/collect`. No token: the site is named by its id or its tracking id, and the
//! request must come from a page on the site's domain.

use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::events::validate::{EventInput, MAX_USER_AGENT, truncate};
use crate::http::extract::ClientInfo;
use crate::model::Site;
use crate::sites::cache::SiteKey;
use crate::sites::domain;
use crate::state::AppState;

/// Largest beacon body.
pub const BODY_LIMIT: usize = 8 * 1024;

/// What the tracker posts. Lenient on types: `site_id` may be a string (the original
/// tracker sent one) or a number; absent optional fields are empty.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Beacon {
    #[serde(default)]
    #[schema(schema_with = crate::openapi::site_id_schema)]
    pub site_id: Option<Value>,
    #[serde(default)]
    pub tracking_id: Option<String>,
    #[serde(default)]
    #[schema(required = true, value_type = String, min_length = 1)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    #[schema(required = true, value_type = String, min_length = 1)]
    pub url: Option<String>,
    #[serde(default)]
    pub referrer: Option<String>,
    #[serde(default)]
    pub event_type: Option<String>,
    #[serde(default)]
    pub event_value: Option<String>,
    #[serde(default)]
    pub screen: Option<String>,
}

/// The site a beacon names: by tracking id, else by numeric site id. A site read in the
/// last [`SITE_CACHE_TTL`](crate::sites::cache::SITE_CACHE_TTL) is not read again.
async fn resolve_site(state: &AppState, beacon: &Beacon) -> Result<Site, ApiError> {
    let key = site_key(beacon)?;
    let now = std::time::Instant::now();
    if let Some(site) = state.sites.get(&key, now) {
        return Ok(site);
    }
    let site = match &key {
        SiteKey::Tracking(tracking_id) => state
            .db
            .find_site_by_tracking_id(tracking_id)
            .await?
            .ok_or_else(|| ApiError::NotFound("unknown tracking_id".into()))?,
        SiteKey::Id(id) => state
            .db
            .get_site(*id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("site {id} not found")))?,
    };
    state.sites.put(key, site.clone(), now);
    Ok(site)
}

/// How the beacon names its site: a tracking id first, else a numeric site id.
fn site_key(beacon: &Beacon) -> Result<SiteKey, ApiError> {
    if let Some(tracking_id) = beacon
        .tracking_id
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if !crate::ids::is_plausible_tracking_id(tracking_id) {
            return Err(ApiError::NotFound("unknown tracking_id".into()));
        }
        return Ok(SiteKey::Tracking(tracking_id.to_owned()));
    }
    match &beacon.site_id {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        None => return Err(ApiError::bad_request("site_id or tracking_id is required")),
        Some(_) => None,
    }
    .filter(|id| *id > 0)
    .map(SiteKey::Id)
    .ok_or_else(|| ApiError::bad_request("site_id must be a positive integer"))
}

/// The host of an `Origin` or `Referer` value, lowercase, without port.
fn host_of(value: &str) -> Option<String> {
    url::Url::parse(value.trim()).ok().and_then(|u| {
        u.host_str()
            .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
    })
}

/// True when `host` is the site's host or one of its subdomains.
pub fn host_matches(site_domain: &str, host: &str) -> bool {
    let site = domain::host(site_domain).to_ascii_lowercase();
    let site = site.strip_prefix("www.").unwrap_or(&site);
    host == site || host.ends_with(&format!(".{site}"))
}

/// The page must be on the site: `Origin` first, `Referer` when there is no `Origin`.
fn check_origin(site: &Site, client: &ClientInfo) -> Result<(), ApiError> {
    let claimed = client
        .origin
        .as_deref()
        .filter(|o| !o.is_empty() && *o != "null")
        .or(client.referer.as_deref());
    let Some(host) = claimed.and_then(host_of) else {
        return Err(ApiError::Forbidden(
            "beacons must come from a page of the site (no Origin or Referer)".into(),
        ));
    };
    if host_matches(&site.domain, &host) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "origin {host} is not on the site's domain"
        )))
    }
}

/// Parses, checks and stores one beacon.
pub async fn collect(state: &AppState, body: &[u8], client: ClientInfo) -> Result<(), ApiError> {
    let beacon: Beacon = crate::http::extract::parse_json(body)?;
    let site = resolve_site(state, &beacon).await?;
    crate::http::record_site(site.id);
    check_origin(&site, &client)?;
    let input = EventInput {
        session_id: beacon.session_id.unwrap_or_default(),
        user_id: beacon.user_id.unwrap_or_default(),
        url: beacon.url.unwrap_or_default(),
        referrer: beacon.referrer.unwrap_or_default(),
        // The visitor's own agent and address, never the body's.
        user_agent: truncate(&client.user_agent, MAX_USER_AGENT),
        screen: beacon.screen.unwrap_or_default(),
        event_type: beacon
            .event_type
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| "page_view".to_owned()),
        event_value: beacon.event_value.unwrap_or_default(),
    }
    .validate()?;
    crate::events::ingest::ingest(state, &site, input, client.ip).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_the_domain_and_its_subdomains() {
        assert!(host_matches("https://example.com", "example.com"));
        assert!(host_matches("example.com", "www.example.com"));
        assert!(host_matches("https://www.example.com", "example.com"));
        assert!(host_matches("https://example.com", "blog.example.com"));
        assert!(host_matches("localhost:3000", "localhost"));
        assert!(!host_matches("https://example.com", "badexample.com"));
        assert!(!host_matches("https://example.com", "example.com.evil.net"));
        assert!(!host_matches("https://example.com", "evil.net"));
    }

    #[test]
    fn origin_hosts_are_parsed() {
        assert_eq!(
            host_of("https://Blog.Example.com:8443").as_deref(),
            Some("blog.example.com")
        );
        assert_eq!(host_of("http://[::1]:3000/page").as_deref(), Some("::1"));
        assert_eq!(host_of("null"), None);
    }
}
