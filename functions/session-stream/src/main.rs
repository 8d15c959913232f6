//! Lambda function `session-stream`: consumes the table's stream (sessions_api::stream):
//! history completed, TTL expiries recorded and counted, events published.

use sessions_api::runner;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runner::run_session_stream().await
}
