//! One call of an event through the function's own entry point, in this process, with the
//! benchmark's metered DynamoDB client (`store::metering`): the read and write units it
//! consumed, its requests and how many of them were sequential. DynamoDB Local reports the
//! consumed capacity (but none for a transaction's condition check).

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use serde_json::Value;
use sessions_api::core::clock::now_ms;
use sessions_api::store::DynamoStore;
use sessions_api::store::metering::{Meter, sequential_round_trips};
use sessions_api::{App, Config, Endpoint, runner};
use sessions_bench::figures::Metered;

use crate::Error;

/// Calls `function` with `event` on `table` once; its status and DynamoDB use.
pub async fn call(
    client: &Client,
    config: &Config,
    table: &str,
    function: &str,
    event: &Value,
) -> Result<(u16, Metered), Error> {
    let meter = Meter::new();
    let config = Config { table_name: table.to_string(), ..config.clone() };
    let app = Arc::new(App::new(config, DynamoStore::new(meter.client(client), table)));
    meter.take();
    let status = match function {
        "authorizer" => {
            let request = serde_json::from_value(event.clone())?;
            sessions_api::authorizer::authorize(&app, request, now_ms()).await?;
            200
        }
        "session-stream" => {
            let batch = serde_json::from_value(event.clone())?;
            sessions_api::stream::on_stream(&app, &app.publisher(), &batch).await;
            200
        }
        _ => {
            let endpoint = Endpoint::ALL.into_iter().find(|e| e.function() == function).ok_or("no such function")?;
            let out = runner::invoke(app, endpoint, event.clone(), lambda_runtime::Context::default()).await?;
            out["statusCode"].as_u64().unwrap_or(0) as u16
        }
    };
    let calls = meter.take();
    Ok((
        status,
        Metered {
            read_units: calls.iter().fold(0.0, |s, c| s + c.read_units),
            write_units: calls.iter().fold(0.0, |s, c| s + c.write_units),
            requests: calls.len() as f64,
            sequential: sequential_round_trips(&calls) as f64,
        },
    ))
}
