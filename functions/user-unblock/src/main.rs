//! Lambda function for `user-unblock`: wires the shared runner to its endpoint.

use sessions_api::routes::serve;
use sessions_api::{Endpoint, runner};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runner::run(Endpoint::UserUnblock, serve::user_unblock).await
}
