//! A user's preferences this API keeps and acts on: Rocket.Chat's `settings.preferences`,
//! of which only `receiveLoginDetectionEmail` means anything here (docs/login-emails.md).

use serde::{Deserialize, Serialize};

/// The preferences a user saved (`users.setPreferences`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    /// `false` turns new-login emails off (when LOGIN_EMAIL_OPT_OUT lets users); unset or
    /// null is Rocket.Chat's default, `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive_login_detection_email: Option<bool>,
}

impl Preferences {
    /// Whether the user wants new-login emails.
    pub fn wants_login_emails(&self) -> bool {
        self.receive_login_detection_email != Some(false)
    }
}
