//! A user's sign-in attempts by source address, from its audit log entries: what MonoCloud's
//! `UserIpAccessDetails` reports beside an address's block (`GET
//! /api/users/{user_id}/blocked_ips`, docs/monocloud.md#login-blocks).

use std::collections::HashMap;

use super::audit::{ACCOUNT_BLOCKED, IP_BLOCKED, LogEntry, SIGN_IN_FAILED, SIGN_IN_SUCCEEDED};

/// Most addresses one user's listing looks at (the most recently used).
pub const MAX_ADDRESSES: usize = 100;

/// One address's attempts at signing in to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpAttempts {
    pub ip: String,
    /// Sign-ins tried from it: succeeded, failed or refused by a block.
    pub attempts: u32,
    /// Epoch seconds of the latest.
    pub last_attempt: i64,
    /// Epoch seconds of the latest that succeeded.
    pub last_success: Option<i64>,
}

/// The sign-in address of an entry, if it records a sign-in attempt.
fn attempt_ip(entry: &LogEntry) -> Option<&str> {
    let sign_in = [SIGN_IN_SUCCEEDED, SIGN_IN_FAILED, ACCOUNT_BLOCKED, IP_BLOCKED].contains(&entry.code.as_str());
    // user_account_blocked also records a deactivation, which has no address.
    let ip = entry.request.remote_ip.as_ref()?.get("ip")?.as_str()?;
    (sign_in && !ip.is_empty()).then_some(ip)
}

/// The addresses of `entries` (in any order), most recently used first, at most
/// [`MAX_ADDRESSES`].
pub fn by_address(entries: &[LogEntry]) -> Vec<IpAttempts> {
    let mut seen: HashMap<&str, IpAttempts> = HashMap::new();
    for entry in entries {
        let Some(ip) = attempt_ip(entry) else { continue };
        let row = seen.entry(ip).or_insert_with(|| IpAttempts {
            ip: ip.to_string(),
            attempts: 0,
            last_attempt: entry.time_stamp,
            last_success: None,
        });
        row.attempts += 1;
        row.last_attempt = row.last_attempt.max(entry.time_stamp);
        if entry.code == SIGN_IN_SUCCEEDED {
            row.last_success = row.last_success.max(Some(entry.time_stamp));
        }
    }
    let mut rows: Vec<IpAttempts> = seen.into_values().collect();
    rows.sort_by(|a, b| b.last_attempt.cmp(&a.last_attempt).then_with(|| a.ip.cmp(&b.ip)));
    rows.truncate(MAX_ADDRESSES);
    rows
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::core::audit::{LogRequest, USER_CREATED};

    fn entry(code: &str, ip: Option<&str>, at: i64) -> LogEntry {
        let request = LogRequest { remote_ip: ip.map(|ip| json!({"ip": ip, "version": "IPv4"})), ..Default::default() };
        serde_json::from_value(json!({
            "id": format!("{code}{at}"), "time_stamp": at, "category": "c", "name": "n", "description": "d",
            "type": "failure", "code": code, "message": null, "system": null, "request": request, "source": null,
            "actor": {"type": "unknown", "id": null, "name": null, "identifier": null}, "targets": [],
            "client": null, "details": null,
        }))
        .unwrap()
    }

    #[test]
    fn counts_sign_in_attempts_per_address_newest_first() {
        let entries = [
            entry(SIGN_IN_FAILED, Some("192.0.2.1"), 10),
            entry(SIGN_IN_SUCCEEDED, Some("192.0.2.1"), 20),
            entry(ACCOUNT_BLOCKED, Some("192.0.2.1"), 15),
            entry(IP_BLOCKED, Some("198.51.100.7"), 30),
            entry(SIGN_IN_FAILED, Some("198.51.100.7"), 25),
            // Not sign-in attempts: a deactivation (no address), another code, no address.
            entry(ACCOUNT_BLOCKED, None, 40),
            entry(USER_CREATED, Some("203.0.113.1"), 50),
            entry(SIGN_IN_FAILED, Some(""), 60),
        ];
        let rows = by_address(&entries);
        assert_eq!(
            rows,
            vec![
                IpAttempts { ip: "198.51.100.7".into(), attempts: 2, last_attempt: 30, last_success: None },
                IpAttempts { ip: "192.0.2.1".into(), attempts: 3, last_attempt: 20, last_success: Some(20) },
            ]
        );
    }

    #[test]
    fn keeps_the_most_recent_addresses_only() {
        let entries: Vec<LogEntry> =
            (0..150).map(|i| entry(SIGN_IN_FAILED, Some(&format!("10.0.{}.{}", i / 256, i % 256)), i)).collect();
        let rows = by_address(&entries);
        assert_eq!(rows.len(), MAX_ADDRESSES);
        assert_eq!(rows[0].ip, "10.0.0.149");
        assert_eq!(rows[MAX_ADDRESSES - 1].last_attempt, 50);
    }
}
