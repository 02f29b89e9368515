//! IP → location (country, first subdivision, city) and ISP, from MaxMind databases.
//!
//! A container loads its databases once, in the background, from S3 (`GEOIP_BUCKET`):
//! [`GeoIp::load_from_s3`] returns at once and lookups answer with empty fields until the
//! databases are in. A missing object, an S3 error or a corrupt database never fails a
//! lookup: it is logged once per failure streak and retried later, on a lookup after a
//! backoff (30 s doubling up to 15 min), one attempt at a time, never blocking a lookup.
//!
//! Lookups are cheap: an `Arc` clone under a read lock, a tree walk, and a decode that
//! borrows from the database; only the returned strings are allocated. Logs never carry
//! visitors' addresses.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use maxminddb::{MaxMindDbError, Reader};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use tokio::sync::watch;

use super::ip;

/// Where an address is, as stored on an event. Empty strings when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    /// Country name, in the configured language.
    pub country: String,
    /// First (largest) subdivision: England, Washington, Jilin.
    pub subdivision: String,
    pub city: String,
    /// Internet service provider or, with an ASN database, the AS organization.
    pub isp: String,
}

/// Largest database object accepted from S3 (GeoLite2-City is about 60 MB, GeoIP2-City
/// about 120 MB): a wrong key must not exhaust the function's memory.
pub const MAX_DATABASE_BYTES: usize = 512 * 1024 * 1024;

/// A download that takes longer is abandoned and retried after the backoff (a stalled
/// connection must not block every later attempt).
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error("GeoIP object s3://{bucket}/{key} does not exist")]
    NotFound { bucket: String, key: String },
    #[error("cannot download GeoIP object s3://{bucket}/{key}: {message}")]
    S3 {
        bucket: String,
        key: String,
        message: String,
    },
    #[error("GeoIP object {key} is larger than {MAX_DATABASE_BYTES} bytes")]
    TooLarge { key: String },
    #[error("cannot open the {role} database: {source}")]
    Open {
        role: Role,
        #[source]
        source: MaxMindDbError,
    },
    #[error("the {role} database is corrupt: {source}")]
    Corrupt {
        role: Role,
        #[source]
        source: MaxMindDbError,
    },
    #[error("the {role} database has type {database_type:?}, expected {expected}")]
    WrongType {
        role: Role,
        database_type: String,
        expected: &'static str,
    },
    #[error("loading the GeoIP databases panicked")]
    Panicked,
}

/// Which of the two databases an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    City,
    Isp,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::City => "City",
            Role::Isp => "ASN/ISP",
        })
    }
}

/// Where the databases live in S3 and which language names are wanted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeoSource {
    pub bucket: String,
    pub city_key: String,
    /// An ASN (GeoLite2-ASN) or ISP (GeoIP2-ISP) database, optional.
    pub isp_key: Option<String>,
    pub lang: String,
}

impl GeoSource {
    /// From `GEOIP_BUCKET`, `GEOIP_CITY_KEY` (default `GeoLite2-City.mmdb`),
    /// `GEOIP_ISP_KEY` (optional) and `GEOIP_LANG` (default `en`); `None` without
    /// `GEOIP_BUCKET`.
    pub fn from_env() -> Option<GeoSource> {
        GeoSource::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`GeoSource::from_env`], reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Option<GeoSource> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Some(GeoSource {
            bucket: get("GEOIP_BUCKET")?,
            city_key: get("GEOIP_CITY_KEY").unwrap_or_else(|| "GeoLite2-City.mmdb".to_owned()),
            isp_key: get("GEOIP_ISP_KEY"),
            lang: get("GEOIP_LANG").unwrap_or_else(|| "en".to_owned()),
        })
    }
}

/// Delay before retrying a failed load: `initial` after the first failure, doubling on
/// each further failure up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(30),
            max: Duration::from_secs(15 * 60),
        }
    }
}

impl Backoff {
    /// The delay after `failures` consecutive failures (at least 1).
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.initial.saturating_mul(1u32 << doublings).min(self.max)
    }
}

/// The GeoIP databases of one container, loaded once (in the background, from S3) and
/// shared. Cloning is cheap.
#[derive(Clone)]
pub struct GeoIp {
    inner: Arc<Inner>,
}

struct Inner {
    lang: String,
    /// The databases in use, replaced whole when a load brings a missing one in.
    current: RwLock<Option<Arc<Databases>>>,
    /// Every wanted database is in: lookups need not ask the loader for anything.
    complete: AtomicBool,
    loader: Option<Loader>,
}

