//! Lambda entry for the sites function: state is built once per container.

use pingoo::config::TokenKey;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pingoo::http::run_lambda(TokenKey::Required, |state| async move {
        pingoo_sites::router(state)
    })
    .await
}
