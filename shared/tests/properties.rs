//! Property tests of what the API parses by hand: the beacon's lenient body, dates in
//! every accepted form, site domains, screens and user agents. Whatever the input: no
//! panic, an answer or a clear error; and round trips where there is a formatter.

use chrono::{Datelike, NaiveDate};
use pingoo::collect::Beacon;
use pingoo::enrich::user_agent;
use pingoo::events::validate::is_screen;
use pingoo::http::extract::parse_json;
use pingoo::sites::domain;
use pingoo::time::{Bound, parse_bound, parse_day};
use proptest::prelude::*;
use serde_json::{Value, json};

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const BEACON_FIELDS: [&str; 9] = [
    "site_id",
    "tracking_id",
    "session_id",
    "user_id",
    "url",
    "referrer",
    "event_type",
    "event_value",
    "screen",
];

fn day() -> impl Strategy<Value = NaiveDate> {
    (1000i32..=9999, 1u32..=12, 1u32..=31)
        .prop_filter_map("a real day", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any bytes as a beacon body: parsed or refused, never a panic.
    #[test]
    fn a_beacon_body_of_any_bytes_is_parsed_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_json::<Beacon>(&bytes);
    }

    /// A beacon object with any JSON in its known fields: a wrong type is a 400 naming
    /// the field (`site_id` takes anything: the lenient part, judged later), never a panic.
    #[test]
    fn a_beacon_with_any_values_is_parsed_or_names_the_field(
        values in prop::collection::vec(any_json(), BEACON_FIELDS.len()),
        extra in any_json(),
    ) {
        let mut body = serde_json::Map::new();
        for (field, value) in BEACON_FIELDS.iter().zip(values) {
            body.insert((*field).to_owned(), value);
        }
        body.insert("unknown_field".to_owned(), extra);
        let text = Value::Object(body.clone()).to_string();
        match parse_json::<Beacon>(text.as_bytes()) {
            Ok(beacon) => {
                for (field, got) in [("session_id", &beacon.session_id), ("url", &beacon.url), ("screen", &beacon.screen)] {
                    match &body[field] {
                        Value::String(s) => prop_assert_eq!(got.as_deref(), Some(s.as_str())),
                        Value::Null => prop_assert!(got.is_none()),
                        other => prop_assert!(false, "{} {} was accepted", field, other),
                    }
                }
            }
            Err(err) => {
                let msg = err.to_string();
                let named = BEACON_FIELDS.iter().any(|f| msg.contains(&format!("`{f}`")));
                prop_assert!(named, "{}", msg);
            }
        }
    }

    /// The two day formats read back the day they were written from.
    #[test]
    fn days_round_trip_in_both_formats(day in day()) {
        let compact = day.format("%Y%m%d").to_string();
        let dashed = day.format("%Y-%m-%d").to_string();
        let padded = format!(" {dashed} ");
        prop_assert_eq!(parse_day(&compact), Some(day));
        prop_assert_eq!(parse_day(&dashed), Some(day));
        prop_assert_eq!(parse_day(&padded), Some(day));
    }

    /// A day's bounds in any time zone: the start before the end, the whole day between
    /// them (23 to 25 hours across DST, more where a zone skipped a day), the start on
    /// that local day.
    #[test]
    fn a_days_bounds_hold_the_day_in_any_zone(day in day(), zone in 0..chrono_tz::TZ_VARIANTS.len()) {
        let tz = chrono_tz::TZ_VARIANTS[zone];
        let text = day.format("%Y%m%d").to_string();
        let start = parse_bound("start_date", &text, tz, Bound::Start).expect("a day");
        let end = parse_bound("end_date", &text, tz, Bound::End).expect("a day");
        prop_assert!(start < end);
        let hours = (end - start).num_minutes() as f64 / 60.0;
        prop_assert!((20.0..=49.0).contains(&hours), "{} h in {} on {}", hours, tz, day);
        let local = start.with_timezone(&tz).date_naive();
        let next = local.num_days_from_ce() == day.num_days_from_ce() + 1;
        prop_assert!(local == day || next, "{} for {} in {}", local, day, tz);
    }

    /// Any text as a date parameter: a time or a 400 naming the parameter.
    #[test]
    fn any_text_as_a_date_is_read_or_named(raw in ".{0,40}") {
        if let Err(err) = parse_bound("start_date", &raw, chrono_tz::Tz::UTC, Bound::Start) {
            prop_assert!(err.to_string().starts_with("start_date must be"));
        }
    }

    /// Any text as a site domain: normalised or refused; a normalised domain normalises
    /// to itself.
    #[test]
    fn domains_normalise_to_a_fixed_point(raw in prop_oneof![".{0,40}", "(https?://)?[A-Za-z0-9.-]{1,30}(:[0-9]{1,5})?(/[a-z]{0,5})?"]) {
        if let Ok(normal) = domain::normalize(&raw) {
            prop_assert_eq!(domain::normalize(&normal).ok(), Some(normal.clone()));
            prop_assert!(!domain::host(&normal).is_empty());
        }
    }

    /// Host names of valid labels, with or without a scheme, port and path: kept,
    /// lowercased, without the path.
    #[test]
    fn valid_host_names_are_kept(
        labels in prop::collection::vec("[a-zA-Z0-9]{1,12}", 1..4),
        tld in "[a-z]{2,6}",
        scheme in prop::option::of(prop_oneof![Just("http"), Just("https")]),
        port in prop::option::of(1u16..),
        path in "(/[a-z0-9]{0,6}){0,2}",
    ) {
        let host = format!("{}.{tld}", labels.join("."));
        let port_text = port.map(|p| format!(":{p}")).unwrap_or_default();
        let raw = match scheme {
            Some(s) => format!("{s}://{host}{port_text}{path}"),
            None => format!("{host}{port_text}{path}"),
        };
        let normal = domain::normalize(&raw).map_err(|e| TestCaseError::fail(format!("{raw}: {e}")))?;
        prop_assert_eq!(domain::host(&normal), host.to_lowercase());
        prop_assert!(!normal.contains('/') || normal.contains("://"));
        // Default ports are dropped by URL parsing; others are kept.
        if let (Some(p), Some(s)) = (port, scheme) {
            let default = (s == "http" && p == 80) || (s == "https" && p == 443);
            let suffix = format!(":{p}");
            prop_assert_eq!(normal.ends_with(&suffix), !default);
        }
    }

    /// `WxH` screens of 1 to 5 digits each are screens; nothing else with an extra part is.
    #[test]
    fn screens_are_two_numbers(w in 0u32..100_000, h in 0u32..100_000, junk in "[^0-9x]{1,3}") {
        let good = format!("{w}x{h}");
        prop_assert!(is_screen(&good));
        for bad in [format!("{w}x{h}{junk}"), format!("{w}{junk}{h}"), format!("{w}x{h}x1")] {
            prop_assert!(!is_screen(&bad), "{}", bad);
        }
    }

    /// Any text as a screen: a yes or a no, never a panic.
    #[test]
    fn any_text_is_a_screen_or_not(raw in ".{0,16}") {
        let _ = is_screen(&raw);
    }

    /// Any user agent and screen: parsed, the same way twice, into a known device class;
    /// a bot is a bot device with a name.
    #[test]
    fn any_user_agent_is_classified(agent in prop_oneof![".{0,200}", "Mozilla/5.0 \\([ -~]{0,60}\\) [ -~]{0,60}"], screen in prop::option::of(".{0,12}")) {
        let info = user_agent::parse(&agent, screen.as_deref());
        let again = user_agent::parse(&agent, screen.as_deref());
        prop_assert_eq!(&info.device, &again.device);
        prop_assert_eq!(&info.browser, &again.browser);
        prop_assert!(["desktop", "mobile", "tablet", "bot", "other"].contains(&info.device.as_str()), "{}", info.device);
        if info.is_bot {
            prop_assert!(info.bot_name.as_deref().is_some_and(|n| !n.is_empty()));
        }
    }
}