struct Loader {
    s3: aws_sdk_s3::Client,
    source: GeoSource,
    backoff: Backoff,
    runtime: tokio::runtime::Handle,
    state: Mutex<LoadState>,
    /// True while an attempt is in flight; [`GeoIp::ready`] waits for it to turn false.
    busy: watch::Sender<bool>,
}

#[derive(Default)]
struct LoadState {
    in_flight: bool,
    /// Consecutive failed attempts (the current failure streak).
    failures: u32,
    /// No new attempt before this instant.
    retry_at: Option<Instant>,
}

/// One consistent set of open databases.
#[derive(Default)]
struct Databases {
    city: Option<Arc<Db>>,
    isp: Option<Arc<Db>>,
}

/// An open database and what it is.
struct Db {
    reader: Reader<Vec<u8>>,
    kind: Kind,
    /// A lookup failed on it once already (logged once, then silently empty).
    lookup_failed: AtomicBool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// GeoIP2/GeoLite2 City or Country (and Enterprise, which has the same layout).
    City,
    /// GeoLite2-ASN / GeoIP2-ASN: `autonomous_system_organization`.
    Asn,
    /// GeoIP2-ISP: `isp`, else `organization`.
    Isp,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dbs = self.inner.snapshot();
        let database_type = |db: &Option<Arc<Db>>| {
            db.as_ref()
                .map(|db| db.reader.metadata().database_type.clone())
        };
        f.debug_struct("GeoIp")
            .field("lang", &self.inner.lang)
            .field("city", &dbs.as_ref().and_then(|d| database_type(&d.city)))
            .field("isp", &dbs.as_ref().and_then(|d| database_type(&d.isp)))
            .field("source", &self.inner.loader.as_ref().map(|l| &l.source))
            .finish()
    }
}

impl GeoIp {
    /// No databases: every lookup is empty. (Tests, or when `GEOIP_BUCKET` is unset.)
    pub fn disabled() -> GeoIp {
        GeoIp::new("en", None, None)
    }

    /// From bytes already in memory (tests, benchmarks). `isp` is an optional ASN or ISP
    /// database. Fails if a database does not open, has the wrong type, or fails a test
    /// lookup.
    pub fn from_bytes(city: Vec<u8>, isp: Option<Vec<u8>>, lang: &str) -> Result<GeoIp, GeoError> {
        let city = open(city, Role::City)?;
        let isp = isp.map(|bytes| open(bytes, Role::Isp)).transpose()?;
        let dbs = Databases {
            city: Some(Arc::new(city)),
            isp: isp.map(Arc::new),
        };
        Ok(GeoIp::new(lang, Some(dbs), None))
    }

    /// Starts loading from S3 at once in a background task (call it during init, before
    /// serving), returns immediately. Must be called within a Tokio runtime: without one,
    /// it logs an error and returns [`GeoIp::disabled`].
    pub fn load_from_s3(s3: aws_sdk_s3::Client, source: GeoSource) -> GeoIp {
        GeoIp::load_from_s3_with_backoff(s3, source, Backoff::default())
    }

    /// [`GeoIp::load_from_s3`] with another retry schedule (tests).
    pub fn load_from_s3_with_backoff(
        s3: aws_sdk_s3::Client,
        source: GeoSource,
        backoff: Backoff,
    ) -> GeoIp {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!("GeoIp::load_from_s3 called outside a Tokio runtime: no locations");
            return GeoIp::disabled();
        };
        let lang = source.lang.clone();
        let loader = Loader {
            s3,
            source,
            backoff,
            runtime,
            state: Mutex::new(LoadState::default()),
            busy: watch::Sender::new(false),
        };
        let geo = GeoIp::new(&lang, None, Some(loader));
        geo.inner.start_load_if_due();
        geo
    }

    fn new(lang: &str, dbs: Option<Databases>, loader: Option<Loader>) -> GeoIp {
        GeoIp {
            inner: Arc::new(Inner {
                lang: normalize_lang(lang),
                current: RwLock::new(dbs.map(Arc::new)),
                complete: AtomicBool::new(loader.is_none()),
                loader,
            }),
        }
    }

    /// Waits up to `timeout` for an in-flight load (so the first request uses the
    /// database if it is close to ready); starts one first if a retry is due. True when
    /// a City database is in use.
    pub async fn ready(&self, timeout: Duration) -> bool {
        if let Some(loader) = &self.inner.loader
            && !self.inner.complete.load(Ordering::Acquire)
        {
            self.inner.start_load_if_due();
            let mut busy = loader.busy.subscribe();
            // The sender lives as long as `self`: waiting ends with the load or the timeout.
            let _ = tokio::time::timeout(timeout, busy.wait_for(|busy| !*busy)).await;
        }
        self.inner.snapshot().is_some_and(|dbs| dbs.city.is_some())
    }

    /// Location of `ip`; empty fields when not public, not found, or no database (yet).
    pub fn lookup(&self, ip: IpAddr) -> Location {
        let ip = ip.to_canonical();
        if !ip::is_public(ip) {
            return Location::default();
        }
        if !self.inner.complete.load(Ordering::Acquire) {
            self.inner.start_load_if_due();
        }
        match self.inner.snapshot() {
            Some(dbs) => dbs.lookup(ip, &self.inner.lang),
            None => Location::default(),
        }
    }
}

