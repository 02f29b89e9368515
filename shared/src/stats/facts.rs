//! What one stored event adds to a site's statistics, as a list of [`Touch`]es on named
//! counter items. The aggregator applies them from the stream; recount folds them from the
//! raw events. Both use this one function, so the stored counters are a function of the
//! stored events.
//!
//! Counted per site and per day of the site's time zone:
//! - humans only: `pv` (page views), `ev` (every other event type), hourly page views,
//!   sessions (bounce, duration), distinct sessions (`uv`) and addresses (`ip_count`),
//!   rankings of page views by url, referrer, browser, os, device, country, city, isp,
//!   screen, and of custom events by value;
//! - bots only: `bot` and the `bot` ranking, by bot name.

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

use super::apply::MAX_KEY_BYTES;
pub use super::schema::{Of, Window};
use super::schema::{
    attr, day_key, month_key, part_base, rank_attr, rank_key, session_base, week_key,
};
use super::sketch::hash;
use crate::events::model::Event;
use crate::model::Site;

/// Rankings the stats endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StatType {
    Url,
    Referrer,
    Browser,
    Os,
    Device,
    Country,
    City,
    Isp,
    Screen,
    EventType,
    Bot,
}

impl StatType {
    pub const ALL: [StatType; 11] = [
        StatType::Url,
        StatType::Referrer,
        StatType::Browser,
        StatType::Os,
        StatType::Device,
        StatType::Country,
        StatType::City,
        StatType::Isp,
        StatType::Screen,
        StatType::EventType,
        StatType::Bot,
    ];

    /// Rankings of page views (the others rank custom events and bots).
    pub const PAGE_VIEW: [StatType; 9] = [
        StatType::Url,
        StatType::Referrer,
        StatType::Browser,
        StatType::Os,
        StatType::Device,
        StatType::Country,
        StatType::City,
        StatType::Isp,
        StatType::Screen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatType::Url => "url",
            StatType::Referrer => "referrer",
            StatType::Browser => "browser",
            StatType::Os => "os",
            StatType::Device => "device",
            StatType::Country => "country",
            StatType::City => "city",
            StatType::Isp => "isp",
            StatType::Screen => "screen",
            StatType::EventType => "event_type",
            StatType::Bot => "bot",
        }
    }

    pub fn parse(raw: &str) -> Option<StatType> {
        StatType::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// What the aggregator needs to know of a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInfo {
    pub id: u64,
    pub generation: u64,
    pub tz: Tz,
    pub domain: String,
}

impl From<&Site> for SiteInfo {
    fn from(site: &Site) -> Self {
        SiteInfo {
            id: site.id,
            generation: site.generation,
            tz: crate::time::site_tz(&site.timezone),
            domain: site.domain.clone(),
        }
    }
}

/// One event's effect on one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touch {
    /// Add `by` to a number attribute of a counter item.
    Add { sk: String, attr: String, by: i64 },
    /// One event of a session (hashed), `at` milliseconds into the site's day; `base`
    /// is its day's session buckets (the bucket is found along the hash's path, see
    /// `schema::tiers`).
    Session { base: String, hash: u64, at: u32 },
    /// A hashed value seen by one sketch (`base`: its parts).
    Distinct { base: String, hash: u64 },
    /// A value added to a number set of a counter item (idempotent).
    Member {
        sk: String,
        attr: String,
        value: u64,
    },
}

/// How far back, and ahead, an event still counts in the realtime figures.
pub const REALTIME_WINDOW_MINUTES: i64 = 30;

/// What a human event adds to the realtime figures, if it happened within the realtime
/// window before `now`: its minute's page views and sessions. (Not part of [`touches`]:
/// realtime items depend on the clock, are short-lived and never rebuilt.)
pub fn realtime_touches(event: &Event, now: DateTime<Utc>) -> Vec<Touch> {
    let at = event_time(event);
    let age = now - at;
    if event.is_bot
        || age > chrono::Duration::minutes(REALTIME_WINDOW_MINUTES)
        || age < chrono::Duration::minutes(-1)
    {
        return Vec::new();
    }
    let sk = super::schema::minute_key(at);
    let mut out = vec![Touch::Member {
        sk: sk.clone(),
        attr: attr::MINUTE_SESSIONS.to_owned(),
        value: hash(&event.session_id),
    }];
    if event.event_type == "page_view" {
        out.push(add(&sk, attr::PV));
    }
    out
}

/// When an event happened: its stored time, or the time in its id.
pub fn event_time(event: &Event) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&event.created_at)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| crate::events::id::time_of(event.id))
}

/// The site day an event belongs to.
pub fn event_day(event: &Event, tz: Tz) -> NaiveDate {
    event_time(event).with_timezone(&tz).date_naive()
}

