//! Sessions: one item per session under its user, found by id and in every list order.

use std::future::Future;

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::attributes::{Item, from_item, number_value, string_value, to_item};
use super::error::{StoreError, store_error};
use super::login_limits::AccountGuard;
use super::tokens::TokenItem;
use super::transactions::{Tx, transact_put};
use super::{DynamoStore, keys};
use crate::core::clock::{iso_millis, parse_iso};
use crate::core::history::Ending;
use crate::core::model::{Device, Geo, LastUse, Session, UserRef};
use crate::core::travel::Risk;

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

/// Ends sessions: the session, its token, its place in the counter and its history record
/// (why, by whom, when: store::history) go together, in one transaction.
pub trait SessionEnder {
    /// Ends a live session of `user_id`; `Ok(false)` when there is none to end (never
    /// when it is still live: a write that cannot be done is an error).
    fn end_session(
        &self,
        user_id: &str,
        session_id: &str,
        ending: &Ending,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The same for any user's live session found by its id alone (administrators). The
    /// history record gets the session's details from the table's stream.
    fn end_session_by_id(
        &self,
        session_id: &str,
        ending: &Ending,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Ends every live session of `user_id` but `except`; how many it ended. Sessions
    /// another call ends meanwhile are not counted.
    fn end_sessions(
        &self,
        user_id: &str,
        except: Option<&str>,
        ending: &Ending,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// Records a new session together with its token.
pub trait SessionCreator {
    /// With `guard`, only if the account's failed logins do not block it (which it clears):
    /// `StoreError::LoginBlocked` otherwise.
    fn create_session(
        &self,
        session: &Session,
        token_hash: &str,
        guard: Option<&AccountGuard>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A session as stored: the domain fields plus keys, index attributes and its token's hash.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SessionItem {
    #[serde(rename = "PK", default, skip_serializing_if = "String::is_empty")]
    pk: String,
    #[serde(rename = "SK", default, skip_serializing_if = "String::is_empty")]
    sk: String,
    /// By-session-id index (info.admin, logout): `SESSION#<sessionId>`.
    #[serde(rename = "GSI1PK")]
    #[serde(default, skip_serializing_if = "String::is_empty")]
    gsi1pk: String,
    /// Order indexes (list.all): the shard's partition `SESSIONS#<shard>`; ByLoginAt's sort
    /// key is `loginAt#sessionId`, the others' `<value>\u{1}<sessionId>`.
    #[serde(rename = "GSI2PK")]
    #[serde(default, skip_serializing_if = "String::is_empty")]
    gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    #[serde(default, skip_serializing_if = "String::is_empty")]
    gsi2sk: String,
    #[serde(rename = "GSI3SK")]
    #[serde(default, skip_serializing_if = "String::is_empty")]
    gsi3sk: String,
    #[serde(rename = "GSI4SK")]
    #[serde(default, skip_serializing_if = "String::is_empty")]
    gsi4sk: String,
    #[serde(rename = "GSI5SK")]
    #[serde(default, skip_serializing_if = "String::is_empty")]
    gsi5sk: String,
    #[serde(rename = "GSI6SK")]
    #[serde(default, skip_serializing_if = "String::is_empty")]
    gsi6sk: String,
    #[serde(rename = "GSI7SK")]
    #[serde(default, skip_serializing_if = "String::is_empty")]
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
    /// The newest recorded use (store::activity); absent until one is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_use: Option<LastUse>,
    /// Set by the stream consumer when the session is flagged (core::travel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    risk: Option<Risk>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    token_hash: String,
    /// The packed list row the order indexes project (store::session_row). Items written
    /// before it existed read as "" here (their index entries need a backfill; docs/deploying.md).
    #[serde(rename = "r", default, skip_serializing_if = "String::is_empty")]
    row: String,
}

impl SessionItem {
    /// The item of `session`, in its order-index shard of `order_shards`.
    pub(super) fn new(session: &Session, token_hash: &str, order_shards: u32) -> Self {
        let login_at = iso_millis(session.login_at);
        SessionItem {
            pk: keys::user(&session.user_id),
            sk: keys::session(&session.session_id),
            gsi1pk: keys::session(&session.session_id),
            gsi2pk: keys::order_shard(keys::order_shard_of(&session.session_id, order_shards)),
            gsi2sk: keys::by_login_at(session.login_at, &session.session_id),
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
            last_use: session.last_use.clone(),
            risk: session.risk.clone(),
            token_hash: token_hash.into(),
            row: super::session_row::pack(session),
        }
    }

    pub(super) fn user_id(&self) -> &str {
        &self.user_id
    }

    pub(super) fn session_id(&self) -> &str {
        &self.session_id
    }

    pub(super) fn expires_at_secs(&self) -> i64 {
        self.expires_at
    }

    /// The session's own fields only, as its history record keeps them: no keys, no index
    /// attributes, no token hash.
    pub(super) fn without_index_keys(self) -> Self {
        let empty = String::new;
        SessionItem {
            pk: empty(),
            sk: empty(),
            gsi1pk: empty(),
            gsi2pk: empty(),
            gsi2sk: empty(),
            gsi3sk: empty(),
            gsi4sk: empty(),
            gsi5sk: empty(),
            gsi6sk: empty(),
            gsi7sk: empty(),
            token_hash: empty(),
            row: empty(),
            ..self
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
            last_use: self.last_use,
            risk: self.risk,
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

impl DynamoStore {
    /// Every stored session item of the user, from a consistent Query of its partition.
    async fn user_session_items(&self, user_id: &str) -> Result<Vec<SessionItem>, StoreError> {
        let mut sessions = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :sk)")
                .expression_attribute_values(":pk", string_value(keys::user(user_id)))
                .expression_attribute_values(":sk", string_value(keys::SESSION_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(store_error)?;
            for item in out.items.unwrap_or_default() {
                sessions.push(from_item::<SessionItem>(item)?);
            }
            // Follow LastEvaluatedKey whenever present, even if the next page is empty.
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(sessions)
    }
}

impl UserSessionReader for DynamoStore {
    async fn user_sessions(&self, user_id: &str) -> Result<Vec<Session>, StoreError> {
        self.user_session_items(user_id).await?.into_iter().map(SessionItem::into_session).collect()
    }

    async fn user_session(&self, user_id: &str, session_id: &str) -> Result<Option<Session>, StoreError> {
        self.session_item(user_id, session_id).await?.map(SessionItem::into_session).transpose()
    }
}

impl SessionEnder for DynamoStore {
    async fn end_session(&self, user_id: &str, session_id: &str, ending: &Ending) -> Result<bool, StoreError> {
        let Some(item) = self.session_item(user_id, session_id).await? else {
            return Ok(false);
        };
        if item.expires_at.saturating_mul(1000) <= ending.at {
            return Ok(false);
        }
        let (pk, sk, token_hash) = (item.pk.clone(), item.sk.clone(), item.token_hash.clone());
        let history = self.history_put(user_id, session_id, ending, Some(item))?;
        self.end_keyed(&pk, &sk, &token_hash, history).await
    }

    async fn end_session_by_id(&self, session_id: &str, ending: &Ending) -> Result<bool, StoreError> {
        // The by-id index carries the keys, the token hash and the expiry: enough to end the
        // session in one transaction, whose condition on the token hash confirms the item
        // (the index may lag: a session already ended fails the condition, so "not found").
        let Some(found) = self.session_index_entry(session_id).await? else {
            // Not in the index yet: its owner item names the user; read and end it as any.
            return match self.session_owner(session_id).await? {
                Some(user_id) => self.end_session(&user_id, session_id, ending).await,
                None => Ok(false),
            };
        };
        let text = |name: &str| found.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        let expires_at = found.get("expiresAt").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<i64>().ok());
        if expires_at.is_none_or(|e| e.saturating_mul(1000) <= ending.at) {
            return Ok(false);
        }
        let (pk, sk, token_hash) = (text(keys::PK), text(keys::SK), text("tokenHash"));
        let user_id = pk.strip_prefix("USER#").unwrap_or_default().to_string();
        if user_id.is_empty() || token_hash.is_empty() {
            return Err(StoreError::Corrupt(format!("index entry of session {session_id}")));
        }
        let history = self.history_put(&user_id, session_id, ending, None)?;
        self.end_keyed(&pk, &sk, &token_hash, history).await
    }

    async fn end_sessions(&self, user_id: &str, except: Option<&str>, ending: &Ending) -> Result<usize, StoreError> {
        // The Query returns each session whole: the sessions are ended straight from it, up
        // to SESSIONS_PER_TRANSACTION per transaction, the transactions at once.
        let targets: Vec<SessionItem> = self
            .user_session_items(user_id)
            .await?
            .into_iter()
            .filter(|i| i.expires_at.saturating_mul(1000) > ending.at && Some(i.session_id.as_str()) != except)
            .collect();
        let mut batches = Vec::new();
        let mut rest = targets.into_iter().peekable();
        while rest.peek().is_some() {
            let batch: Vec<SessionItem> = rest.by_ref().take(SESSIONS_PER_TRANSACTION).collect();
            batches.push(self.end_batch(user_id, batch, ending));
        }
        Ok(futures_util::future::try_join_all(batches).await?.into_iter().sum())
    }
}

/// Sessions one transaction ends: two deletes and a history record each, and one counter
/// update, of at most 100 items.
const SESSIONS_PER_TRANSACTION: usize = 33;

/// Items a transaction writes per session in `end_batch`; the session's delete comes first.
const ITEMS_PER_SESSION: usize = 3;

impl DynamoStore {
    /// Ends `sessions` of `user_id` in one transaction with one counter adjustment; those
    /// whose condition fails (ended meanwhile) are dropped and the rest tried again. How
    /// many it ended.
    async fn end_batch(
        &self,
        user_id: &str,
        mut sessions: Vec<SessionItem>,
        ending: &Ending,
    ) -> Result<usize, StoreError> {
        while !sessions.is_empty() {
            let mut items = Vec::with_capacity(ITEMS_PER_SESSION * sessions.len() + 1);
            for item in &sessions {
                let [session, token] = self.session_deletes(&item.pk, &item.sk, &item.token_hash)?;
                items.push(TransactWriteItem::builder().delete(session).build());
                items.push(TransactWriteItem::builder().delete(token).build());
                items.push(self.history_put(user_id, &item.session_id, ending, Some(item.clone()))?);
            }
            items.push(self.counter_update(-(sessions.len() as i64))?);
            match self.transact(items).await? {
                Tx::Written => return Ok(sessions.len()),
                Tx::ConditionFailed(failed)
                    if failed.iter().all(|i| i % ITEMS_PER_SESSION == 0 && i / ITEMS_PER_SESSION < sessions.len()) =>
                {
                    let gone: Vec<usize> = failed.iter().map(|i| i / ITEMS_PER_SESSION).collect();
                    sessions =
                        sessions.into_iter().enumerate().filter(|(i, _)| !gone.contains(i)).map(|(_, s)| s).collect();
                }
                Tx::ConditionFailed(failed) => {
                    return Err(StoreError::Dynamo(format!("unexpected failed conditions {failed:?}")));
                }
            }
        }
        Ok(0)
    }

    /// The deletes of a session (conditional on its token hash) and of its token.
    fn session_deletes(&self, pk: &str, sk: &str, token_hash: &str) -> Result<[Delete; 2], StoreError> {
        let session = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, string_value(pk))
            .key(keys::SK, string_value(sk))
            .condition_expression("tokenHash = :h")
            .expression_attribute_values(":h", string_value(token_hash))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        let token = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, string_value(keys::token(token_hash)))
            .key(keys::SK, string_value(keys::TOKEN))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        Ok([session, token])
    }
}

impl DynamoStore {
    /// Ends the session at (pk, sk) whose token hash is `token_hash`, with its token, a
    /// counter shard and its `history` record; `Ok(false)` when it is gone (or holds another token).
    async fn end_keyed(
        &self,
        pk: &str,
        sk: &str,
        token_hash: &str,
        history: TransactWriteItem,
    ) -> Result<bool, StoreError> {
        let [delete_session, delete_token] = self.session_deletes(pk, sk, token_hash)?;
        let outcome = self
            .transact(vec![
                TransactWriteItem::builder().delete(delete_session).build(),
                TransactWriteItem::builder().delete(delete_token).build(),
                self.counter_update(-1)?,
                history,
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

/// The item naming a session's owner by its id, kept as long as the session could live.
fn owner_item(session: &Session) -> Item {
    Item::from([
        (keys::PK.to_string(), string_value(keys::session_owner(&session.session_id))),
        (keys::SK.to_string(), string_value(keys::SESSION_OWNER)),
        ("userId".to_string(), string_value(&session.user_id)),
        ("expiresAt".to_string(), number_value(session.expires_at)),
    ])
}

impl SessionCreator for DynamoStore {
    /// The session, its token and the counter, in one transaction that also checks the
    /// account is still active: a deactivation that set the flag before it commits leaves no
    /// session behind (one committed before is ended by the deactivation's own pass).
    async fn create_session(
        &self,
        session: &Session,
        token_hash: &str,
        guard: Option<&AccountGuard>,
    ) -> Result<(), StoreError> {
        let token = TokenItem::new(session, token_hash);
        let mut items = vec![
            transact_put(&self.table, to_item(&SessionItem::new(session, token_hash, self.order_shards))?, true)?,
            transact_put(&self.table, to_item(&token)?, true)?,
            transact_put(&self.table, owner_item(session), false)?,
            self.counter_update(1)?,
            self.active_account_check(&session.user_id)?,
        ];
        if let Some(guard) = guard {
            items.push(self.unblocked_clear(guard)?);
        }
        match self.transact(items).await? {
            Tx::Written => Ok(()),
            Tx::ConditionFailed(failed) if failed.contains(&4) => Err(StoreError::Inactive),
            Tx::ConditionFailed(failed) if failed.contains(&5) => Err(StoreError::LoginBlocked),
            Tx::ConditionFailed(_) => Err(StoreError::Conflict(format!("session {}", session.session_id))),
        }
    }
}