impl Inner {
    fn snapshot(&self) -> Option<Arc<Databases>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Spawns a load attempt unless one is in flight or the backoff has not elapsed.
    fn start_load_if_due(self: &Arc<Self>) {
        let Some(loader) = &self.loader else {
            return;
        };
        {
            let mut state = loader.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.in_flight || state.retry_at.is_some_and(|at| Instant::now() < at) {
                return;
            }
            state.in_flight = true;
            loader.busy.send_replace(true);
        }
        let inner = Arc::clone(self);
        loader.runtime.spawn(async move {
            use futures::FutureExt;
            let attempt = std::panic::AssertUnwindSafe(inner.load_missing());
            let errors = match attempt.catch_unwind().await {
                Ok(errors) => errors,
                Err(_) => vec![GeoError::Panicked],
            };
            inner.finish_attempt(errors);
        });
    }

    /// Downloads and opens whatever wanted database is not in yet; installs what worked.
    async fn load_missing(&self) -> Vec<GeoError> {
        let Some(loader) = &self.loader else {
            return vec![];
        };
        let have = self.snapshot();
        let mut city = have.as_ref().and_then(|d| d.city.clone());
        let mut isp = have.as_ref().and_then(|d| d.isp.clone());
        let mut errors = Vec::new();
        let mut changed = false;
        let wanted = [
            (Role::City, Some(&loader.source.city_key)),
            (Role::Isp, loader.source.isp_key.as_ref()),
        ];
        for (role, key) in wanted {
            let slot = match role {
                Role::City => &mut city,
                Role::Isp => &mut isp,
            };
            let Some(key) = key else { continue };
            if slot.is_some() {
                continue;
            }
            match loader.fetch_and_open(key, role).await {
                Ok(db) => {
                    *slot = Some(Arc::new(db));
                    changed = true;
                }
                Err(e) => errors.push(e),
            }
        }
        if changed {
            let dbs = Arc::new(Databases { city, isp });
            *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(dbs);
        }
        errors
    }

    /// Records an attempt's outcome: logs the first failure of a streak, sets the next
    /// retry time, and wakes [`GeoIp::ready`] waiters.
    fn finish_attempt(&self, errors: Vec<GeoError>) {
        let Some(loader) = &self.loader else {
            return;
        };
        let mut state = loader.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.in_flight = false;
        if errors.is_empty() {
            if state.failures > 0 {
                tracing::info!(
                    failed_attempts = state.failures,
                    "GeoIP databases loaded after earlier failures"
                );
            }
            state.failures = 0;
            state.retry_at = None;
            self.complete.store(true, Ordering::Release);
        } else {
            state.failures = state.failures.saturating_add(1);
            let delay = loader.backoff.delay(state.failures);
            state.retry_at = Some(Instant::now() + delay);
            let retry_in_secs = delay.as_secs_f64();
            let failures = state.failures;
            for error in &errors {
                if failures > 1 {
                    tracing::debug!(%error, failures, retry_in_secs, "GeoIP load failed again");
                } else if matches!(error, GeoError::NotFound { .. }) {
                    tracing::warn!(
                        %error,
                        retry_in_secs,
                        "GeoIP database missing: locations stay empty until it is uploaded"
                    );
                } else {
                    tracing::error!(
                        %error,
                        retry_in_secs,
                        "GeoIP database failed to load: locations stay empty until it loads"
                    );
                }
            }
        }
        // Under the lock, so a new attempt cannot be marked busy before this one is done.
        loader.busy.send_replace(false);
    }
}

impl Loader {
    async fn fetch_and_open(&self, key: &str, role: Role) -> Result<Db, GeoError> {
        let started = Instant::now();
        let bytes = self.fetch(key).await?;
        let size = bytes.len();
        let downloaded = started.elapsed();
        let db = open(bytes, role)?;
        let metadata = db.reader.metadata();
        tracing::info!(
            key,
            bytes = size,
            database_type = %metadata.database_type,
            build_epoch = metadata.build_epoch,
            download_ms = downloaded.as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "GeoIP database loaded"
        );
        Ok(db)
    }

