//! Sessions: one item per session under its user, found by id and in every list order.

use std::future::Future;

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::tokens::TokenItem;
use super::{DynamoStore, StoreError, Tx, dynamo, from_item, keys, put, s, to_item};
use crate::clock::{Millis, iso_millis, parse_iso};
use crate::model::{Device, Geo, Session, UserRef};

/// Reads one user's own sessions.
pub trait UserSessionReader {
    /// Every stored session of the user, expired ones included (the caller filters on expiry).
    fn user_sessions(&self, user_id: &str) -> impl Future<Output = Result<Vec<Session>, StoreError>> + Send;
    fn user_session(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> impl Future<Output = Result<Option<Session>, StoreError>> + Send;
}

/// Ends sessions: the session, its token and its place in the counter go together.
pub trait SessionEnder {
    /// Ends a live session of `user_id`; `Ok(false)` when there is none to end (never
    /// when it is still live: a write that cannot be done is an error).
    fn end_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: Millis,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The same for any user's live session found by its id alone (administrators).
    fn end_session_by_id(&self, session_id: &str, now: Millis)
    -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Records a new session together with its token.
pub trait SessionCreator {
    fn create_session(
        &self,
        session: &Session,
        token_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A session as stored: the domain fields plus keys, index attributes and its token's hash.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SessionItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// By-session-id index (info.admin, logout): `SESSION#<sessionId>`.
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    /// Global order index (list.all): constant partition, `loginAt#sessionId` sort key.
    #[serde(rename = "GSI2PK")]
    gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    gsi2sk: String,
    #[serde(rename = "GSI3SK")]
    gsi3sk: String,
    #[serde(rename = "GSI4SK")]
    gsi4sk: String,
    #[serde(rename = "GSI5SK")]
    gsi5sk: String,
    #[serde(rename = "GSI6SK")]
    gsi6sk: String,
    #[serde(rename = "GSI7SK")]
    gsi7sk: String,
    entity: String,
    session_id: String,
    user_id: String,
    device: Device,
    host: String,
    ip: String,
    user_agent: String,
    login_at: String,
    last_activity_at: String,
    expires_at: i64,
    #[serde(default)]
    client_ids: Vec<String>,
    #[serde(default)]
    geo: Geo,
    #[serde(rename = "_user")]
    user: UserRef,
    token_hash: String,
}

impl SessionItem {
    fn new(session: &Session, token_hash: &str) -> Self {
        let login_at = iso_millis(session.login_at);
        SessionItem {
            pk: keys::user(&session.user_id),
            sk: keys::session(&session.session_id),
            gsi1pk: keys::session(&session.session_id),
            gsi2pk: keys::ALL_SESSIONS.into(),
            gsi2sk: format!("{login_at}#{}", session.session_id),
            gsi3sk: ordered(&session.device.name, &session.session_id),
            gsi4sk: ordered(&session.device.os.name, &session.session_id),
            gsi5sk: ordered(&session.device.os.version, &session.session_id),
            gsi6sk: ordered(session.user.name.as_deref().unwrap_or(""), &session.session_id),
            gsi7sk: ordered(&session.user.username, &session.session_id),
            entity: "session".into(),
            session_id: session.session_id.clone(),
            user_id: session.user_id.clone(),
            device: session.device.clone(),
            host: session.host.clone(),
            ip: session.ip.clone(),
            user_agent: session.user_agent.clone(),
            login_at,
            last_activity_at: iso_millis(session.last_activity_at),
            expires_at: session.expires_at,
            client_ids: session.client_ids.clone(),
            geo: session.geo.clone(),
            user: session.user.clone(),
            token_hash: token_hash.into(),
        }
    }

    pub(super) fn into_session(self) -> Result<Session, StoreError> {
        let time = |v: &str| {
            parse_iso(v).ok_or_else(|| StoreError::Corrupt(format!("bad time in session {}", self.session_id)))
        };
        Ok(Session {
            login_at: time(&self.login_at)?,
            last_activity_at: time(&self.last_activity_at)?,
            session_id: self.session_id,
            user_id: self.user_id,
            device: self.device,
            host: self.host,
            ip: self.ip,
            user_agent: self.user_agent,
            expires_at: self.expires_at,
            client_ids: self.client_ids,
            geo: self.geo,
            user: self.user,
        })
    }
}

/// Index sort key `<value>\u{1}<sessionId>`: orders by value, then sessionId, as the
/// in-memory sort does (control characters, which could sort below the separator, are dropped).
fn ordered(value: &str, session_id: &str) -> String {
    // Index keys are at most 1024 bytes: 200 characters of value keep any UTF-8 under it.
    let clean: String = value.chars().filter(|c| !c.is_control()).take(200).collect();
    format!("{clean}\u{1}{session_id}")
}

impl DynamoStore {
    pub(super) async fn session_item(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionItem>, StoreError> {
        match self.get(keys::user(user_id), &keys::session(session_id)).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }
}

impl UserSessionReader for DynamoStore {
    async fn user_sessions(&self, user_id: &str) -> Result<Vec<Session>, StoreError> {
        let mut sessions = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :sk)")
                .expression_attribute_values(":pk", s(keys::user(user_id)))
                .expression_attribute_values(":sk", s(keys::SESSION_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(dynamo)?;
            for item in out.items.unwrap_or_default() {
                sessions.push(from_item::<SessionItem>(item)?.into_session()?);
            }
            // Follow LastEvaluatedKey whenever present, even if the next page is empty.
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(sessions)
    }

    async fn user_session(&self, user_id: &str, session_id: &str) -> Result<Option<Session>, StoreError> {
        self.session_item(user_id, session_id).await?.map(SessionItem::into_session).transpose()
    }
}

impl SessionEnder for DynamoStore {
    async fn end_session(&self, user_id: &str, session_id: &str, now: Millis) -> Result<bool, StoreError> {
        let Some(item) = self.session_item(user_id, session_id).await? else {
            return Ok(false);
        };
        if item.expires_at.saturating_mul(1000) <= now {
            return Ok(false);
        }
        self.end_keyed(&item.pk, &item.sk, &item.token_hash).await
    }

