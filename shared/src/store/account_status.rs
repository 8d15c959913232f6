//! Activating and deactivating an account: the one path Rocket.Chat's users.setActiveStatus,
//! MonoCloud's disable and enable, and the admin tool all take (docs/accounts.md).

use std::future::Future;

use super::DynamoStore;
use super::error::StoreError;
use super::sessions::SessionEnder;
use super::users::UserStore;
use crate::core::clock::Millis;
use crate::core::history::{Actor, EndReason, Ending};
use crate::core::model::User;

/// What a change of an account's status did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusChanged {
    /// The account as it now is.
    pub user: User,
    /// Sessions ended by this deactivation (0 for an activation).
    pub sessions_ended: usize,
}

/// Activates or deactivates accounts.
pub trait AccountStatus {
    /// Sets `user_id` active or not, by `actor` at `now`; `None` for an unknown user.
    /// Deactivating sets the flag first, then ends every session of the user (reason
    /// `deactivated`): token checks read the flag and a login's transaction checks it
    /// (store::sessions), so no session outlives the deactivation and an activation brings
    /// none back. Deactivating an inactive account ends what is left (a retry finishes the job).
    fn set_account_active(
        &self,
        user_id: &str,
        active: bool,
        actor: Actor,
        now: Millis,
    ) -> impl Future<Output = Result<Option<StatusChanged>, StoreError>> + Send;
}

impl AccountStatus for DynamoStore {
    async fn set_account_active(
        &self,
        user_id: &str,
        active: bool,
        actor: Actor,
        now: Millis,
    ) -> Result<Option<StatusChanged>, StoreError> {
        // Read once: the change is written from this read (store::users::set_active_of).
        let Some(user) = self.user(user_id).await? else { return Ok(None) };
        if user.active != active {
            self.set_active_of(&user, active).await?;
        }
        let sessions_ended = if active {
            0
        } else {
            self.end_sessions(user_id, None, &Ending::new(EndReason::Deactivated, actor, now)).await?
        };
        Ok(Some(StatusChanged { user: User { active, ..user }, sessions_ended }))
    }
}
