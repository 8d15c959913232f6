//! The Lambda entry point every function's `main.rs` calls with its endpoint.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_runtime::{LambdaEvent, service_fn};

use crate::endpoints::{App, Endpoint, handle};
use crate::request::ApiRequest;

/// Logs as JSON lines to CloudWatch; level from `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .without_time() // CloudWatch stamps every line
        .with_target(false)
        .try_init();
}

/// Builds the configuration and DynamoDB client once, then serves `endpoint` for the
/// life of the execution environment.
pub async fn run(endpoint: Endpoint) -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let app = Arc::new(App::from_env().await?);
    // Boxed: the nested async state machines are otherwise too deep for the compiler's layout pass.
    Box::pin(lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayV2httpRequest>| {
        let app = Arc::clone(&app);
        Box::pin(async move {
            let req = ApiRequest::from_event(event.payload);
            Ok::<ApiGatewayV2httpResponse, lambda_runtime::Error>(handle(&app, endpoint, &req).await.into_apigw())
        })
    })))
    .await
}

/// Entry point of the stream consumer that counts TTL-expired sessions down.
pub async fn run_session_expiry() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let app = Arc::new(App::from_env().await?);
    Box::pin(lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::dynamodb::Event>| {
        let app = Arc::clone(&app);
        Box::pin(async move {
            let expired = crate::expiry::on_stream(&app.store, &event.payload).await?;
            tracing::info!(expired, "expired sessions counted down");
            Ok::<(), lambda_runtime::Error>(())
        })
    })))
    .await
}
