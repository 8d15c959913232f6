//! Fault injection for tests and benchmarks (cargo feature `fault-injection`): an HTTP
//! client in front of the real one that answers chosen DynamoDB operations with the
//! failure DynamoDB or the network would produce, switched on and off at run time, and
//! that counts requests per operation. The SDK sees real wire responses, so its retry
//! classifiers and our error mapping run exactly as they would against AWS.
//!
//! ```ignore
//! let faults = Faults::new();
//! let sdk = aws_config::from_env().http_client(faults.default_http_client()).load().await;
//! let store = DynamoStore::new(DynamoStore::client_for(&sdk), table);
//! faults.fail("TransactWriteItems", Fault::TransactionConflict);
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};

/// Every operation, for [`Faults::fail`].
pub const ANY_OPERATION: &str = "*";

/// A failure to inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 400 `ThrottlingException`.
    Throttling,
    /// 400 `ProvisionedThroughputExceededException`.
    ProvisionedThroughputExceeded,
    /// TransactWriteItems: 400 `TransactionCanceledException`, every item's reason
    /// `TransactionConflict`; other operations: 400 `TransactionConflictException` (a
    /// single-item write that meets a running transaction).
    TransactionConflict,
    /// 500 `InternalServerError`.
    InternalServerError,
    /// No answer: a connector error of the timeout kind.
    Timeout,
    /// The request reaches DynamoDB and is applied, but its answer is lost: a 500
    /// `InternalServerError` comes back instead, as when a connection drops after the write.
    AnswerLost,
}

/// Shared switchboard of faults and request counts; clones share state.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// By operation name (or [`ANY_OPERATION`]).
    rules: HashMap<String, Rule>,
    requests: HashMap<String, u64>,
    injected: HashMap<String, u64>,
    accesses: Vec<Access>,
}

/// One item-level action a request asked DynamoDB for, as IAM authorizes it: the action
/// (`dynamodb:PutItem` for each Put of a transaction, and so on), the resource (`table`, or
/// `index/<name>`) and, for writes and key reads, the partition key it names.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Access {
    pub action: String,
    pub resource: String,
    pub partition_key: Option<String>,
}

/// Lets `passes` calls through, then fails `times` calls (all, when `None`).
#[derive(Debug)]
struct Rule {
    fault: Fault,
    passes: u32,
    times: Option<u32>,
}

impl Faults {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every call of `operation` (such as "TransactWriteItems", or [`ANY_OPERATION`])
    /// fails with `fault` until [`Faults::clear`].
    pub fn fail(&self, operation: &str, fault: Fault) {
        self.fail_after(operation, 0, fault, None);
    }

    /// The next `times` calls of `operation` fail with `fault`, later ones pass.
    pub fn fail_times(&self, operation: &str, fault: Fault, times: u32) {
        self.fail_after(operation, 0, fault, Some(times));
    }

    /// The next `passes` calls of `operation` go through, then `times` calls (every
    /// later one, if `None`) fail with `fault`.
    pub fn fail_after(&self, operation: &str, passes: u32, fault: Fault, times: Option<u32>) {
        self.state().rules.insert(operation.to_string(), Rule { fault, passes, times });
    }

    /// Stops every fault.
    pub fn clear(&self) {
        self.state().rules.clear();
    }

    /// Requests sent for `operation` so far, failed or not.
    pub fn requests(&self, operation: &str) -> u64 {
        self.state().requests.get(operation).copied().unwrap_or(0)
    }

    /// Requests of `operation` answered with a fault so far.
    pub fn injected(&self, operation: &str) -> u64 {
        self.state().injected.get(operation).copied().unwrap_or(0)
    }

    /// Request counts by operation.
    pub fn request_counts(&self) -> HashMap<String, u64> {
        self.state().requests.clone()
    }

    pub fn reset_counts(&self) {
        let mut state = self.state();
        state.requests.clear();
        state.injected.clear();
        state.accesses.clear();
    }

    /// Every item-level action requested since the last call (or [`Faults::reset_counts`]), in order.
    pub fn take_accesses(&self) -> Vec<Access> {
        std::mem::take(&mut self.state().accesses)
    }

    /// An HTTP client that sends through `inner` unless a fault applies.
    pub fn http_client(&self, inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(FaultClient { inner, faults: self.clone() })
    }

    /// Around the functions' own HTTPS client ([`super::https_client`]).
    pub fn default_http_client(&self) -> SharedHttpClient {
        self.http_client(super::https_client())
    }

    /// Counts the request; the fault to answer it with, if one applies.
    fn take(&self, operation: &str) -> Option<Fault> {
        let mut state = self.state();
        *state.requests.entry(operation.to_string()).or_default() += 1;
        let key = [operation, ANY_OPERATION].into_iter().find(|k| state.rules.contains_key(*k))?.to_string();
        let rule = state.rules.get_mut(&key)?;
        if rule.passes > 0 {
            rule.passes -= 1;
            return None;
        }
        match &mut rule.times {
            Some(0) => return None,
            Some(n) => *n -= 1,
            None => {}
        }
        let fault = rule.fault;
        *state.injected.entry(operation.to_string()).or_default() += 1;
        Some(fault)
    }
}

#[derive(Debug)]
struct FaultClient {
    inner: SharedHttpClient,
    faults: Faults,
}

