//! Lambda function for `user-unblock-ip`: wires the shared runner to its endpoint.

use sessions_api::routes::serve;
use sessions_api::{Endpoint, runner};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runner::run(Endpoint::UserUnblockIp, serve::user_unblock_ip).await
}
