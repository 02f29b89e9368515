//! One event in: enrich (user agent, location), anonymize the address, store.
//! Shared by the JWT API (`POST /api/events`) and the public beacon.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::id;
use super::model::Event;
use super::validate::EventInput;
use crate::enrich::user_agent::{self, AgentSource};
use crate::enrich::{geo::GeoIp, ip};
use crate::error::ApiError;
use crate::model::Site;
use crate::state::AppState;

/// The longest an event waits for a GeoIP database that is still loading.
const GEOIP_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Builds the stored event from a visitor's own request (the beacon's strict bot rules):
/// enrichment looks at the full address, the stored address is anonymized unless
/// `store_full_ip`.
pub fn enrich(
    input: EventInput,
    site: &Site,
    client_ip: Option<IpAddr>,
    geo: &GeoIp,
    store_full_ip: bool,
    at: DateTime<Utc>,
) -> Event {
    enrich_as(
        input,
        AgentSource::Visitor,
        site,
        client_ip,
        geo,
        store_full_ip,
        at,
    )
}

/// [`enrich`], with the user agent judged by where it comes from.
pub fn enrich_as(
    input: EventInput,
    source: AgentSource,
    site: &Site,
    client_ip: Option<IpAddr>,
    geo: &GeoIp,
    store_full_ip: bool,
    at: DateTime<Utc>,
) -> Event {
    let agent = user_agent::parse_from(&input.user_agent, Some(&input.screen), source);
    let location = client_ip.map(|addr| geo.lookup(addr)).unwrap_or_default();
    let stored_ip = client_ip
        .map(|addr| {
            if store_full_ip {
                addr
            } else {
                ip::anonymize(addr)
            }
        })
        .map(|addr| addr.to_string())
        .unwrap_or_default();
    Event {
        id: id::new_id(at),
        site_id: site.id,
        generation: site.generation,
        created_at: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        session_id: input.session_id,
        user_id: input.user_id,
        ip: stored_ip,
        url: input.url,
        referrer: input.referrer,
        user_agent: input.user_agent,
        device: agent.device,
        browser: agent.browser,
        os: agent.os,
        screen: input.screen,
        is_bot: agent.is_bot,
        bot_name: agent.bot_name.unwrap_or_default(),
        country: location.country,
        subdivision: location.subdivision,
        city: location.city,
        isp: location.isp,
        event_type: input.event_type,
        event_value: input.event_value,
    }
}

/// Enriches and stores one validated event for `site`, from a visitor's own request.
pub async fn ingest(
    state: &AppState,
    site: &Site,
    input: EventInput,
    client_ip: Option<IpAddr>,
) -> Result<Event, ApiError> {
    ingest_as(state, site, input, AgentSource::Visitor, client_ip).await
}

/// [`ingest`], with the user agent judged by where it comes from.
pub async fn ingest_as(
    state: &AppState,
    site: &Site,
    input: EventInput,
    source: AgentSource,
    client_ip: Option<IpAddr>,
) -> Result<Event, ApiError> {
    // The first events of a container wait (briefly) for the GeoIP load started at init,
    // instead of being stored without a location; later calls return at once.
    state.geo.ready(GEOIP_WAIT).await;
    let at = Utc::now();
    let mut event = enrich_as(
        input,
        source,
        site,
        client_ip,
        &state.geo,
        state.config.store_full_ip,
        at,
    );
    // A clash means another event of this site got the same millisecond and random bits.
    for _ in 0..5 {
        if state.db.put_event(&event).await? {
            return Ok(event);
        }
        event.id = id::new_id(at);
    }
    Err(ApiError::Internal(
        "could not allocate a unique event id".into(),
    ))
}
