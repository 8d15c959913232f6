//! What an API key may do (docs/monocloud.md#scopes). A key created before scopes existed has
//! none recorded and keeps full access until an operator sets them.

/// One thing an API key may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// List and get a user's sessions.
    ReadSessions,
    /// Revoke a session, or all of a user's.
    RevokeSessions,
    /// Disable and enable users.
    ManageUsers,
    /// Read the audit log.
    ReadLogs,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::ReadSessions, Scope::RevokeSessions, Scope::ManageUsers, Scope::ReadLogs];

    /// The scope's name, as stored and as the admin tool takes it.
    pub fn name(self) -> &'static str {
        match self {
            Scope::ReadSessions => "sessions:read",
            Scope::RevokeSessions => "sessions:revoke",
            Scope::ManageUsers => "users:manage",
            Scope::ReadLogs => "logs:read",
        }
    }

    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A key's scopes: `None` (recorded before scopes existed) allows everything.
pub fn allows(scopes: Option<&[Scope]>, scope: Scope) -> bool {
    scopes.is_none_or(|granted| granted.contains(&scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_none() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.name()), Some(s));
        }
        assert_eq!(Scope::parse("sessions:write"), None);
    }

    #[test]
    fn a_key_without_recorded_scopes_keeps_full_access() {
        assert!(Scope::ALL.into_iter().all(|s| allows(None, s)));
        let read_only = [Scope::ReadSessions];
        assert!(allows(Some(&read_only), Scope::ReadSessions));
        assert!(!allows(Some(&read_only), Scope::RevokeSessions));
        assert!(!allows(Some(&[]), Scope::ReadLogs));
    }
}
