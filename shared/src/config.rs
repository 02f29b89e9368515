//! Configuration from environment variables (documented in the README).
//!
//! Local runs get safe defaults; production refuses to start without its secrets.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;

use crate::events::retention::Retention;

/// Where the process runs. Decides which defaults are acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `scripts/dev`, `cargo lambda watch`, tests: stand-ins, generated secrets.
    Local,
    /// A deployed Lambda: every secret must be given.
    Production,
}

/// Shortest JWT secret accepted (HS256 wants at least 256 bits of key).
pub const MIN_JWT_SECRET_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "JWT_SECRET is missing: set it to a random string of at least {MIN_JWT_SECRET_LEN} bytes (the SAM template resolves it from Secrets Manager)"
    )]
    MissingJwtSecret,
    #[error("JWT_SECRET is too short ({0} bytes): it must be at least {MIN_JWT_SECRET_LEN} bytes")]
    ShortJwtSecret(usize),
    #[error("{name} has an invalid value {value:?}: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("cannot read or create the local JWT secret at {path}: {source}")]
    LocalSecret {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Clone)]
pub struct Config {
    pub mode: Mode,
    pub region: String,
    /// Endpoint override for DynamoDB (DynamoDB Local); `None` on AWS.
    pub dynamodb_endpoint: Option<String>,
    /// Endpoint override for S3 (moto); `None` on AWS.
    pub s3_endpoint: Option<String>,
    pub tables: Tables,
    pub jwt_secret: Vec<u8>,
    /// Attempt limits of login, registration, password changes and share unlocks.
    pub limits: Limits,
    /// Keep visitors' full IP addresses instead of /24 (IPv4) and /48 (IPv6) prefixes.
    pub store_full_ip: bool,
    /// How far behind the events table the aggregator may run (batching window, retries,
    /// iterator age): part of the janitor's grace, see [`Config::purge_grace`].
    /// `PURGE_STREAM_LAG_SECONDS`, default [`DEFAULT_PURGE_STREAM_LAG`].
    pub purge_stream_lag: Duration,
    /// Most sites one user may have (`MAX_SITES_PER_USER`, default 100).
    pub max_sites_per_user: u64,
    /// How long after a refresh the token it replaced still refreshes (to the current
    /// generation) instead of counting as a reuse: two tabs refreshing at once.
    /// `REFRESH_REUSE_GRACE_SECONDS`, default 30; 0 turns it off.
    pub refresh_reuse_grace: Duration,
    /// Whether anyone may register (`REGISTRATION=open|closed`, default open).
    pub registration: Registration,
    /// How long raw events are kept (`RETENTION_DAYS`, default 0 = forever).
    pub retention: Retention,
    /// The beacon logs one success in this many (`BEACON_LOG_SAMPLE`, default 100; 0:
    /// none, 1: all); its errors and rejections are always logged.
    pub beacon_log_sample: u32,
    /// The beacon's own URL when it is served by a Function URL (`BEACON_URL`, ending
    /// in `/`); the dashboard's tracking snippet then loads the tracker from there.
    pub beacon_url: Option<String>,
}

/// Whether `POST /api/auth/register` creates accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    Open,
    /// Self-hosters create their own account, then redeploy with this.
    Closed,
}

/// One beacon success in this many is logged by default.
pub const DEFAULT_BEACON_LOG_SAMPLE: u32 = 100;

/// Default allowance for the aggregator's stream lag: with the aggregator's 30 s site
/// cache, a purge job is finished no sooner than 5 minutes after it was queued.
pub const DEFAULT_PURGE_STREAM_LAG: Duration = Duration::from_secs(270);

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("mode", &self.mode)
            .field("region", &self.region)
            .field("dynamodb_endpoint", &self.dynamodb_endpoint)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("tables", &self.tables)
            .field("jwt_secret", &"<redacted>")
            .field("limits", &self.limits)
            .field("store_full_ip", &self.store_full_ip)
            .field("purge_stream_lag", &self.purge_stream_lag)
            .field("max_sites_per_user", &self.max_sites_per_user)
            .field("refresh_reuse_grace", &self.refresh_reuse_grace)
            .field("registration", &self.registration)
            .field("retention", &self.retention)
            .field("beacon_log_sample", &self.beacon_log_sample)
            .field("beacon_url", &self.beacon_url)
            .finish()
    }
}

/// Physical DynamoDB table names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    /// Users, e-mail guards, sites, id sequences, login limits (`AppTable` in template.yaml).
    pub app: String,
    /// Raw events, sharded per site (`EventsTable`); its stream feeds the aggregator.
    pub events: String,
    /// Daily counters, rankings and distinct-count sketches kept by the aggregator
    /// (`StatsTable`).
    pub stats: String,
}

