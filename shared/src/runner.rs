//! The Lambda entry points every function's `main.rs` calls with its endpoint.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Service};
use lambda_runtime::{Context, LambdaEvent, service_fn};
use serde_json::{Value, json};

use crate::app::App;
use crate::request::sanitize_event;
use crate::routes::{Endpoint, Serve, handle_with};

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

/// Builds the configuration and DynamoDB client once, then serves `endpoint` with `serve`
/// (its own function from [`crate::routes::serve`], so the binary links only that
/// handler) for the life of the execution environment.
pub async fn run(endpoint: Endpoint, serve: Serve) -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let app = Arc::new(App::from_lambda_env()?);
    // Boxed: the nested async state machines are otherwise too deep for the compiler's layout pass.
    Box::pin(lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = Arc::clone(&app);
        Box::pin(async move { invoke_with(app, endpoint, serve, event.payload, event.context).await })
    })))
    .await
}

/// One invocation of an HTTP function: the event as Lambda delivers it (API Gateway HTTP
/// API or REST API, ALB, Function URL), the response as that source expects it. The event
/// is sanitized first, so lambda_http's conversion cannot panic on what a client sent.
pub async fn invoke(
    app: Arc<App>,
    endpoint: Endpoint,
    event: Value,
    context: Context,
) -> Result<Value, lambda_runtime::Error> {
    invoke_with(app, endpoint, endpoint.serve(), event, context).await
}

/// [`invoke`] with the endpoint's [`Serve`] function given (what a function binary runs).
pub async fn invoke_with(
    app: Arc<App>,
    endpoint: Endpoint,
    serve: Serve,
    mut event: Value,
    context: Context,
) -> Result<Value, lambda_runtime::Error> {
    sanitize_event(&mut event);
    let request: LambdaRequest = serde_json::from_value(event)?;
    let mut adapter = Adapter::from(service_fn(move |req: lambda_http::Request| {
        let app = Arc::clone(&app);
        async move { Ok::<_, std::convert::Infallible>(handle_with(&app, endpoint, serve, req).await) }
    }));
    // The conversion runs inside `call`; whatever the guard missed becomes a 400, not a crash.
    let pending = std::panic::catch_unwind(AssertUnwindSafe(|| adapter.call(LambdaEvent::new(request, context))));
    match pending {
        Ok(fut) => Ok(serde_json::to_value(fut.await?)?),
        Err(_) => {
            tracing::warn!("request could not be converted");
            Ok(json!({
                "statusCode": 400,
                "headers": {"content-type": "application/json", "cache-control": "no-store"},
                "body": json!({"success": false, "error": "Bad request"}).to_string(),
                "isBase64Encoded": false
            }))
        }
    }
}

/// Entry point of the table stream's consumer (crate::stream): partial batch responses.
pub async fn run_session_stream() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let app = Arc::new(App::from_lambda_env()?);
    let publisher = Arc::new(app.publisher());
    Box::pin(lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::dynamodb::Event>| {
        let (app, publisher) = (Arc::clone(&app), Arc::clone(&publisher));
        Box::pin(async move {
            let (response, outcome) = crate::stream::on_stream(&app, &publisher, &event.payload).await;
            tracing::info!(?outcome, records = event.payload.records.len(), "stream batch handled");
            Ok::<_, lambda_runtime::Error>(response)
        })
    })))
    .await
}

/// Entry point of the Lambda authorizer other HTTP APIs attach (crate::authorizer).
pub async fn run_authorizer() -> Result<(), lambda_runtime::Error> {
    use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
    init_tracing();
    let app = Arc::new(App::from_lambda_env()?);
    Box::pin(lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request>| {
        let app = Arc::clone(&app);
        Box::pin(async move {
            let decision = crate::authorizer::authorize(&app, event.payload, crate::core::clock::now_ms()).await?;
            Ok::<_, lambda_runtime::Error>(decision)
        })
    })))
    .await
}
