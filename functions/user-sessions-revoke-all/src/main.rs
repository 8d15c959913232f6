//! Lambda function for `user-sessions-revoke-all`: wires the shared runner to its endpoint.

use sessions_api::routes::serve;
use sessions_api::{Endpoint, runner};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runner::run(Endpoint::UserSessionsRevokeAll, serve::user_sessions_revoke_all).await
}
