//! Lambda entry for the collect function: state and the GeoIP load start once per container.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pingoo::http::run_lambda(|state| async move {
        pingoo_collect::router(state.with_geoip_from_env().await)
    })
    .await
}