    async fn fetch(&self, key: &str) -> Result<Vec<u8>, GeoError> {
        match tokio::time::timeout(DOWNLOAD_TIMEOUT, self.download(key)).await {
            Ok(result) => result,
            Err(_) => Err(GeoError::S3 {
                bucket: self.source.bucket.clone(),
                key: key.to_owned(),
                message: format!("no complete answer within {} s", DOWNLOAD_TIMEOUT.as_secs()),
            }),
        }
    }

    async fn download(&self, key: &str) -> Result<Vec<u8>, GeoError> {
        let bucket = &self.source.bucket;
        let s3_error = |message: String| GeoError::S3 {
            bucket: bucket.clone(),
            key: key.to_owned(),
            message,
        };
        let response = self
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error().is_some_and(|e| e.is_no_such_key()) {
                    GeoError::NotFound {
                        bucket: bucket.clone(),
                        key: key.to_owned(),
                    }
                } else {
                    s3_error(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
                }
            })?;
        let too_large = || GeoError::TooLarge {
            key: key.to_owned(),
        };
        let announced = response
            .content_length()
            .and_then(|len| usize::try_from(len).ok())
            .unwrap_or(0);
        if announced > MAX_DATABASE_BYTES {
            return Err(too_large());
        }
        let mut bytes = Vec::with_capacity(announced);
        let mut body = response.body;
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?
        {
            if bytes.len() + chunk.len() > MAX_DATABASE_BYTES {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

/// Opens a database and checks it: the type fits `role`, and test lookups decode.
fn open(bytes: Vec<u8>, role: Role) -> Result<Db, GeoError> {
    let reader = Reader::from_source(bytes).map_err(|source| GeoError::Open { role, source })?;
    let database_type = reader.metadata().database_type.as_str();
    let kind = match role {
        Role::City
            if ["City", "Country", "Enterprise"]
                .iter()
                .any(|t| database_type.contains(t)) =>
        {
            Kind::City
        }
        Role::Isp if database_type.contains("ASN") => Kind::Asn,
        Role::Isp if database_type.contains("ISP") => Kind::Isp,
        _ => {
            return Err(GeoError::WrongType {
                role,
                database_type: database_type.to_owned(),
                expected: match role {
                    Role::City => "a City or Country database",
                    Role::Isp => "an ASN or ISP database",
                },
            });
        }
    };
    let db = Db {
        reader,
        kind,
        lookup_failed: AtomicBool::new(false),
    };
    db.check()
        .map_err(|source| GeoError::Corrupt { role, source })?;
    Ok(db)
}

/// Addresses every real database places (and that walk both halves of the tree).
const PROBES: [IpAddr; 4] = [
    IpAddr::V4(std::net::Ipv4Addr::new(8, 8, 8, 8)),
    IpAddr::V4(std::net::Ipv4Addr::new(81, 2, 69, 142)),
    IpAddr::V4(std::net::Ipv4Addr::new(175, 16, 199, 1)),
    IpAddr::V6(std::net::Ipv6Addr::new(0x2a00, 0x1450, 0, 0, 0, 0, 0, 1)),
];

/// How many of the first records in tree order [`Db::check`] decodes.
const CHECKED_RECORDS: usize = 32;

impl Db {
    /// A cheap sanity check (a full `Reader::verify` takes most of a second on
    /// GeoLite2-City): the probe addresses and the first records decode. A corrupt
    /// record that slips through makes its lookups empty, never a panic.
    fn check(&self) -> Result<(), MaxMindDbError> {
        for ip in PROBES {
            if ip.is_ipv6() && self.reader.metadata().ip_version == 4 {
                continue;
            }
            self.decode_into(ip, "en", &mut Location::default())?;
        }
        for result in self
            .reader
            .networks(Default::default())?
            .take(CHECKED_RECORDS)
        {
            let found = result?;
            match self.kind {
                Kind::City => found.decode::<CityRecord<'_>>().map(drop)?,
                Kind::Asn | Kind::Isp => found.decode::<IspRecord<'_>>().map(drop)?,
            }
        }
        Ok(())
    }

    /// Fills `location`'s fields from this database's record for `ip`, if any.
    fn decode_into(
        &self,
        ip: IpAddr,
        lang: &str,
        location: &mut Location,
    ) -> Result<(), MaxMindDbError> {
        if ip.is_ipv6() && self.reader.metadata().ip_version == 4 {
            return Ok(());
        }
        let found = self.reader.lookup(ip)?;
        match self.kind {
            Kind::City => {
                if let Some(record) = found.decode::<CityRecord<'_>>()? {
                    let country = match record.country.names.pick(lang) {
                        "" => record.registered_country.names.pick(lang),
                        name => name,
                    };
                    location.country = country.to_owned();
                    location.subdivision = record.subdivisions.0.names.pick(lang).to_owned();
                    location.city = record.city.names.pick(lang).to_owned();
                }
            }
            Kind::Asn | Kind::Isp => {
                if let Some(record) = found.decode::<IspRecord<'_>>()? {
                    let name = match self.kind {
                        Kind::Asn => record.autonomous_system_organization,
                        _ => record
                            .isp
                            .or(record.organization)
                            .or(record.autonomous_system_organization),
                    };
                    location.isp = name.unwrap_or_default().to_owned();
                }
            }
        }
        Ok(())
    }

    fn lookup_into(&self, ip: IpAddr, lang: &str, location: &mut Location) {
        if let Err(error) = self.decode_into(ip, lang, location) {
            // Never the address: only what is wrong with the database.
            if !self.lookup_failed.swap(true, Ordering::Relaxed) {
                tracing::error!(
                    %error,
                    database_type = %self.reader.metadata().database_type,
                    "GeoIP lookup failed: the database looks corrupt (logged once)"
                );
            }
        }
    }
}

impl Databases {
    fn lookup(&self, ip: IpAddr, lang: &str) -> Location {
        let mut location = Location::default();
        if let Some(city) = &self.city {
            // Fields are set only once a record decoded whole: a failure leaves them empty.
            city.lookup_into(ip, lang, &mut location);
        }
        if let Some(isp) = &self.isp {
            isp.lookup_into(ip, lang, &mut location);
        }
        location
    }
}

/// `GEOIP_LANG` as MaxMind spells languages: `zh_CN` → `zh-CN`; empty → `en`.
fn normalize_lang(lang: &str) -> String {
    let lang = lang.trim().replace('_', "-");
    if lang.is_empty() {
        "en".to_owned()
    } else {
        lang
    }
}

// Records as decoded: only the fields used, borrowed from the database, no allocation.

/// A City (or Country, Enterprise) record.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct CityRecord<'a> {
    #[serde(borrow)]
    country: Place<'a>,
    #[serde(borrow)]
    registered_country: Place<'a>,
    #[serde(borrow)]
    subdivisions: FirstPlace<'a>,
    #[serde(borrow)]
    city: Place<'a>,
}

