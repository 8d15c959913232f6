//! Reading the table's stream through the DynamoDB Streams API, as Lambda's event source
//! mapping does, for the local run and the tests: DynamoDB Local serves it. Each call hands
//! back what was written since the last one, as the Lambda-shaped batches the consumer takes.

use std::collections::HashMap;

use aws_lambda_events::dynamodb::{Event, EventRecord, StreamRecord, StreamViewType, UserIdentity};
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;

use crate::store::{DynamoStore, StoreError};

/// Most GetRecords pages read from one shard in one call.
const PAGES_PER_SHARD: usize = 20;

/// A reader of one table's stream that remembers how far it read each shard.
pub struct StreamTail {
    streams: aws_sdk_dynamodbstreams::Client,
    store: DynamoStore,
    /// Per shard: the last sequence number handed out.
    read_to: HashMap<String, String>,
}

/// The error's code and message only: a Streams API error can carry the records it failed
/// on, and those hold whole items.
fn failed<E: aws_sdk_dynamodbstreams::error::ProvideErrorMetadata>(e: E) -> StoreError {
    StoreError::Dynamo(format!("stream: {} {}", e.code().unwrap_or("unparsed answer"), e.message().unwrap_or("")))
}

/// DynamoDB Local writes an empty map in a stream image as `{}` where DynamoDB writes
/// `{"M":{}}`, and the SDK refuses the page; this client puts the `M` back (walking the
/// images, so no string value is touched) before the SDK reads the answer.
#[derive(Debug)]
struct EmptyMapFix(SharedHttpClient);

impl HttpClient for EmptyMapFix {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(EmptyMapFixConnector(self.0.http_connector(settings, components)))
    }
}

#[derive(Debug)]
struct EmptyMapFixConnector(SharedHttpConnector);

impl HttpConnector for EmptyMapFixConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let sent = self.0.call(request);
        HttpConnectorFuture::new(async move {
            let mut response = sent.await?;
            let body = std::mem::replace(response.body_mut(), SdkBody::taken());
            let bytes = ByteStream::new(body).collect().await.map_err(|e| ConnectorError::other(e.into(), None))?;
            let bytes = bytes.into_bytes();
            *response.body_mut() = SdkBody::from(fix_empty_maps(&bytes).unwrap_or_else(|| bytes.to_vec()));
            Ok(response)
        })
    }
}

/// A GetRecords answer with every empty attribute-value map (`{}`) in its images written as
/// `{"M":{}}`; `None` for any other answer, which passes unchanged.
fn fix_empty_maps(body: &[u8]) -> Option<Vec<u8>> {
    let mut answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    for record in answer.get_mut("Records")?.as_array_mut()? {
        let Some(change) = record.get_mut("dynamodb") else { continue };
        for image in ["Keys", "NewImage", "OldImage"] {
            if let Some(serde_json::Value::Object(item)) = change.get_mut(image) {
                item.values_mut().for_each(fix_value);
            }
        }
    }
    serde_json::to_vec(&answer).ok()
}

/// One attribute value: `{}` becomes an empty map; maps and lists are walked.
fn fix_value(value: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(v) = value else { return };
    if v.is_empty() {
        *value = serde_json::json!({"M": {}});
        return;
    }
    if let Some(Value::Object(map)) = v.get_mut("M") {
        map.values_mut().for_each(fix_value);
    }
    if let Some(Value::Array(list)) = v.get_mut("L") {
        list.iter_mut().for_each(fix_value);
    }
}

impl StreamTail {
    /// A reader of `store`'s table through the Streams API `sdk` reaches (DynamoDB Local's).
    pub fn new(sdk: &aws_config::SdkConfig, store: DynamoStore) -> Self {
        let client = SharedHttpClient::new(EmptyMapFix(crate::store::https_client()));
        let config = aws_sdk_dynamodbstreams::config::Builder::from(sdk).http_client(client).build();
        StreamTail { streams: aws_sdk_dynamodbstreams::Client::from_conf(config), store, read_to: HashMap::new() }
    }

    /// Every record since the last call (on the first, since the stream began), one batch per
    /// shard that has any.
    pub async fn next_batches(&mut self) -> Result<Vec<Event>, StoreError> {
        let table = self.store.client().describe_table().table_name(self.store.table()).send().await;
        let Some(arn) = table.map_err(failed)?.table.and_then(|t| t.latest_stream_arn) else {
            return Err(StoreError::Dynamo("the table has no stream".into()));
        };
        let stream = self.streams.describe_stream().stream_arn(&arn).send().await.map_err(failed)?;
        let shards = stream.stream_description.and_then(|d| d.shards).unwrap_or_default();
        let mut batches = Vec::new();
        for shard in shards.into_iter().filter_map(|s| s.shard_id) {
            let records = self.read_shard(&arn, &shard).await?;
            if let Some(last) = records.last().and_then(|r| r.change.sequence_number.clone()) {
                self.read_to.insert(shard, last);
                let mut event = Event::default();
                event.records = records;
                batches.push(event);
            }
        }
        Ok(batches)
    }