impl Tables {
    /// The physical name of a table declared in `template.yaml`, by its logical id.
    pub fn by_logical_id(&self, logical_id: &str) -> Option<&str> {
        match logical_id {
            "AppTable" => Some(&self.app),
            "EventsTable" => Some(&self.events),
            "StatsTable" => Some(&self.stats),
            _ => None,
        }
    }

    /// Names for a test run: every table gets the prefix so tests run in parallel.
    pub fn with_prefix(prefix: &str) -> Self {
        Tables {
            app: format!("{prefix}app"),
            events: format!("{prefix}events"),
            stats: format!("{prefix}stats"),
        }
    }
}

/// At most `max_attempts` attempts of one kind per key within a fixed `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimit {
    pub max_attempts: u32,
    pub window: Duration,
}

impl AttemptLimit {
    const fn new(max_attempts: u32, window_secs: u64) -> Self {
        AttemptLimit {
            max_attempts,
            window: Duration::from_secs(window_secs),
        }
    }
}

/// Brute-force and abuse limits. Client networks are the /24 of an IPv4 and the /48 of an
/// IPv6 address, as API Gateway's `sourceIp` gives it (never a forwarding header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failed logins per (e-mail, client network): `LOGIN_MAX_FAILURES` (10) per
    /// `LOGIN_WINDOW_SECONDS` (900). Someone on another network cannot lock a user out.
    pub login: AttemptLimit,
    /// Failed logins per e-mail from all networks together, against guessing spread over
    /// many networks: `LOGIN_MAX_FAILURES_PER_EMAIL` (100) per the same window.
    pub login_per_email: AttemptLimit,
    /// Registrations per client network: `REGISTER_MAX_PER_NETWORK` (10) per
    /// `REGISTER_WINDOW_SECONDS` (3600).
    pub register: AttemptLimit,
    /// Wrong `old_password`s per (user, client network): `PASSWORD_MAX_FAILURES` (10) per
    /// `PASSWORD_WINDOW_SECONDS` (900). Share unlocks use the login limit per share.
    pub password: AttemptLimit,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            login: AttemptLimit::new(10, 15 * 60),
            login_per_email: AttemptLimit::new(100, 15 * 60),
            register: AttemptLimit::new(10, 3600),
            password: AttemptLimit::new(10, 15 * 60),
        }
    }
}

fn attempt_limit(
    lookup: &impl Fn(&str) -> Option<String>,
    max_name: &'static str,
    window_name: &'static str,
    default: AttemptLimit,
) -> Result<AttemptLimit, ConfigError> {
    let limit = AttemptLimit {
        max_attempts: parse_or(lookup, max_name, default.max_attempts)?,
        window: Duration::from_secs(parse_or(lookup, window_name, default.window.as_secs())?),
    };
    if limit.max_attempts == 0 {
        return Err(ConfigError::Invalid {
            name: max_name,
            value: "0".into(),
            reason: "must be at least 1",
        });
    }
    if limit.window.is_zero() {
        return Err(ConfigError::Invalid {
            name: window_name,
            value: "0".into(),
            reason: "must be at least 1",
        });
    }
    Ok(limit)
}

/// Whether a function signs or verifies tokens, and so needs `JWT_SECRET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKey {
    /// The JWT API (auth, sites, events): `JWT_SECRET` is required in production.
    Required,
    /// Functions that never see a token (collect, aggregator, janitor): the template does
    /// not give them the secret, and `JWT_SECRET` is ignored. Their state gets a random
    /// per-process key, so a token can be neither verified nor signed there.
    Unused,
}