/// An ASN or ISP record.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct IspRecord<'a> {
    autonomous_system_organization: Option<&'a str>,
    isp: Option<&'a str>,
    organization: Option<&'a str>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Place<'a> {
    #[serde(borrow)]
    names: Names<'a>,
}

/// The first place of a list (subdivisions: the largest first); the rest is skipped.
#[derive(Default)]
struct FirstPlace<'a>(Place<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for FirstPlace<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct First;
        impl<'de> Visitor<'de> for First {
            type Value = FirstPlace<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of places")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let first = seq.next_element::<Place<'de>>()?.unwrap_or_default();
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FirstPlace(first))
            }
        }
        deserializer.deserialize_seq(First)
    }
}

/// Most names maps hold 8 languages (de, en, es, fr, ja, pt-BR, ru, zh-CN); more are
/// ignored.
const MAX_NAMES: usize = 12;

/// A names map (`{"en": "Germany", "de": "Deutschland", …}`), kept inline as raw bytes:
/// only the name picked is checked for UTF-8 (a third of the decoding time otherwise).
#[derive(Default)]
struct Names<'a> {
    entries: [(&'a [u8], &'a [u8]); MAX_NAMES],
    len: usize,
}

impl<'a> Names<'a> {
    /// The name in `lang` (exact, case-insensitive; else the same primary language, so
    /// `zh` and `zh-TW` find `zh-CN`), else English, else the first one, else "".
    /// Names that are not valid UTF-8 are passed over.
    fn pick(&self, lang: &str) -> &'a str {
        let lang = lang.as_bytes();
        let primary = |tag: &'a [u8]| tag.split(|&b| b == b'-').next().unwrap_or(tag);
        let lang_primary = lang.split(|&b| b == b'-').next().unwrap_or(lang);
        let mut same_language = None;
        let mut english = None;
        let mut first = None;
        for &(tag, name) in &self.entries[..self.len] {
            let exact = tag.eq_ignore_ascii_case(lang);
            let same = same_language.is_none() && primary(tag).eq_ignore_ascii_case(lang_primary);
            let en = english.is_none() && tag == b"en";
            if !(exact || same || en || first.is_none()) {
                continue;
            }
            let Ok(name) = std::str::from_utf8(name) else {
                continue;
            };
            if exact {
                return name;
            }
            if same {
                same_language = Some(name);
            }
            if en {
                english = Some(name);
            }
            first = first.or(Some(name));
        }
        same_language.or(english).or(first).unwrap_or("")
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Names<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NamesVisitor;
        impl<'de> Visitor<'de> for NamesVisitor {
            type Value = Names<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of language to name")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut names = Names::default();
                while let Some(Tag(tag)) = map.next_key::<Tag<'de>>()? {
                    let RawStr(name) = map.next_value::<RawStr<'de>>()?;
                    if names.len < MAX_NAMES && !name.is_empty() {
                        names.entries[names.len] = (tag, name);
                        names.len += 1;
                    }
                }
                Ok(names)
            }
        }
        deserializer.deserialize_map(NamesVisitor)
    }
}

