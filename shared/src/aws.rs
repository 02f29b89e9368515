//! AWS SDK clients, built once per container.
//!
//! With an endpoint override (DynamoDB Local, moto) the clients use static local
//! credentials, so a local run never waits on the instance-metadata credential probe.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

use crate::config::Config;

pub async fn sdk_config(config: &Config) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(config.region.clone()));
    let local = config.dynamodb_endpoint.is_some() || config.s3_endpoint.is_some();
    let has_env_credentials = std::env::var_os("AWS_ACCESS_KEY_ID").is_some();
    if local && !has_env_credentials {
        loader = loader.credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "pingoo-local",
        ));
    }
    loader.load().await
}

pub fn dynamodb(sdk: &SdkConfig, config: &Config) -> aws_sdk_dynamodb::Client {
    let mut builder = aws_sdk_dynamodb::config::Builder::from(sdk);
    if let Some(endpoint) = &config.dynamodb_endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}

pub fn s3(sdk: &SdkConfig, config: &Config) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(sdk);
    if let Some(endpoint) = &config.s3_endpoint {
        // moto (and most S3 stand-ins) only do path-style addressing.
        builder = builder.endpoint_url(endpoint).force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}
