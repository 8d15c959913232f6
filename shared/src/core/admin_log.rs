//! Administrators' changes in the audit log (docs/audit-log.md): accounts created, deleted,
//! deactivated or activated, roles granted or revoked, second factors turned on or off, API
//! keys created, disabled or enabled. The admin tool writes the table directly, so these come
//! from the table's stream and their actor is the system.

use serde_json::{Value, json};

use super::audit::*;
use super::history::Actor;

/// A change to an account, as the table's stream shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountChange {
    Created,
    Deleted,
    Deactivated,
    Activated,
    /// A role granted (MonoCloud: added to a group).
    RoleAdded(String),
    RoleRemoved(String),
    /// A second factor turned on, or TOTP enrolled again with a new secret: `totp` or `email`.
    TwoFactorEnabled(&'static str),
    TwoFactorDisabled(&'static str),
}

/// A change to an API key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyChange {
    Created,
    Disabled,
    Enabled,
    /// Its scopes replaced: the names it now holds.
    ScopesChanged(Vec<String>),
}

/// An entry whose actor is the system, at `at_secs`, its targets and details still to fill in.
fn by_system(id: String, at_secs: i64, (category, name, kind, code): (&str, &str, &str, &str)) -> LogEntry {
    LogEntry {
        id,
        time_stamp: at_secs,
        category: category.into(),
        name: name.into(),
        description: String::new(),
        kind: kind.into(),
        code: code.into(),
        message: None,
        system: system(),
        request: LogRequest::default(),
        source: None,
        actor: LogParty { kind: "system".into(), ..LogParty::default() },
        targets: Vec::new(),
        client: None,
        details: Value::Null,
    }
}

/// The entry of one change to the account `user_id`, at `at_secs`.
pub fn account_changed(id: String, at_secs: i64, user_id: &str, username: &str, change: &AccountChange) -> LogEntry {
    use AccountChange::*;
    let (head, details) = match change {
        Created => (("users", "User Created", "success", USER_CREATED), json!({"reason": "created"})),
        Deleted => (("users", "User Deleted", "information", USER_DELETED), json!({"reason": "deleted"})),
        Deactivated => {
            (("users", "User Account Blocked", "information", ACCOUNT_BLOCKED), json!({"reason": "deactivated"}))
        }
        Activated => {
            (("users", "User Account Unblocked", "information", ACCOUNT_UNBLOCKED), json!({"reason": "activated"}))
        }
        RoleAdded(role) => (
            ("users", "User Added To Group", "information", ADDED_TO_GROUP),
            json!({"reason": "role_added", "role": role}),
        ),
        RoleRemoved(role) => (
            ("users", "User Removed From Group", "information", REMOVED_FROM_GROUP),
            json!({"reason": "role_removed", "role": role}),
        ),
        TwoFactorEnabled(method) => (
            ("users", "User Two Factor Enabled", "information", TWO_FACTOR_ENABLED),
            json!({"reason": "two_factor_enabled", "method": method}),
        ),
        TwoFactorDisabled(method) => (
            ("users", "User Two Factor Disabled", "information", TWO_FACTOR_DISABLED),
            json!({"reason": "two_factor_disabled", "method": method}),
        ),
    };
    let mut entry = by_system(id, at_secs, head);
    entry.description = describe(username, &details);
    entry.targets = vec![user_party(user_id, None, username, None)];
    entry.details = details;
    entry
}

/// The entry of one change to the API key `key_id` (its id and name, never the key or its hash).
pub fn api_key_changed(id: String, at_secs: i64, key_id: &str, key_name: &str, change: &KeyChange) -> LogEntry {
    let updated = ("api_resources", "API Resource Updated", "information", API_KEY_UPDATED);
    let (head, details) = match change {
        KeyChange::Created => {
            (("api_resources", "API Resource Secret Created", "success", API_KEY_CREATED), json!({"reason": "created"}))
        }
        KeyChange::Disabled => (updated, json!({"reason": "disabled"})),
        KeyChange::Enabled => (updated, json!({"reason": "enabled"})),
        KeyChange::ScopesChanged(scopes) => (updated, json!({"reason": "scopes_changed", "scopes": scopes})),
    };
    let mut entry = by_system(id, at_secs, head);
    entry.details = details;
    entry.description = describe(&format!("API key {key_name}"), &entry.details);
    entry.targets = vec![LogParty {
        kind: API_KEY.into(),
        id: Some(key_id.into()),
        name: Some(key_name.into()),
        ..LogParty::default()
    }];
    entry
}

/// What an administrator's unblock cleared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unblocked {
    /// The account's failed logins.
    Account,
    /// One address's.
    Ip(String),
    /// Every address the user's recent sign-ins came from.
    AllIps(Vec<String>),
}

