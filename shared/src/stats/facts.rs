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

use chrono::{DateTime, Datelike, Days, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

use super::sessions::bucket_of;
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

/// The partition of a site generation's counters.
pub fn partition(site_id: u64, generation: u64) -> String {
    format!("{site_id}#{generation}")
}

pub fn day_key(day: NaiveDate) -> String {
    format!("D#{}", day.format("%Y%m%d"))
}
pub fn week_key(day: NaiveDate) -> String {
    format!("W#{}", monday_of(day).format("%Y%m%d"))
}
pub fn month_key(day: NaiveDate) -> String {
    format!("M#{}", day.format("%Y%m"))
}
/// The ranking item a stat type lives in: the big ones (url, referrer, city, isp) each
/// have their own, the small ones share `misc` so a batch writes fewer items.
pub fn rank_key(day: NaiveDate, stat: StatType) -> String {
    let item = match stat {
        StatType::Url | StatType::Referrer | StatType::City | StatType::Isp => stat.as_str(),
        _ => "misc",
    };
    format!("R#{}#{item}", day.format("%Y%m%d"))
}

/// The attribute of one ranking key: `<stat_type>:<key>`.
pub fn rank_attr(stat: StatType, key: &str) -> String {
    format!("{}:{key}", stat.as_str())
}

pub fn session_key(day: NaiveDate, bucket: u64) -> String {
    format!("S#{}#{bucket}", day.format("%Y%m%d"))
}

/// What a distinct-count sketch counts: its attribute in the sketch item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Of {
    /// `u`: session ids (visitors, as the original product counts them).
    Sessions,
    /// `i`: stored (anonymized) addresses.
    Addresses,
}

impl Of {
    pub fn attr(self) -> &'static str {
        match self {
            Of::Sessions => "u",
            Of::Addresses => "i",
        }
    }
}

/// Over which window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Day,
    Week,
    Month,
}

/// The item holding both sketches (sessions and addresses) of one window.
pub fn sketch_key(window: Window, day: NaiveDate) -> String {
    match window {
        Window::Day => format!("X#D#{}", day.format("%Y%m%d")),
        Window::Week => format!("X#W#{}", monday_of(day).format("%Y%m%d")),
        Window::Month => format!("X#M#{}", day.format("%Y%m")),
    }
}

/// Where the figures of a read-modify-write item are copied, so readers never read the
/// big items: `(counter item, attribute)`. Session buckets copy their totals to the day
/// (`b<bucket>`), sketch items their two counts to the day (`dx`), week (`wx`) or month
/// (`mx`).
pub fn copy_target(sk: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = sk.split('#').collect();
    match parts.as_slice() {
        ["S", day, bucket] => Some((format!("D#{day}"), format!("b{bucket}"))),
        ["X", "D", day] => Some((format!("D#{day}"), "dx".into())),
        ["X", "W", w] => Some((format!("W#{w}"), "wx".into())),
        ["X", "M", m] => Some((format!("M#{m}"), "mx".into())),
        _ => None,
    }
}

pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day.checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
        .unwrap_or(day)
}

/// One event's effect on one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touch {
    /// Add `by` to a number attribute of a counter item.
    Add { sk: String, attr: String, by: i64 },
    /// One event of a session, `at` milliseconds into the site's day.
    Session { sk: String, session: u64, at: u32 },
    /// A value seen by one of a sketch item's two sketches.
    Distinct { sk: String, of: Of, hash: u64 },
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

/// Longest ranking key kept (longer keys are cut at a character boundary).
pub const MAX_KEY: usize = 256;

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
        rank_attr(stat, &crate::events::validate::truncate(key, MAX_KEY)),
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
        return vec![add(&day_sk, "bot"), rank(day, StatType::Bot, name)];
    }

    let mut out = Vec::with_capacity(24);
    if event.event_type == "page_view" {
        out.push(add(&day_sk, "pv"));
        out.push(add(&day_sk, format!("h{:02}", local.hour())));
        out.push(add(&week_key(day), "pv"));
        out.push(add(&month_key(day), "pv"));
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
        out.push(add(&day_sk, "ev"));
        let value = if event.event_value.trim().is_empty() {
            &event.event_type
        } else {
            &event.event_value
        };
        out.push(rank(day, StatType::EventType, value));
    }

    let session = hash(&event.session_id);
    out.push(Touch::Session {
        sk: session_key(day, bucket_of(session)),
        session,
        at,
    });
    let address = hash(&event.ip);
    for window in [Window::Day, Window::Week, Window::Month] {
        out.push(Touch::Distinct {
            sk: sketch_key(window, day),
            of: Of::Sessions,
            hash: session,
        });
        out.push(Touch::Distinct {
            sk: sketch_key(window, day),
            of: Of::Addresses,
            hash: address,
        });
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
    fn copy_targets() {
        assert_eq!(
            copy_target("S#20250915#3"),
            Some(("D#20250915".into(), "b3".into()))
        );
        assert_eq!(
            copy_target("X#W#20250915"),
            Some(("W#20250915".into(), "wx".into()))
        );
        assert_eq!(
            copy_target("X#D#20250915"),
            Some(("D#20250915".into(), "dx".into()))
        );
        assert_eq!(copy_target("R#20250915#url"), None);
        assert_eq!(copy_target("D#20250915"), None);
    }

    #[test]
    fn weeks_start_on_monday() {
        let sunday = NaiveDate::from_ymd_opt(2025, 9, 21).unwrap_or_default();
        assert_eq!(week_key(sunday), "W#20250915");
        let monday = NaiveDate::from_ymd_opt(2025, 9, 15).unwrap_or_default();
        assert_eq!(week_key(monday), "W#20250915");
    }
}
