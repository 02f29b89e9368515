//! What every handler gets: configuration, tables, token keys. Built once per container.

use std::sync::Arc;

use crate::auth::token::TokenKeys;
use crate::config::{Config, ConfigError};
use crate::store::Db;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub tokens: Arc<TokenKeys>,
}

impl AppState {
    pub fn new(config: Config, dynamodb: aws_sdk_dynamodb::Client) -> Self {
        let tokens = Arc::new(TokenKeys::new(&config.jwt_secret));
        let db = Db::new(dynamodb, config.tables.clone());
        AppState {
            config: Arc::new(config),
            db,
            tokens,
        }
    }

    /// Reads the environment and builds the clients: what a function's `main` calls.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let sdk = crate::aws::sdk_config(&config).await;
        let dynamodb = crate::aws::dynamodb(&sdk, &config);
        Ok(AppState::new(config, dynamodb))
    }
}
