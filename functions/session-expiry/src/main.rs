//! Lambda function `session-expiry`: consumes the table's stream so sessions that TTL
//! deletes leave the active-session counter (list.all's `total`).

use sessions_api::runner;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runner::run_session_expiry().await
}
