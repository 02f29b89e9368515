//! An event as stored, and as the API shows it.

use serde::{Deserialize, Serialize};

/// A stored event (one item of the events table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: u64,
    pub site_id: u64,
    /// Bumped when a site's statistics are cleared; part of the partition key.
    #[serde(default)]
    pub generation: u64,
    pub created_at: String,
    pub session_id: String,
    pub user_id: String,
    /// Anonymized (IPv4 /24, IPv6 /48) unless `STORE_FULL_IP=true`.
    pub ip: String,
    pub url: String,
    pub referrer: String,
    pub user_agent: String,
    pub device: String,
    pub browser: String,
    pub os: String,
    pub screen: String,
    pub is_bot: bool,
    /// Stable bot name for the `bot` ranking; empty for humans.
    #[serde(default)]
    pub bot_name: String,
    pub country: String,
    pub subdivision: String,
    pub city: String,
    pub isp: String,
    pub event_type: String,
    pub event_value: String,
}

/// The API's event shape (`ID`, `CreatedAt`, `UpdatedAt` as the original product named them).
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct EventView {
    #[serde(rename = "ID")]
    pub id: u64,
    #[serde(rename = "CreatedAt")]
    pub created_at: String,
    #[serde(rename = "UpdatedAt")]
    pub updated_at: String,
    pub site_id: u64,
    pub session_id: String,
    pub user_id: String,
    pub ip: String,
    pub url: String,
    pub referrer: String,
    pub user_agent: String,
    pub device: String,
    pub browser: String,
    pub os: String,
    pub screen: String,
    pub is_bot: bool,
    pub country: String,
    pub subdivision: String,
    pub city: String,
    pub isp: String,
    pub event_type: String,
    pub event_value: String,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        EventView {
            id: e.id,
            updated_at: e.created_at.clone(),
            created_at: e.created_at,
            site_id: e.site_id,
            session_id: e.session_id,
            user_id: e.user_id,
            ip: e.ip,
            url: e.url,
            referrer: e.referrer,
            user_agent: e.user_agent,
            device: e.device,
            browser: e.browser,
            os: e.os,
            screen: e.screen,
            is_bot: e.is_bot,
            country: e.country,
            subdivision: e.subdivision,
            city: e.city,
            isp: e.isp,
            event_type: e.event_type,
            event_value: e.event_value,
        }
    }
}

/// A row of the event list: the event plus `DeletedAt: null`, as the original list showed.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListedEvent {
    #[serde(flatten)]
    pub event: EventView,
    #[serde(rename = "DeletedAt")]
    pub deleted_at: Option<String>,
}
