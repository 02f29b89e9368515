//! Lambda entry for the web function: the dashboard's files, embedded. It reads no table and
//! uses no token; unknown `/api/*` paths still answer the JSON envelope 404.

use pingoo::config::TokenKey;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    pingoo::http::run_lambda(TokenKey::Unused, |state| async move {
        pingoo_web::router(state)
    })
    .await
}