impl Config {
    /// Reads the process environment (a function of the JWT API).
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_env_with(TokenKey::Required)
    }

    /// Reads the process environment for a function that does or does not use tokens.
    pub fn from_env_with(token_key: TokenKey) -> Result<Config, ConfigError> {
        Config::from_lookup_with(
            |name| std::env::var(name).ok().filter(|v| !v.is_empty()),
            token_key,
        )
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Config::from_lookup_with(lookup, TokenKey::Required)
    }

    /// Like [`Config::from_lookup`], for a function that does or does not use tokens.
    pub fn from_lookup_with(
        lookup: impl Fn(&str) -> Option<String>,
        token_key: TokenKey,
    ) -> Result<Config, ConfigError> {
        let mode = match lookup("PINGOO_ENV").as_deref() {
            Some("local") => Mode::Local,
            Some("production") => Mode::Production,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "PINGOO_ENV",
                    value: other.to_owned(),
                    reason: "expected `local` or `production`",
                });
            }
            // Inside a real Lambda the runtime API is set: be strict by default there.
            None if lookup("AWS_LAMBDA_RUNTIME_API").is_some() => Mode::Production,
            None => Mode::Local,
        };

        let jwt_secret = match (lookup("JWT_SECRET"), mode) {
            _ if token_key == TokenKey::Unused => random_secret().into_bytes(),
            (Some(secret), _) if secret.len() < MIN_JWT_SECRET_LEN => {
                return Err(ConfigError::ShortJwtSecret(secret.len()));
            }
            (Some(secret), _) => secret.into_bytes(),
            (None, Mode::Production) => return Err(ConfigError::MissingJwtSecret),
            (None, Mode::Local) => {
                let dir = lookup("PINGOO_DATA_DIR").unwrap_or_else(|| ".local/dev".to_owned());
                local_secret(Path::new(&dir))?
            }
        };

        let defaults = Limits::default();
        let login = attempt_limit(
            &lookup,
            "LOGIN_MAX_FAILURES",
            "LOGIN_WINDOW_SECONDS",
            defaults.login,
        )?;
        let limits = Limits {
            login,
            login_per_email: attempt_limit(
                &lookup,
                "LOGIN_MAX_FAILURES_PER_EMAIL",
                "LOGIN_WINDOW_SECONDS",
                AttemptLimit {
                    window: login.window,
                    ..defaults.login_per_email
                },
            )?,
            register: attempt_limit(
                &lookup,
                "REGISTER_MAX_PER_NETWORK",
                "REGISTER_WINDOW_SECONDS",
                defaults.register,
            )?,
            password: attempt_limit(
                &lookup,
                "PASSWORD_MAX_FAILURES",
                "PASSWORD_WINDOW_SECONDS",
                defaults.password,
            )?,
        };

        Ok(Config {
            mode,
            region: lookup("AWS_REGION")
                .or_else(|| lookup("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".to_owned()),
            dynamodb_endpoint: lookup("DYNAMODB_ENDPOINT"),
            s3_endpoint: lookup("S3_ENDPOINT"),
            tables: Tables {
                app: lookup("APP_TABLE").unwrap_or_else(|| "pingoo-app".to_owned()),
                events: lookup("EVENTS_TABLE").unwrap_or_else(|| "pingoo-events".to_owned()),
                stats: lookup("STATS_TABLE").unwrap_or_else(|| "pingoo-stats".to_owned()),
            },
            store_full_ip: match lookup("STORE_FULL_IP").as_deref() {
                None | Some("false" | "0") => false,
                Some("true" | "1") => true,
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        name: "STORE_FULL_IP",
                        value: other.to_owned(),
                        reason: "expected true or false",
                    });
                }
            },
            jwt_secret,
            limits,
            purge_stream_lag: Duration::from_secs(parse_or(
                &lookup,
                "PURGE_STREAM_LAG_SECONDS",
                DEFAULT_PURGE_STREAM_LAG.as_secs(),
            )?),
            max_sites_per_user: parse_or(&lookup, "MAX_SITES_PER_USER", 100)?,
            refresh_reuse_grace: Duration::from_secs(parse_or(
                &lookup,
                "REFRESH_REUSE_GRACE_SECONDS",
                30,
            )?),
            registration: match lookup("REGISTRATION").as_deref().map(str::trim) {
                None | Some("open") => Registration::Open,
                Some("closed") => Registration::Closed,
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        name: "REGISTRATION",
                        value: other.to_owned(),
                        reason: "expected open or closed",
                    });
                }
            },
            retention: Retention::days(parse_or(&lookup, "RETENTION_DAYS", 0)?),
            beacon_log_sample: parse_or(&lookup, "BEACON_LOG_SAMPLE", DEFAULT_BEACON_LOG_SAMPLE)?,
            beacon_url: beacon_url(lookup("BEACON_URL"))?,
        })
    }

    /// A local configuration for tests: given tables, a fresh random secret.
    pub fn for_tests(tables: Tables, dynamodb_endpoint: String) -> Config {
        Config {
            mode: Mode::Local,
            region: "us-east-1".to_owned(),
            dynamodb_endpoint: Some(dynamodb_endpoint),
            s3_endpoint: None,
            tables,
            jwt_secret: random_secret().into_bytes(),
            // Tests register many users from one (unknown) network; the limit's own test
            // lowers this again.
            limits: Limits {
                register: AttemptLimit::new(10_000, 3600),
                ..Limits::default()
            },
            store_full_ip: false,
            purge_stream_lag: DEFAULT_PURGE_STREAM_LAG,
            max_sites_per_user: 100,
            refresh_reuse_grace: Duration::from_secs(30),
            registration: Registration::Open,
            retention: Retention::FOREVER,
            beacon_log_sample: DEFAULT_BEACON_LOG_SAMPLE,
            beacon_url: None,
        }
    }

    /// How old a purge job must be before the janitor may mark it done: the aggregator's
    /// site cache lifetime (it may count into a cleared or deleted generation for that
    /// long after the change) plus the stream lag allowance (events of that generation may
    /// reach it that much later). Until then every janitor run purges the job again.
    pub fn purge_grace(&self) -> Duration {
        crate::stats::aggregate::SITE_TTL + self.purge_stream_lag
    }
}