/// `value` cut to at most `max` bytes, at a character boundary.
pub fn truncate_bytes(value: &str, max: usize) -> &str {
    if value.len() <= max {
        return value;
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

fn add(sk: &str, attr: impl Into<String>) -> Touch {
    Touch::Add {
        sk: sk.to_owned(),
        attr: attr.into(),
        by: 1,
    }
}

fn rank(day: NaiveDate, stat: StatType, key: &str) -> Touch {
    let key = if key.trim().is_empty() {
        "unknown"
    } else {
        key.trim()
    };
    add(
        &rank_key(day, stat),
        rank_attr(stat, truncate_bytes(key, MAX_KEY_BYTES)),
    )
}

/// Everything one event adds.
pub fn touches(event: &Event, site: &SiteInfo) -> Vec<Touch> {
    let local = event_time(event).with_timezone(&site.tz);
    let day = local.date_naive();
    let day_sk = day_key(day);
    let since_midnight = (event_time(event) - crate::time::day_start(day, site.tz))
        .num_milliseconds()
        .clamp(0, i64::from(u32::MAX));
    let at = u32::try_from(since_midnight).unwrap_or(u32::MAX);

    if event.is_bot {
        let name = if event.bot_name.is_empty() {
            &event.browser
        } else {
            &event.bot_name
        };
        return vec![add(&day_sk, attr::BOT), rank(day, StatType::Bot, name)];
    }

    let mut out = Vec::with_capacity(24);
    if event.event_type == "page_view" {
        out.push(add(&day_sk, attr::PV));
        out.push(add(&day_sk, attr::hour(local.hour())));
        out.push(add(&week_key(day), attr::PV));
        out.push(add(&month_key(day), attr::PV));
        out.push(rank(day, StatType::Url, &url_path(&event.url)));
        out.push(rank(
            day,
            StatType::Referrer,
            &referrer_host(&event.referrer, &site.domain),
        ));
        out.push(rank(day, StatType::Browser, &event.browser));
        out.push(rank(day, StatType::Os, &event.os));
        out.push(rank(day, StatType::Device, &event.device));
        out.push(rank(day, StatType::Country, &event.country));
        out.push(rank(day, StatType::City, &event.city));
        out.push(rank(day, StatType::Isp, &event.isp));
        out.push(rank(day, StatType::Screen, &event.screen));
    } else {
        out.push(add(&day_sk, attr::EV));
        let value = if event.event_value.trim().is_empty() {
            &event.event_type
        } else {
            &event.event_value
        };
        out.push(rank(day, StatType::EventType, value));
    }

    let session = hash(&event.session_id);
    out.push(Touch::Session {
        base: session_base(day),
        hash: session,
        at,
    });
    let address = hash(&event.ip);
    for window in [Window::Day, Window::Week, Window::Month] {
        for (of, hash) in [(Of::Sessions, session), (Of::Addresses, address)] {
            out.push(Touch::Distinct {
                base: part_base(window, day, of),
                hash,
            });
        }
    }
    out
}

/// The path of a page, without query string or fragment, whether `url` is a full URL or
/// a path.
pub fn url_path(url: &str) -> String {
    let url = url.trim();
    if let Ok(parsed) = url::Url::parse(url)
        && parsed.has_host()
    {
        return parsed.path().to_owned();
    }
    let path = url.split(['?', '#']).next().unwrap_or_default();
    if path.is_empty() {
        "/".to_owned()
    } else if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

/// The referring host (lower case, without `www.`); `direct` when there is none or when
/// the referrer is a page of the site itself.
pub fn referrer_host(referrer: &str, site_domain: &str) -> String {
    let referrer = referrer.trim();
    if referrer.is_empty() {
        return "direct".to_owned();
    }
    let parsed = url::Url::parse(referrer)
        .ok()
        .filter(|u| u.has_host())
        .or_else(|| url::Url::parse(&format!("http://{referrer}")).ok());
    let Some(host) = parsed
        .as_ref()
        .and_then(|u| u.host_str())
        .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
    else {
        return "direct".to_owned();
    };
    if crate::collect::host_matches(site_domain, &host) {
        return "direct".to_owned();
    }
    host.strip_prefix("www.").unwrap_or(&host).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths() {
        assert_eq!(url_path("https://example.com/a/b?x=1#top"), "/a/b");
        assert_eq!(url_path("https://example.com"), "/");
        assert_eq!(url_path("/pricing?utm=1"), "/pricing");
        assert_eq!(url_path("/docs#intro"), "/docs");
        assert_eq!(url_path(""), "/");
        assert_eq!(url_path("about"), "/about");
    }

    #[test]
    fn referrers() {
        let site = "https://example.com";
        assert_eq!(referrer_host("", site), "direct");
        assert_eq!(
            referrer_host("https://www.Google.com/search?q=x", site),
            "google.com"
        );
        assert_eq!(
            referrer_host("news.ycombinator.com/item?id=1", site),
            "news.ycombinator.com"
        );
        assert_eq!(referrer_host("https://example.com/other", site), "direct");
        assert_eq!(referrer_host("https://blog.example.com/", site), "direct");
        assert_eq!(
            referrer_host("https://notexample.com/", site),
            "notexample.com"
        );
    }

    #[test]
    fn stat_types_parse_back() {
        for t in StatType::ALL {
            assert_eq!(StatType::parse(t.as_str()), Some(t));
        }
        assert_eq!(StatType::parse("URL"), None);
    }

    #[test]
    fn keys_are_cut_by_bytes_at_a_character_boundary() {
        assert_eq!(truncate_bytes("abc", 2), "ab");
        assert_eq!(truncate_bytes("长春市", 4), "长");
        assert_eq!(truncate_bytes("长春市", 9), "长春市");
        let long = "页".repeat(300);
        assert!(truncate_bytes(&long, MAX_KEY_BYTES).len() <= MAX_KEY_BYTES);
    }
}
