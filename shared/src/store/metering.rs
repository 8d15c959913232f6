//! Metering for benchmarks (cargo feature `metering`): an SDK interceptor that asks DynamoDB
//! for the capacity every request consumes (`ReturnConsumedCapacity: INDEXES`, added to the
//! request body before it is signed) and records each operation call: its name, when it
//! started and ended (retries included), the items DynamoDB read for it, the bytes of its
//! answer, and the read and write units it consumed. The functions never build this in.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use serde_json::Value;

/// One DynamoDB operation call, as metered.
#[derive(Clone, Debug)]
pub struct Call {
    pub operation: String,
    pub started: Instant,
    pub ended: Instant,
    /// Items DynamoDB read: `ScannedCount` of a Query or Scan, the items a GetItem,
    /// BatchGetItem or TransactGetItems returned; 0 for writes.
    pub items_read: u64,
    /// Bytes of the response body.
    pub bytes: u64,
    pub read_units: f64,
    pub write_units: f64,
}

/// Shared record of calls; clones share it.
#[derive(Clone, Debug, Default)]
pub struct Meter {
    calls: Arc<Mutex<Vec<Call>>>,
}

#[derive(Debug, Clone, Copy)]
struct Started(Instant);
impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

impl Meter {
    pub fn new() -> Self {
        Self::default()
    }

    fn calls(&self) -> MutexGuard<'_, Vec<Call>> {
        self.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `client` with this meter's interceptor added.
    pub fn client(&self, client: &Client) -> Client {
        Client::from_conf(client.config().to_builder().interceptor(self.clone()).build())
    }

    /// The calls recorded since the last `take`, in the order they ended.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls())
    }
}

/// The calls on the critical path: the longest chain of calls each of which started after
/// the one before it ended. Calls that overlap (run concurrently) count once.
pub fn sequential_round_trips(calls: &[Call]) -> usize {
    let mut by_end: Vec<&Call> = calls.iter().collect();
    by_end.sort_by_key(|c| c.ended);
    let mut depth: Vec<usize> = Vec::with_capacity(by_end.len());
    for (i, call) in by_end.iter().enumerate() {
        let before = (0..i).filter(|&j| by_end[j].ended <= call.started).map(|j| depth[j]).max().unwrap_or(0);
        depth.push(before + 1);
    }
    depth.into_iter().max().unwrap_or(0)
}

const READS: [&str; 5] = ["GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"];

/// (read units, write units) of a response's `ConsumedCapacity` (one object, or one per table).
fn units(operation: &str, body: &Value) -> (f64, f64) {
    let entries: Vec<&Value> = match &body["ConsumedCapacity"] {
        Value::Array(all) => all.iter().collect(),
        one @ Value::Object(_) => vec![one],
        _ => Vec::new(),
    };
    let total: f64 = entries.iter().filter_map(|c| c["CapacityUnits"].as_f64()).sum();
    if READS.contains(&operation) { (total, 0.0) } else { (0.0, total) }
}

fn items_read(operation: &str, body: &Value) -> u64 {
    let len = |v: &Value| v.as_array().map_or(0, |a| a.len() as u64);
    match operation {
        "Query" | "Scan" => body["ScannedCount"].as_u64().unwrap_or(0),
        "GetItem" => u64::from(body.get("Item").is_some_and(Value::is_object)),
        "BatchGetItem" => body["Responses"].as_object().map_or(0, |t| t.values().map(len).sum()),
        "TransactGetItems" => {
            body["Responses"].as_array().map_or(0, |r| r.iter().filter(|i| i["Item"].is_object()).count() as u64)
        }
        _ => 0,
    }
}

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "Meter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let Some(Value::Object(mut body)) = request.body().bytes().and_then(|b| serde_json::from_slice(b).ok()) else {
            return Ok(());
        };
        body.insert("ReturnConsumedCapacity".into(), Value::String("INDEXES".into()));
        let bytes = serde_json::to_vec(&body)?;
        request.headers_mut().insert("content-length", bytes.len().to_string());
        *request.body_mut() = SdkBody::from(bytes);
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let ended = Instant::now();
        let started = cfg.load::<Started>().map_or(ended, |s| s.0);
        let operation = cfg.load::<Metadata>().map_or("unknown", |m| m.name()).to_string();
        let raw = context.response().and_then(|r| r.body().bytes()).unwrap_or_default();
        let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
        let (read_units, write_units) = units(&operation, &body);
        let call = Call {
            items_read: items_read(&operation, &body),
            operation,
            started,
            ended,
            bytes: raw.len() as u64,
            read_units,
            write_units,
        };
        self.calls().push(call);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn call(start_ms: u64, end_ms: u64, base: Instant) -> Call {
        Call {
            operation: "GetItem".into(),
            started: base + Duration::from_millis(start_ms),
            ended: base + Duration::from_millis(end_ms),
            items_read: 1,
            bytes: 0,
            read_units: 0.5,
            write_units: 0.0,
        }
    }

    #[test]
    fn concurrent_calls_count_once_on_the_critical_path() {
        let t = Instant::now();
        assert_eq!(sequential_round_trips(&[]), 0);
        // Two at once, then one after both, then two at once: three round trips.
        let calls = [call(0, 10, t), call(1, 9, t), call(11, 20, t), call(21, 30, t), call(22, 29, t)];
        assert_eq!(sequential_round_trips(&calls), 3);
        // One after another: each counts.
        assert_eq!(sequential_round_trips(&[call(0, 1, t), call(2, 3, t), call(4, 5, t)]), 3);
    }

    #[test]
    fn units_and_items_are_read_from_the_response() {
        let q = serde_json::json!({"ScannedCount": 12, "Count": 10, "ConsumedCapacity": {"CapacityUnits": 1.5}});
        assert_eq!((items_read("Query", &q), units("Query", &q)), (12, (1.5, 0.0)));
        let tx = serde_json::json!({"ConsumedCapacity": [{"CapacityUnits": 4.0}, {"CapacityUnits": 2.0}]});
        assert_eq!((items_read("TransactWriteItems", &tx), units("TransactWriteItems", &tx)), (0, (0.0, 6.0)));
        let get = serde_json::json!({"Item": {"PK": {"S": "x"}}});
        assert_eq!(items_read("GetItem", &get), 1);
        assert_eq!(items_read("GetItem", &serde_json::json!({})), 0);
        let batch = serde_json::json!({"Responses": {"t": [{}, {}, {}]}});
        assert_eq!(items_read("BatchGetItem", &batch), 3);
    }
}
