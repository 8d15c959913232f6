//! Lambda function for `console-page`: wires the shared runner to its endpoint.

use sessions_api::routes::serve;
use sessions_api::{Endpoint, runner};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runner::run(Endpoint::Console, serve::console_page).await
}
