//! Tokens: the hash of each login token, pointing at its session.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::attributes::from_item;
use super::error::StoreError;
use super::{DynamoStore, keys};
use crate::core::model::{Session, TokenRecord};

/// Resolves a token hash to its record (authentication).
pub trait TokenStore {
    fn token(&self, token_hash: &str) -> impl Future<Output = Result<Option<TokenRecord>, StoreError>> + Send;
}

/// A token as stored, keyed by its hash.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TokenItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: String,
    session_id: String,
    expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    two_factor_trusted_until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    two_factor_fingerprint: Option<String>,
    /// When the session's activity was last recorded, epoch ms (store::activity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_activity_at: Option<i64>,
}

impl TokenItem {
    /// The token item of a new session (not yet trusted for 2FA).
    pub(super) fn new(session: &Session, token_hash: &str) -> Self {
        TokenItem {
            pk: keys::token(token_hash),
            sk: keys::TOKEN.into(),
            entity: "token".into(),
            user_id: session.user_id.clone(),
            session_id: session.session_id.clone(),
            expires_at: session.expires_at,
            two_factor_trusted_until: None,
            two_factor_fingerprint: None,
            last_activity_at: Some(session.last_activity_at),
        }
    }
}

impl TokenStore for DynamoStore {
    async fn token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let Some(item) = self.get(keys::token(token_hash), keys::TOKEN).await? else {
            return Ok(None);
        };
        let t: TokenItem = from_item(item)?;
        Ok(Some(TokenRecord {
            token_hash: token_hash.into(),
            user_id: t.user_id,
            session_id: t.session_id,
            expires_at: t.expires_at,
            two_factor_trusted_until: t.two_factor_trusted_until,
            two_factor_fingerprint: t.two_factor_fingerprint,
            last_activity_at: t.last_activity_at,
        }))
    }
}
