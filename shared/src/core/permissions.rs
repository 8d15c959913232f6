//! Permissions: which roles may do what. Stored in the table; absent items take the
//! defaults of docs/login-and-2fa.md (every permission here goes to the admin role).

use super::model::User;

pub const VIEW_DEVICE_MANAGEMENT: &str = "view-device-management";
pub const LOGOUT_DEVICE_MANAGEMENT: &str = "logout-device-management";
/// Rocket.Chat's permission to end another user's sessions (users.logout).
pub const LOGOUT_OTHER_USER: &str = "logout-other-user";

/// Rocket.Chat's permissions to deactivate and activate users (users.setActiveStatus takes either).
pub const EDIT_OTHER_USER_ACTIVE_STATUS: &str = "edit-other-user-active-status";
pub const MANAGE_MODERATION_ACTIONS: &str = "manage-moderation-actions";

/// Every permission with its default roles.
pub const DEFAULTS: [(&str, &[&str]); 5] = [
    (VIEW_DEVICE_MANAGEMENT, &["admin"]),
    (LOGOUT_DEVICE_MANAGEMENT, &["admin"]),
    (LOGOUT_OTHER_USER, &["admin"]),
    (EDIT_OTHER_USER_ACTIVE_STATUS, &["admin"]),
    (MANAGE_MODERATION_ACTIONS, &["admin"]),
];

pub fn default_roles(permission: &str) -> Vec<String> {
    DEFAULTS
        .iter()
        .find(|(p, _)| *p == permission)
        .map(|(_, r)| r.iter().map(|r| r.to_string()).collect())
        .unwrap_or_default()
}

/// Whether the user holds `permission`, given its stored roles (`None`: the defaults). For
/// callers that read the permission concurrently with the user.
pub fn holds(user: &User, stored_roles: Option<Vec<String>>, permission: &str) -> bool {
    let roles = stored_roles.unwrap_or_else(|| default_roles(permission));
    user.roles.iter().any(|r| roles.contains(r))
}