    /// The shard's records after what was already handed out.
    async fn read_shard(&self, arn: &str, shard: &str) -> Result<Vec<EventRecord>, StoreError> {
        let request = self.streams.get_shard_iterator().stream_arn(arn).shard_id(shard);
        let request = match self.read_to.get(shard) {
            Some(seq) => request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(seq),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let mut iterator = request.send().await.map_err(failed)?.shard_iterator;
        let mut records = Vec::new();
        for _ in 0..PAGES_PER_SHARD {
            let Some(it) = iterator else { break };
            let page = self.streams.get_records().shard_iterator(it).send().await.map_err(failed)?;
            let got = page.records.unwrap_or_default();
            if got.is_empty() {
                break;
            }
            records.extend(got.iter().map(lambda_record));
            iterator = page.next_shard_iterator;
        }
        Ok(records)
    }
}

/// A Streams API record in the shape Lambda hands a function.
fn lambda_record(r: &Record) -> EventRecord {
    let item = |m: Option<&HashMap<String, AttributeValue>>| -> serde_dynamo::Item {
        m.cloned().map(serde_dynamo::Item::from).unwrap_or_default()
    };
    let mut change = StreamRecord::default();
    if let Some(d) = r.dynamodb() {
        change.keys = item(d.keys());
        change.new_image = item(d.new_image());
        change.old_image = item(d.old_image());
        change.sequence_number = d.sequence_number().map(str::to_string);
        change.size_bytes = d.size_bytes().unwrap_or(0);
        change.stream_view_type = Some(StreamViewType::NewAndOldImages);
        if let Some(at) = d.approximate_creation_date_time() {
            let time = chrono::DateTime::from_timestamp(at.secs(), at.subsec_nanos());
            change.approximate_creation_date_time = time.unwrap_or_default();
        }
    }
    let mut record = EventRecord::default();
    record.event_id = r.event_id().unwrap_or_default().to_string();
    record.event_name = r.event_name().map(|n| n.as_str().to_string()).unwrap_or_default();
    record.event_source = r.event_source().map(str::to_string);
    record.aws_region = r.aws_region().unwrap_or_default().to_string();
    record.change = change;
    record.user_identity = r.user_identity().map(|u| {
        let mut identity = UserIdentity::default();
        identity.type_ = u.r#type().unwrap_or_default().to_string();
        identity.principal_id = u.principal_id().unwrap_or_default().to_string();
        identity
    });
    record
}

/// The local run's stand-in for Lambda's event source mapping: from the end of the stream as
/// it is now, feeds every new batch to the consumer once a second, forever. Events go where
/// `app` publishes them (the log, unless EVENT_BUS_NAME is set). A read that fails is logged
/// and tried again on the next tick.
pub async fn follow(app: std::sync::Arc<crate::App>) {
    let Some(sdk) = app.sdk.clone() else { return };
    let publisher = app.publisher();
    let mut tail = StreamTail::new(&sdk, app.store.clone());
    if let Err(e) = tail.next_batches().await {
        tracing::warn!(error = %e, "stream not followed");
        return;
    }
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        match tail.next_batches().await {
            Ok(batches) => {
                for batch in batches {
                    let (_, outcome) = super::on_stream(&app, &publisher, &batch).await;
                    tracing::info!(?outcome, records = batch.records.len(), "stream batch handled");
                }
            }
            Err(e) => tracing::warn!(error = %e, "stream read failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_maps_in_images_become_maps_and_strings_stay() {
        let body = br#"{"Records":[{"dynamodb":{"Keys":{"PK":{"S":"a"}},"NewImage":{"geo":{},"ua":{"S":"x\":{}"},
            "m":{"M":{"inner":{}}},"l":{"L":[{}]}}}}],"NextShardIterator":"i"}"#;
        let fixed: serde_json::Value = serde_json::from_slice(&fix_empty_maps(body).unwrap()).unwrap();
        let image = &fixed["Records"][0]["dynamodb"]["NewImage"];
        assert_eq!(image["geo"], serde_json::json!({"M": {}}));
        assert_eq!(image["ua"], serde_json::json!({"S": "x\":{}"}));
        assert_eq!(image["m"]["M"]["inner"], serde_json::json!({"M": {}}));
        assert_eq!(image["l"]["L"][0], serde_json::json!({"M": {}}));
        assert_eq!(fix_empty_maps(br#"{"StreamDescription":{}}"#), None);
    }
}
