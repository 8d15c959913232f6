//! POST /api/v1/users.setPreferences and GET /api/v1/users.getPreferences, in Rocket.Chat's
//! shapes, for the one preference this API acts on: `receiveLoginDetectionEmail`
//! (docs/login-emails.md).

use super::ApiError;
use crate::core::clock::Millis;
use crate::core::preferences::Preferences;
use crate::request::{ApiRequest, RequestView};
use crate::rocketchat::auth::{AuthStore, authenticate, record_activity};
use crate::rocketchat::preferences_body::parse_set_preferences;
use crate::store::PreferenceStore;

/// What setPreferences answers: the user and every saved preference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedPreferences {
    pub user_id: String,
    pub preferences: Preferences,
}

/// POST /api/v1/users.setPreferences: the caller's own (a `userId` naming another user is
/// refused: nobody here may edit another user's preferences).
pub async fn set_preferences<S: AuthStore + PreferenceStore>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<SavedPreferences, ApiError> {
    let caller = authenticate(store, req, now).await?;
    let (user_id, change) = parse_set_preferences(req.body_bytes())?;
    if user_id.is_some_and(|id| id != caller.user_id) {
        return Err(ApiError::EditingNotAllowed);
    }
    record_activity(store, req, &caller);
    let preferences = store.set_preferences(&caller.user_id, &change).await?;
    Ok(SavedPreferences { user_id: caller.user_id, preferences })
}

/// GET /api/v1/users.getPreferences: the caller's saved preferences.
pub async fn get_preferences<S: AuthStore + PreferenceStore>(
    store: &S,
    req: &ApiRequest,
    now: Millis,
) -> Result<Preferences, ApiError> {
    let caller = authenticate(store, req, now).await?;
    record_activity(store, req, &caller);
    store.preferences(&caller.user_id).await?.ok_or(ApiError::PreferencesNotSet)
}
