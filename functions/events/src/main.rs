//! Lambda entry for the events function: state and the GeoIP load start once per container.

use pingoo::config::TokenKey;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pingoo::http::run_lambda(TokenKey::Required, |state| async move {
        pingoo_events::router(state.with_geoip_from_env().await)
    })
    .await
}