/// The entry of an unblock by `actor` (an API key) of the user `user_id`, at `at_secs`.
pub fn unblocked(
    id: String,
    at_secs: i64,
    actor: &Actor,
    (user_id, username): (&str, &str),
    what: &Unblocked,
) -> LogEntry {
    let (head, details) = match what {
        Unblocked::Account => {
            (("blocks", "User Account Unblocked", "information", ACCOUNT_UNBLOCKED), json!({"reason": "lockout_reset"}))
        }
        Unblocked::Ip(ip) => (
            ("blocks", "User Account IP Unblocked", "information", IP_UNBLOCKED),
            json!({"reason": "ip_lockout_reset", "ip_address": ip}),
        ),
        Unblocked::AllIps(ips) => (
            ("blocks", "User Account All IP Blocks Removed", "information", ALL_IP_BLOCKS_REMOVED),
            json!({"reason": "ip_lockouts_reset", "ip_addresses": ips}),
        ),
    };
    let mut entry = by_system(id, at_secs, head);
    entry.actor = actor_party(actor);
    entry.description = describe(username, &details);
    entry.targets = vec![user_party(user_id, None, username, None)];
    entry.details = details;
    entry
}

/// `<who>: <reason>`, with the role or the method when there is one.
fn describe(who: &str, details: &Value) -> String {
    let reason = details["reason"].as_str().unwrap_or_default();
    match details.get("role").or_else(|| details.get("method")).and_then(Value::as_str) {
        Some(what) => format!("{who}: {reason} {what}"),
        None => format!("{who}: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_change_has_its_code_reason_and_target() {
        let cases = [
            (AccountChange::Created, USER_CREATED, "rod: created"),
            (AccountChange::Deactivated, ACCOUNT_BLOCKED, "rod: deactivated"),
            (AccountChange::RoleAdded("admin".into()), ADDED_TO_GROUP, "rod: role_added admin"),
            (AccountChange::RoleRemoved("admin".into()), REMOVED_FROM_GROUP, "rod: role_removed admin"),
            (AccountChange::TwoFactorEnabled("totp"), TWO_FACTOR_ENABLED, "rod: two_factor_enabled totp"),
            (AccountChange::TwoFactorDisabled("email"), TWO_FACTOR_DISABLED, "rod: two_factor_disabled email"),
        ];
        for (change, code, description) in cases {
            let e = account_changed("i".into(), 7, "U1", "rod", &change);
            assert_eq!((e.code.as_str(), e.description.as_str(), e.time_stamp), (code, description, 7));
            assert_eq!((e.user_id(), e.subject_id(), e.actor.kind.as_str()), (Some("U1"), Some("U1"), "system"));
        }
    }

    #[test]
    fn an_unblock_names_its_key_the_user_and_what_it_cleared() {
        let key = Actor::ApiKey("K1".into());
        let e = unblocked("i".into(), 7, &key, ("U1", "rod"), &Unblocked::Account);
        assert_eq!((e.code.as_str(), e.description.as_str()), (ACCOUNT_UNBLOCKED, "rod: lockout_reset"));
        assert_eq!((e.actor.kind.as_str(), e.actor.id.as_deref(), e.user_id()), ("api_key", Some("K1"), Some("U1")));
        let ip = unblocked("i".into(), 7, &key, ("U1", "rod"), &Unblocked::Ip("192.0.2.1".into()));
        assert_eq!((ip.code.as_str(), &ip.details["ip_address"]), (IP_UNBLOCKED, &json!("192.0.2.1")));
        let all = unblocked("i".into(), 7, &key, ("U1", "rod"), &Unblocked::AllIps(vec!["192.0.2.1".into()]));
        assert_eq!((all.code.as_str(), &all.details["ip_addresses"]), (ALL_IP_BLOCKS_REMOVED, &json!(["192.0.2.1"])));
    }

    #[test]
    fn an_api_keys_entry_names_the_key_not_a_user() {
        let e = api_key_changed("i".into(), 7, "K1", "billing", &KeyChange::Disabled);
        assert_eq!((e.code.as_str(), e.category.as_str()), (API_KEY_UPDATED, "api_resources"));
        assert_eq!(e.details, json!({"reason": "disabled"}));
        assert_eq!(e.description, "API key billing: disabled");
        assert_eq!((e.user_id(), e.subject_id()), (None, Some("K1")));
        let created = api_key_changed("i".into(), 7, "K1", "billing", &KeyChange::Created);
        assert_eq!((created.code.as_str(), created.kind.as_str()), (API_KEY_CREATED, "success"));
        let scoped =
            api_key_changed("i".into(), 7, "K1", "billing", &KeyChange::ScopesChanged(vec!["logs:read".into()]));
        assert_eq!(scoped.details, json!({"reason": "scopes_changed", "scopes": ["logs:read"]}));
    }
}
