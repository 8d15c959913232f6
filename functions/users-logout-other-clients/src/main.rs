//! Lambda function for `users-logout-other-clients`: wires the shared runner to its endpoint.

use sessions_api::routes::serve;
use sessions_api::{Endpoint, runner};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runner::run(Endpoint::UsersLogoutOtherClients, serve::users_logout_other_clients).await
}
