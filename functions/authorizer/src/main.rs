//! Lambda function `authorizer`: the HTTP API Lambda authorizer (payload 2.0, simple
//! responses) another API attaches to accept this API's tokens.

use sessions_api::runner;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runner::run_authorizer().await
}
