//! Ended sessions: the history record every end writes in its own transaction
//! (`ENDED#<sessionId>` under the user), found by id through the by-id index like a live
//! session, kept `HISTORY_DAYS` by TTL (docs/history.md).

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::attributes::{from_item, to_item};
use super::error::{StoreError, conditional_write};
use super::sessions::SessionItem;
use super::transactions::Tx;
use super::{DynamoStore, keys};
use crate::core::clock::{iso_millis, parse_iso};
use crate::core::history::{Actor, EndReason, EndedSession, Ending};
use crate::core::model::Session;
use crate::core::travel::Risk;

/// A history record as stored.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// The by-id index finds an ended session where it found the live one.
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    entity: String,
    session_id: String,
    user_id: String,
    reason: EndReason,
    actor: Actor,
    logout_at: String,
    /// The record's own TTL (epoch seconds), `HISTORY_DAYS` after the end.
    expires_at: i64,
    /// The session as it was; absent until the stream completes an end by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session: Option<SessionItem>,
}

impl HistoryItem {
    fn new(user_id: &str, session_id: &str, ending: &Ending, session: Option<SessionItem>, keep_days: i64) -> Self {
        HistoryItem {
            pk: keys::user(user_id),
            sk: keys::ended(session_id),
            gsi1pk: keys::session(session_id),
            entity: "ended".into(),
            session_id: session_id.into(),
            user_id: user_id.into(),
            reason: ending.reason,
            actor: ending.actor.clone(),
            logout_at: iso_millis(ending.at),
            expires_at: ending.at.div_euclid(1000) + keep_days * 86_400,
            session: session.map(SessionItem::without_index_keys),
        }
    }

    fn into_ended(self) -> Result<EndedSession, StoreError> {
        let at = parse_iso(&self.logout_at)
            .ok_or_else(|| StoreError::Corrupt(format!("bad logoutAt in history of {}", self.session_id)))?;
        Ok(EndedSession {
            session: self.session.map(SessionItem::into_session).transpose()?,
            ending: Ending::new(self.reason, self.actor, at),
            session_id: self.session_id,
            user_id: self.user_id,
        })
    }
}

impl DynamoStore {
    /// The Put of a session's history record that goes in the transaction ending it.
    pub(super) fn history_put(
        &self,
        user_id: &str,
        session_id: &str,
        ending: &Ending,
        session: Option<SessionItem>,
    ) -> Result<TransactWriteItem, StoreError> {
        let item = to_item(&HistoryItem::new(user_id, session_id, ending, session, self.history_days))?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(|e| StoreError::Dynamo(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The history record of an ended session, by its user and id (a consistent read).
    pub async fn ended_session(&self, user_id: &str, session_id: &str) -> Result<Option<EndedSession>, StoreError> {
        match self.get(keys::user(user_id), &keys::ended(session_id)).await? {
            Some(item) => Ok(Some(from_item::<HistoryItem>(item)?.into_ended()?)),
            None => Ok(None),
        }
    }

    /// Records a session TTL removed (its old image from the stream), with reason
    /// "expired", in one transaction with its leaving the active-session counter. Once only:
    /// a record already there (the stream delivered the removal twice) changes nothing.
    /// True when this call recorded it.
    pub async fn record_expired(&self, old_image: serde_dynamo::Item) -> Result<bool, StoreError> {
        let session: SessionItem =
            serde_dynamo::from_item(old_image).map_err(|e| StoreError::Corrupt(format!("session image: {e}")))?;
        let (user_id, session_id) = (session.user_id().to_string(), session.session_id().to_string());
        let at = session.expires_at_secs().saturating_mul(1000);
        let ending = Ending::by_system(EndReason::Expired, at);
        let mut put = self.history_put(&user_id, &session_id, &ending, Some(session))?;
        if let Some(p) = put.put.as_mut() {
            p.condition_expression = Some("attribute_not_exists(PK)".into());
        }
        match self.transact(vec![put, self.counter_update(-1)?]).await? {
            Tx::Written => Ok(true),
            Tx::ConditionFailed(_) => Ok(false),
        }
    }

    /// Adds the session's details to a history record written without them (an end by id),
    /// from the removal's old image. Nothing happens when they are already there, or when
    /// there is no record (a removal that was no end: the TTL's, handled by `record_expired`).
    pub async fn complete_history(&self, old_image: serde_dynamo::Item) -> Result<bool, StoreError> {
        let session: SessionItem =
            serde_dynamo::from_item(old_image).map_err(|e| StoreError::Corrupt(format!("session image: {e}")))?;
        let key = (keys::user(session.user_id()), keys::ended(session.session_id()));
        let details = to_item(&session.without_index_keys())?;
        let outcome = self
            .update_key(key.0, &key.1)
            .update_expression("SET #s = :s")
            .condition_expression("attribute_exists(PK) AND attribute_not_exists(#s)")
            .expression_attribute_names("#s", "session")
            .expression_attribute_values(":s", AttributeValue::M(details))
            .send()
            .await;
        conditional_write(outcome)
    }
}

impl DynamoStore {
    /// Sets `risk` on a live session, and on its packed list row so that list.all's rows show
    /// it too (nothing else rewrites a row after the login); false when it is gone.
    pub async fn flag_session(&self, session: &Session, risk: &Risk) -> Result<bool, StoreError> {
        let flagged = Session { risk: Some(risk.clone()), ..session.clone() };
        let outcome = self
            .update_key(keys::user(&session.user_id), &keys::session(&session.session_id))
            .update_expression("SET #risk = :risk, #row = :row")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#risk", "risk")
            .expression_attribute_names("#row", keys::ROW)
            .expression_attribute_values(":risk", AttributeValue::M(to_item(risk)?))
            .expression_attribute_values(":row", AttributeValue::S(super::session_row::pack(&flagged)))
            .send()
            .await;
        conditional_write(outcome)
    }
}

/// A history record written by the stream or a transaction, read back from a stream image.
pub fn ended_from_image(image: serde_dynamo::Item) -> Result<EndedSession, StoreError> {
    let item: HistoryItem =
        serde_dynamo::from_item(image).map_err(|e| StoreError::Corrupt(format!("history image: {e}")))?;
    item.into_ended()
}

/// A live session read back from a stream image.
pub fn session_from_image(image: serde_dynamo::Item) -> Result<Session, StoreError> {
    let item: SessionItem =
        serde_dynamo::from_item(image).map_err(|e| StoreError::Corrupt(format!("session image: {e}")))?;
    item.into_session()
}
