//! Lambda function for `users-set-active-status`: wires the shared runner to its endpoint.

use sessions_api::routes::serve;
use sessions_api::{Endpoint, runner};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runner::run(Endpoint::UsersSetActiveStatus, serve::users_set_active_status).await
}
