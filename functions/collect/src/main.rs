//! Lambda entry for the collect function: state and the GeoIP load start once per container.
//! The public beacon never sees a token, so it runs without the JWT secret.

use pingoo::config::TokenKey;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pingoo::http::run_lambda(TokenKey::Unused, |state| async move {
        pingoo_collect::router(state.with_geoip_from_env().await)
    })
    .await
}