impl HttpClient for FaultClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let inner = self.inner.http_connector(settings, components);
        SharedHttpConnector::new(FaultConnector { inner, faults: self.faults.clone() })
    }
}

#[derive(Debug)]
struct FaultConnector {
    inner: SharedHttpConnector,
    faults: Faults,
}

impl HttpConnector for FaultConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        // `X-Amz-Target: DynamoDB_20120810.<Operation>`
        let target = request.headers().get("x-amz-target").unwrap_or("");
        let operation = target.rsplit('.').next().unwrap_or("").to_string();
        if let Some(body) = request.body().bytes().and_then(|b| serde_json::from_slice::<Value>(b).ok()) {
            self.faults.state().accesses.extend(accesses(&operation, &body));
        }
        match self.faults.take(&operation) {
            None => self.inner.call(request),
            Some(Fault::Timeout) => HttpConnectorFuture::ready(Err(ConnectorError::timeout(
                format!("injected timeout on {operation}").into(),
            ))),
            Some(Fault::AnswerLost) => {
                let lost = error_response(Fault::AnswerLost, &operation, &request);
                let sent = self.inner.call(request);
                HttpConnectorFuture::new(async move {
                    sent.await?;
                    Ok(lost)
                })
            }
            Some(fault) => HttpConnectorFuture::ready(Ok(error_response(fault, &operation, &request))),
        }
    }
}

/// What IAM authorizes for one request: batch and transaction requests are one action per item.
fn accesses(operation: &str, body: &Value) -> Vec<Access> {
    let pk = |key: &Value| key["PK"]["S"].as_str().map(str::to_string);
    let access = |action: &str, resource: String, partition_key: Option<String>| Access {
        action: format!("dynamodb:{action}"),
        resource,
        partition_key,
    };
    let table = || "table".to_string();
    match operation {
        "GetItem" | "UpdateItem" | "DeleteItem" => vec![access(operation, table(), pk(&body["Key"]))],
        "PutItem" => vec![access(operation, table(), pk(&body["Item"]))],
        "Query" | "Scan" => {
            let resource = body["IndexName"].as_str().map_or_else(table, |index| format!("index/{index}"));
            vec![access(operation, resource, None)]
        }
        "BatchGetItem" => body["RequestItems"]
            .as_object()
            .into_iter()
            .flat_map(|tables| tables.values())
            .flat_map(|t| t["Keys"].as_array().cloned().unwrap_or_default())
            .map(|key| access("BatchGetItem", table(), pk(&key)))
            .collect(),
        "BatchWriteItem" => body["RequestItems"]
            .as_object()
            .into_iter()
            .flat_map(|tables| tables.values())
            .flat_map(|t| t.as_array().cloned().unwrap_or_default())
            .map(|r| match (r.get("PutRequest"), r.get("DeleteRequest")) {
                (Some(put), _) => access("BatchWriteItem", table(), pk(&put["Item"])),
                (_, Some(delete)) => access("BatchWriteItem", table(), pk(&delete["Key"])),
                _ => access("BatchWriteItem", table(), None),
            })
            .collect(),
        "TransactWriteItems" | "TransactGetItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| {
                let (kind, part) = item.as_object()?.iter().next()?;
                let (action, key) = match kind.as_str() {
                    "Put" => ("PutItem", &part["Item"]),
                    "Update" => ("UpdateItem", &part["Key"]),
                    "Delete" => ("DeleteItem", &part["Key"]),
                    "ConditionCheck" => ("ConditionCheckItem", &part["Key"]),
                    "Get" => ("GetItem", &part["Key"]),
                    _ => return None,
                };
                Some(access(action, table(), pk(key)))
            })
            .collect(),
        other => vec![access(other, table(), None)],
    }
}

/// DynamoDB's JSON error response for `fault`.
fn error_response(fault: Fault, operation: &str, request: &HttpRequest) -> HttpResponse {
    let (status, code, message) = match fault {
        Fault::Throttling => (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
        Fault::ProvisionedThroughputExceeded => (
            400,
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded.",
        ),
        Fault::TransactionConflict if operation == "TransactWriteItems" => {
            (400, "TransactionCanceledException", "Transaction cancelled, please refer cancellation reasons")
        }
        Fault::TransactionConflict => (400, "TransactionConflictException", "Transaction is ongoing for the item"),
        Fault::InternalServerError | Fault::Timeout | Fault::AnswerLost => {
            (500, "InternalServerError", "Internal server error")
        }
    };
    let kind = format!("com.amazonaws.dynamodb.v20120810#{code}");
    let body = if code == "TransactionCanceledException" {
        let items = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
            .and_then(|v| v["TransactItems"].as_array().map(Vec::len))
            .unwrap_or(1);
        let reason = json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"});
        json!({"__type": kind, "Message": message, "CancellationReasons": vec![reason; items]})
    } else {
        json!({"__type": kind, "message": message})
    };
    let status = StatusCode::try_from(status).unwrap_or_else(|_| StatusCode::try_from(500).expect("500 is a status"));
    let mut response = HttpResponse::new(status, SdkBody::from(body.to_string()));
    response.headers_mut().insert("content-type", "application/x-amz-json-1.0");
    response.headers_mut().insert("x-amzn-requestid", "fault-injection");
    response
}