    async fn end_session_by_id(&self, session_id: &str, now: Millis) -> Result<bool, StoreError> {
        // The by-id index carries the keys, the token hash and the expiry: enough to end the
        // session in one transaction, whose condition on the token hash confirms the item
        // (the index may lag: a session already ended fails the condition, so "not found").
        let Some(found) = self.session_index_entry(session_id).await? else {
            return Ok(false);
        };
        let text = |name: &str| found.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        let expires_at = found.get("expiresAt").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok());
        if expires_at.is_none_or(|e| e.saturating_mul(1000) <= now) {
            return Ok(false);
        }
        let (pk, sk, token_hash) = (text(keys::PK), text(keys::SK), text("tokenHash"));
        if pk.is_empty() || token_hash.is_empty() {
            return Err(StoreError::Corrupt(format!("index entry of session {session_id}")));
        }
        self.end_keyed(&pk, &sk, &token_hash).await
    }
}

impl DynamoStore {
    /// Ends the session at (pk, sk) whose token hash is `token_hash`, with its token and a
    /// counter shard; `Ok(false)` when it is gone (or holds another token).
    async fn end_keyed(&self, pk: &str, sk: &str, token_hash: &str) -> Result<bool, StoreError> {
        let delete_session = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .condition_expression("tokenHash = :h")
            .expression_attribute_values(":h", s(token_hash))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        let delete_token = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::token(token_hash)))
            .key(keys::SK, s(keys::TOKEN))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        let outcome = self
            .transact(vec![
                TransactWriteItem::builder().delete(delete_session).build(),
                TransactWriteItem::builder().delete(delete_token).build(),
                self.counter_update(-1)?,
            ])
            .await?;
        // Only the session's own condition can fail: it was ended (or replaced) meanwhile.
        match outcome {
            Tx::Written => Ok(true),
            Tx::ConditionFailed(items) if items == [0] => Ok(false),
            Tx::ConditionFailed(items) => Err(StoreError::Dynamo(format!("unexpected failed conditions {items:?}"))),
        }
    }
}

impl SessionCreator for DynamoStore {
    async fn create_session(&self, session: &Session, token_hash: &str) -> Result<(), StoreError> {
        let token = TokenItem::new(session, token_hash);
        let outcome = self
            .transact(vec![
                put(&self.table, to_item(&SessionItem::new(session, token_hash))?, true)?,
                put(&self.table, to_item(&token)?, true)?,
                self.counter_update(1)?,
            ])
            .await?;
        match outcome {
            Tx::Written => Ok(()),
            Tx::ConditionFailed(_) => Err(StoreError::Conflict(format!("session {}", session.session_id))),
        }
    }
}

/// Loads many sessions at once, for benchmarks and demo data: BatchWriteItem of each session
/// and its token, then one counter adjustment. No conditions and no cap: only for tables
/// being filled before use.
pub trait SessionBulkLoader {
    /// Writes every `(session, token hash)`; retries what DynamoDB leaves unprocessed.
    fn load_sessions(&self, sessions: &[(Session, String)]) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl SessionBulkLoader for DynamoStore {
    async fn load_sessions(&self, sessions: &[(Session, String)]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let mut requests = Vec::with_capacity(sessions.len() * 2);
        for (session, token_hash) in sessions {
            for item in
                [to_item(&SessionItem::new(session, token_hash))?, to_item(&TokenItem::new(session, token_hash))?]
            {
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| StoreError::Dynamo(e.to_string()))?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
        }
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            for attempt in 0u32.. {
                let out =
                    self.client.batch_write_item().request_items(&self.table, pending).send().await.map_err(dynamo)?;
                pending = out.unprocessed_items.and_then(|mut t| t.remove(&self.table)).unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if attempt == 20 {
                    return Err(StoreError::Unavailable("BatchWriteItem left items unprocessed".into()));
                }
                tokio::time::sleep(std::time::Duration::from_millis(10 << attempt.min(6))).await;
            }
        }
        self.adjust_session_count(sessions.len() as i64).await
    }
}