/// `BEACON_URL`: empty or unset is none; otherwise an http(s) URL, given a final `/`.
fn beacon_url(raw: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(raw) = raw.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    match url::Url::parse(&raw) {
        Ok(url) if matches!(url.scheme(), "https" | "http") && url.host().is_some() => {
            let mut text = url.to_string();
            if !text.ends_with('/') {
                text.push('/');
            }
            Ok(Some(text))
        }
        _ => Err(ConfigError::Invalid {
            name: "BEACON_URL",
            value: raw,
            reason: "expected an https:// URL",
        }),
    }
}

fn parse_or<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match lookup(name) {
        None => Ok(default),
        Some(value) => value.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            value,
            reason: "expected a non-negative whole number",
        }),
    }
}

/// 48 random bytes, base64url: 64 characters.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 48];
    crate::ids::fill_random(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Local mode keeps one generated secret with the dev data, so tokens survive restarts.
fn local_secret(dir: &Path) -> Result<Vec<u8>, ConfigError> {
    let path = dir.join("jwt-secret");
    let err = |source| ConfigError::LocalSecret {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(mut file) => {
            use std::io::Write;
            let secret = random_secret();
            file.write_all(secret.as_bytes()).map_err(err)?;
            Ok(secret.into_bytes())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let secret = std::fs::read_to_string(&path).map_err(err)?;
            let secret = secret.trim();
            if secret.len() < MIN_JWT_SECRET_LEN {
                return Err(ConfigError::ShortJwtSecret(secret.len()));
            }
            Ok(secret.as_bytes().to_vec())
        }
        Err(e) => Err(err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn production_refuses_to_start_without_a_secret() {
        let err = Config::from_lookup(lookup(&[("PINGOO_ENV", "production")])).unwrap_err();
        assert!(matches!(err, ConfigError::MissingJwtSecret), "{err}");
    }

    #[test]
    fn inside_lambda_the_default_mode_is_production() {
        let err = Config::from_lookup(lookup(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")]))
            .unwrap_err();
        assert!(matches!(err, ConfigError::MissingJwtSecret), "{err}");
    }

    #[test]
    fn short_secrets_are_refused() {
        let err = Config::from_lookup(lookup(&[
            ("PINGOO_ENV", "production"),
            ("JWT_SECRET", "too-short"),
        ]))
        .unwrap_err();
        assert!(matches!(err, ConfigError::ShortJwtSecret(9)), "{err}");
    }

    #[test]
    fn production_reads_its_settings() {
        let secret = "x".repeat(40);
        let config = Config::from_lookup(lookup(&[
            ("PINGOO_ENV", "production"),
            ("JWT_SECRET", &secret),
            ("APP_TABLE", "prod-app"),
            ("LOGIN_MAX_FAILURES", "5"),
            ("LOGIN_WINDOW_SECONDS", "60"),
        ]))
        .unwrap();
        assert_eq!(config.mode, Mode::Production);
        assert_eq!(config.tables.app, "prod-app");
        assert_eq!(config.limits.login.max_attempts, 5);
        assert_eq!(config.limits.login.window, Duration::from_secs(60));
        // The per-e-mail ceiling shares the login window; the others keep their defaults.
        assert_eq!(config.limits.login_per_email, AttemptLimit::new(100, 60));
        assert_eq!(config.limits.register, Limits::default().register);
        assert!(!format!("{config:?}").contains(&secret));
    }

    #[test]
    fn the_purge_grace_covers_the_site_cache_and_the_stream_lag() {
        let config = Config::from_lookup(lookup(&[("JWT_SECRET", &"y".repeat(32))])).unwrap();
        assert_eq!(config.purge_stream_lag, DEFAULT_PURGE_STREAM_LAG);
        assert_eq!(config.purge_grace(), Duration::from_secs(300));
        let config = Config::from_lookup(lookup(&[
            ("JWT_SECRET", &"y".repeat(32)),
            ("PURGE_STREAM_LAG_SECONDS", "600"),
        ]))
        .unwrap();
        assert_eq!(
            config.purge_grace(),
            crate::stats::aggregate::SITE_TTL + Duration::from_secs(600)
        );
    }

    #[test]
    fn registration_and_the_site_cap_are_read_and_checked() {
        let secret = "y".repeat(32);
        let config = Config::from_lookup(lookup(&[("JWT_SECRET", &secret)])).unwrap();
        assert_eq!(config.registration, Registration::Open);
        assert_eq!(config.max_sites_per_user, 100);
        let config = Config::from_lookup(lookup(&[
            ("JWT_SECRET", &secret),
            ("REGISTRATION", "closed"),
            ("MAX_SITES_PER_USER", "3"),
        ]))
        .unwrap();
        assert_eq!(config.registration, Registration::Closed);
        assert_eq!(config.max_sites_per_user, 3);
        let err = Config::from_lookup(lookup(&[("JWT_SECRET", &secret), ("REGISTRATION", "shut")]))
            .unwrap_err();
        assert!(err.to_string().contains("REGISTRATION"), "{err}");
    }

    #[test]
    fn local_mode_generates_a_secret_once_and_keeps_it() {
        let dir = std::env::temp_dir().join(format!("pingoo-config-{}", random_secret()));
        let dir_str = dir.to_string_lossy().to_string();
        let first = Config::from_lookup(lookup(&[("PINGOO_DATA_DIR", &dir_str)])).unwrap();
        let second = Config::from_lookup(lookup(&[("PINGOO_DATA_DIR", &dir_str)])).unwrap();
        assert_eq!(first.mode, Mode::Local);
        assert!(first.jwt_secret.len() >= MIN_JWT_SECRET_LEN);
        assert_eq!(first.jwt_secret, second.jwt_secret);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn functions_without_tokens_start_without_the_secret_and_ignore_it() {
        let config =
            Config::from_lookup_with(lookup(&[("PINGOO_ENV", "production")]), TokenKey::Unused)
                .unwrap();
        assert_eq!(config.mode, Mode::Production);
        assert!(config.jwt_secret.len() >= MIN_JWT_SECRET_LEN);

        let shared = "z".repeat(40);
        let config = Config::from_lookup_with(
            lookup(&[("PINGOO_ENV", "production"), ("JWT_SECRET", &shared)]),
            TokenKey::Unused,
        )
        .unwrap();
        assert_ne!(config.jwt_secret, shared.as_bytes());
    }

    #[test]
    fn bad_numbers_are_named() {
        let err = Config::from_lookup(lookup(&[
            ("JWT_SECRET", &"y".repeat(32)),
            ("LOGIN_WINDOW_SECONDS", "soon"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("LOGIN_WINDOW_SECONDS"), "{err}");
        for name in ["REGISTER_MAX_PER_NETWORK", "PASSWORD_WINDOW_SECONDS"] {
            let err = Config::from_lookup(lookup(&[("JWT_SECRET", &"y".repeat(32)), (name, "0")]))
                .unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn retention_sampling_and_beacon_url_are_read() {
        let secret = "y".repeat(32);
        let config = Config::from_lookup(lookup(&[
            ("JWT_SECRET", &secret),
            ("RETENTION_DAYS", "400"),
            ("BEACON_LOG_SAMPLE", "0"),
            ("BEACON_URL", "https://abc.lambda-url.us-east-1.on.aws"),
        ]))
        .unwrap();
        assert_eq!(config.retention.kept_days(), Some(400));
        assert_eq!(config.beacon_log_sample, 0);
        assert_eq!(
            config.beacon_url.as_deref(),
            Some("https://abc.lambda-url.us-east-1.on.aws/")
        );
        let defaults =
            Config::from_lookup(lookup(&[("JWT_SECRET", &secret), ("BEACON_URL", "")])).unwrap();
        assert_eq!(defaults.retention, Retention::FOREVER);
        assert_eq!(defaults.beacon_log_sample, DEFAULT_BEACON_LOG_SAMPLE);
        assert_eq!(defaults.beacon_url, None);
        for (name, value) in [
            ("BEACON_URL", "javascript:alert(1)"),
            ("RETENTION_DAYS", "-1"),
        ] {
            let err =
                Config::from_lookup(lookup(&[("JWT_SECRET", &secret), (name, value)])).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}
