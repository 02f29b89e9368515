//! What every handler gets: configuration, tables, token keys, GeoIP. Built once per
//! container.

use std::sync::Arc;

use crate::auth::token::TokenKeys;
use crate::clock::Clock;
use crate::config::{Config, ConfigError, TokenKey};
use crate::enrich::geo::{GeoIp, GeoSource};
use crate::sites::cache::SiteCache;
use crate::store::Db;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub tokens: Arc<TokenKeys>,
    /// Empty until [`AppState::with_geoip_from_env`] (only the ingesting functions load it).
    pub geo: GeoIp,
    /// Sites the beacon looked up recently (see [`crate::sites::cache`]).
    pub sites: Arc<SiteCache>,
    /// What time it is for the attempt limits (a test moves it by hand).
    pub clock: Clock,
}

impl AppState {
    pub fn new(config: Config, dynamodb: aws_sdk_dynamodb::Client) -> Self {
        let tokens = Arc::new(TokenKeys::new(&config.jwt_secret));
        let db = Db::new(dynamodb, config.tables.clone()).with_retention(config.retention);
        AppState {
            config: Arc::new(config),
            db,
            tokens,
            geo: GeoIp::disabled(),
            sites: Arc::new(SiteCache::default()),
            clock: Clock::system(),
        }
    }

    /// Reads the environment and builds the clients: what a function of the JWT API calls
    /// in its `main`.
    pub async fn from_env() -> Result<Self, ConfigError> {
        AppState::from_env_with(TokenKey::Required).await
    }

    /// Like [`AppState::from_env`], for a function that does or does not use tokens.
    pub async fn from_env_with(token_key: TokenKey) -> Result<Self, ConfigError> {
        let config = Config::from_env_with(token_key)?;
        let sdk = crate::aws::sdk_config(&config).await;
        let dynamodb = crate::aws::dynamodb(&sdk, &config);
        Ok(AppState::new(config, dynamodb))
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_geo(mut self, geo: GeoIp) -> Self {
        self.geo = geo;
        self
    }

    /// Starts loading the GeoIP databases from S3 in the background (`GEOIP_BUCKET`,
    /// `GEOIP_CITY_KEY`, `GEOIP_ISP_KEY`, `GEOIP_LANG`); without `GEOIP_BUCKET` locations
    /// stay empty.
    pub async fn with_geoip_from_env(self) -> Self {
        let Some(source) = GeoSource::from_env() else {
            tracing::warn!("GEOIP_BUCKET is not set: events get no location");
            return self;
        };
        let sdk = crate::aws::sdk_config(&self.config).await;
        let s3 = crate::aws::s3(&sdk, &self.config);
        let geo = GeoIp::load_from_s3(s3, source);
        self.with_geo(geo)
    }
}
