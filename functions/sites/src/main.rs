//! Lambda entry for the sites function: state is built once per container.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pingoo::http::run_lambda(|state| async move { pingoo_sites::router(state) }).await
}
