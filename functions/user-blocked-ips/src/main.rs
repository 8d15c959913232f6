//! Lambda function for `user-blocked-ips`: wires the shared runner to its endpoint.

use sessions_api::routes::serve;
use sessions_api::{Endpoint, runner};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runner::run(Endpoint::UserBlockedIps, serve::user_blocked_ips).await
}
