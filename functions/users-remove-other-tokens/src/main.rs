//! Lambda function for `users-remove-other-tokens`: wires the shared runner to its endpoint.

use sessions_api::routes::serve;
use sessions_api::{Endpoint, runner};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runner::run(Endpoint::UsersRemoveOtherTokens, serve::users_remove_other_tokens).await
}