/// A map key as raw bytes (`deserialize_identifier` skips UTF-8 validation).
struct Tag<'a>(&'a [u8]);

impl<'de: 'a, 'a> Deserialize<'de> for Tag<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(BytesVisitor).map(Tag)
    }
}

/// A string value as raw bytes, through maxminddb's raw-strings mode.
struct RawStr<'a>(&'a [u8]);

impl<'de: 'a, 'a> Deserialize<'de> for RawStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        maxminddb::deserialize_any_with_raw_strings(deserializer, BytesVisitor).map(RawStr)
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = &'de [u8];
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }
    // maxminddb's raw-strings mode hands MMDB strings over as a newtype.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_bytes(BytesVisitor)
    }
    fn visit_borrowed_bytes<E>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        Ok(v)
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(v.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> Vec<u8> {
        let path = format!("{}/testdata/geoip/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
    }

    fn city_db() -> Vec<u8> {
        testdata("GeoLite2-City-Test.mmdb")
    }

    fn geo(lang: &str) -> GeoIp {
        GeoIp::from_bytes(city_db(), Some(testdata("GeoLite2-ASN-Test.mmdb")), lang).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn location(country: &str, subdivision: &str, city: &str, isp: &str) -> Location {
        Location {
            country: country.into(),
            subdivision: subdivision.into(),
            city: city.into(),
            isp: isp.into(),
        }
    }

    #[test]
    fn city_database_in_english() {
        let geo = geo("en");
        assert_eq!(
            geo.lookup(ip("81.2.69.142")),
            location("United Kingdom", "England", "London", "")
        );
        assert_eq!(
            geo.lookup(ip("216.160.83.56")),
            location("United States", "Washington", "Milton", "")
        );
        assert_eq!(
            geo.lookup(ip("175.16.199.1")),
            location("China", "Jilin Sheng", "Changchun", "")
        );
        // Country only.
        assert_eq!(geo.lookup(ip("2001:218::1")), location("Japan", "", "", ""));
        // IPv4-mapped IPv6 is looked up as IPv4.
        assert_eq!(geo.lookup(ip("::ffff:81.2.69.142")).city, "London");
    }

    #[test]
    fn names_in_other_languages_fall_back_to_english() {
        let zh = geo("zh-CN");
        assert_eq!(
            zh.lookup(ip("175.16.199.1")),
            location("中国", "吉林", "长春", "")
        );
        // London has no zh-CN city name, England no zh-CN name: English.
        assert_eq!(
            zh.lookup(ip("81.2.69.142")),
            location("英国", "England", "London", "")
        );
        assert_eq!(
            geo("de").lookup(ip("81.2.69.142")),
            location("Vereinigtes Königreich", "England", "London", "")
        );
        assert_eq!(
            geo("ja").lookup(ip("216.160.83.56")),
            location("アメリカ合衆国", "ワシントン州", "Milton", "")
        );
        // Spelling variants of the tag, and a primary language alone.
        for lang in ["zh_CN", "ZH-cn", "zh", "zh-TW"] {
            assert_eq!(
                geo(lang).lookup(ip("175.16.199.1")).country,
                "中国",
                "{lang}"
            );
        }
        // Unknown or empty language: English.
        for lang in ["ko", "", "  "] {
            assert_eq!(
                geo(lang).lookup(ip("175.16.199.1")).country,
                "China",
                "{lang:?}"
            );
        }
    }

    #[test]
    fn names_pick_the_language_then_english_then_any() {
        let mut names = Names::default();
        for (i, (tag, name)) in [("ru", "Лондон"), ("en", "London"), ("pt-BR", "Londres")]
            .into_iter()
            .enumerate()
        {
            names.entries[i] = (tag.as_bytes(), name.as_bytes());
            names.len = i + 1;
        }
        assert_eq!(names.pick("ru"), "Лондон");
        assert_eq!(names.pick("pt"), "Londres");
        assert_eq!(names.pick("pt-PT"), "Londres");
        assert_eq!(names.pick("de"), "London");
        names.entries[1] = (b"fr", b"Londres (fr)");
        assert_eq!(names.pick("de"), "Лондон");
        // Invalid UTF-8 is passed over.
        names.entries[0] = (b"ru", b"\xff\xfe");
        assert_eq!(names.pick("ru"), "Londres (fr)");
        assert_eq!(Names::default().pick("en"), "");
    }

    #[test]
    fn asn_database_gives_the_organization() {
        let geo = geo("en");
        assert_eq!(
            geo.lookup(ip("1.0.0.1")),
            location("", "", "", "Google Inc.")
        );
        assert_eq!(geo.lookup(ip("12.81.92.1")).isp, "AT&T Services");
        assert_eq!(geo.lookup(ip("2600:6000::1")).isp, "Merit Network Inc.");
    }

    #[test]
    fn isp_database_gives_the_isp_else_the_organization() {
        let geo =
            GeoIp::from_bytes(city_db(), Some(testdata("GeoIP2-ISP-Test.mmdb")), "en").unwrap();
        assert_eq!(geo.lookup(ip("105.159.0.1")).isp, "Maroc Telecom");
        assert_eq!(geo.lookup(ip("8.8.8.8")).isp, "Level 3 Communications");
        assert_eq!(
            geo.lookup(ip("32.64.85.1")).isp,
            "AT&T Synaptic Cloud Hosting"
        );
        assert_eq!(geo.lookup(ip("2404:1000::1")).isp, "Merit Network Inc.");
        // A number only: no name.
        assert_eq!(geo.lookup(ip("74.0.144.1")).isp, "");
    }

    #[test]
    fn non_public_and_unknown_addresses_are_empty() {
        let geo = geo("en");
        for addr in [
            "127.0.0.1",
            "10.0.0.1",
            "192.168.1.10",
            "100.64.1.1",
            "169.254.169.254",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            // Public, but not in the test databases.
            "8.8.8.8",
            "9.9.9.9",
            "2a00:1450::1",
        ] {
            assert_eq!(geo.lookup(ip(addr)), Location::default(), "{addr}");
        }
    }

    #[tokio::test]
    async fn disabled_is_empty_and_never_ready() {
        let geo = GeoIp::disabled();
        assert_eq!(geo.lookup(ip("81.2.69.142")), Location::default());
        assert!(!geo.ready(Duration::from_secs(60)).await);
        assert!(format!("{geo:?}").contains("GeoIp"));
    }

    #[tokio::test]
    async fn from_bytes_is_ready_at_once() {
        assert!(geo("en").ready(Duration::ZERO).await);
    }

    #[test]
    fn wrong_database_types_are_refused() {
        let asn = testdata("GeoLite2-ASN-Test.mmdb");
        let err = GeoIp::from_bytes(asn, None, "en").unwrap_err();
        assert!(
            matches!(
                err,
                GeoError::WrongType {
                    role: Role::City,
                    ..
                }
            ),
            "{err}"
        );
        let err = GeoIp::from_bytes(city_db(), Some(city_db()), "en").unwrap_err();
        assert!(
            matches!(
                err,
                GeoError::WrongType {
                    role: Role::Isp,
                    ..
                }
            ),
            "{err}"
        );
        // A Country database is a City database without cities.
        let country = testdata("GeoLite2-Country-Test.mmdb");
        let geo = GeoIp::from_bytes(country, None, "en").unwrap();
        assert_eq!(geo.lookup(ip("81.2.69.142")).country, "United Kingdom");
    }

    #[test]
    fn corrupt_databases_are_refused() {
        let broken = testdata("MaxMind-DB-test-broken-pointers-24.mmdb");
        assert!(GeoIp::from_bytes(broken.clone(), None, "en").is_err());
        assert!(GeoIp::from_bytes(city_db(), Some(broken), "en").is_err());
        for bytes in [
            vec![],
            b"<html>Not Found</html>".to_vec(),
            city_db()[..10_000].to_vec(),
        ] {
            let err = GeoIp::from_bytes(bytes, None, "en").unwrap_err();
            assert!(matches!(err, GeoError::Open { .. }), "{err}");
        }
    }

    /// The City test database with its data section (records) overwritten.
    fn garbled_city_db() -> Vec<u8> {
        let mut bytes = city_db();
        let reader = Reader::from_source(bytes.clone()).unwrap();
        let metadata = reader.metadata();
        let tree = metadata.node_count as usize * metadata.record_size as usize / 4;
        let data = tree + 16;
        bytes[data..data + 4_000].fill(0xff);
        bytes
    }

    #[test]
    fn a_database_with_garbled_records_fails_its_check() {
        let err = GeoIp::from_bytes(garbled_city_db(), None, "en").unwrap_err();
        assert!(
            matches!(
                err,
                GeoError::Corrupt {
                    role: Role::City,
                    ..
                }
            ),
            "{err}"
        );
    }

    /// The broken-pointers database opens, and some of its lookups fail: past the type
    /// check, the record check refuses it; and lookups on it anyway are empty, not panics.
    #[test]
    fn a_corrupt_database_that_opens_fails_its_check_and_lookups_stay_empty() {
        let broken = testdata("MaxMind-DB-test-broken-pointers-24.mmdb");
        let reader = Reader::from_source(broken).unwrap();
        let db = Db {
            reader,
            kind: Kind::City,
            lookup_failed: AtomicBool::new(false),
        };
        assert!(db.check().is_err());
        let dbs = Databases {
            city: Some(Arc::new(db)),
            isp: None,
        };
        for last in 0..=255u8 {
            let addr = IpAddr::from([1, 1, 1, last]);
            assert_eq!(dbs.lookup(addr, "en"), Location::default(), "{addr}");
        }
        assert_eq!(dbs.lookup(ip("2001:218::1"), "en"), Location::default());
        assert!(
            dbs.city
                .as_ref()
                .unwrap()
                .lookup_failed
                .load(Ordering::Relaxed)
        );
    }

    /// Flipped bytes anywhere in a database: refused, or lookups that answer; no panic.
    #[test]
    fn damaged_databases_never_panic() {
        let good = city_db();
        let probes = [
            "81.2.69.142",
            "216.160.83.56",
            "175.16.199.1",
            "89.160.20.112",
            "2001:218::1",
            "1.1.1.1",
        ];
        let mut refused = 0;
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..2_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut bytes = good.clone();
            let at = (state % bytes.len() as u64) as usize;
            bytes[at] ^= (state >> 56) as u8 | 1;
            match GeoIp::from_bytes(bytes, None, "en") {
                Err(_) => refused += 1,
                Ok(geo) => {
                    for addr in probes {
                        let _ = geo.lookup(ip(addr));
                    }
                }
            }
        }
        assert!(refused > 0);
    }

    #[test]
    fn source_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(GeoSource::from_lookup(env(&[])), None);
        assert_eq!(GeoSource::from_lookup(env(&[("GEOIP_BUCKET", " ")])), None);
        assert_eq!(
            GeoSource::from_lookup(env(&[("GEOIP_BUCKET", "geo")])),
            Some(GeoSource {
                bucket: "geo".into(),
                city_key: "GeoLite2-City.mmdb".into(),
                isp_key: None,
                lang: "en".into(),
            })
        );
        assert_eq!(
            GeoSource::from_lookup(env(&[
                ("GEOIP_BUCKET", "geo"),
                ("GEOIP_CITY_KEY", "dbs/City.mmdb"),
                ("GEOIP_ISP_KEY", "dbs/ASN.mmdb"),
                ("GEOIP_LANG", "zh-CN"),
            ])),
            Some(GeoSource {
                bucket: "geo".into(),
                city_key: "dbs/City.mmdb".into(),
                isp_key: Some("dbs/ASN.mmdb".into()),
                lang: "zh-CN".into(),
            })
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let backoff = Backoff::default();
        let secs = |failures| backoff.delay(failures).as_secs();
        assert_eq!([1, 2, 3, 4, 5, 6].map(secs), [30, 60, 120, 240, 480, 900]);
        assert_eq!(secs(7), 900);
        assert_eq!(secs(u32::MAX), 900);
        assert_eq!(secs(0), 30);
    }

    #[test]
    fn lookups_on_a_loaded_database_do_not_touch_the_loader() {
        let geo = geo("en");
        assert!(geo.inner.loader.is_none());
        assert!(geo.inner.complete.load(Ordering::Relaxed));
    }
}
