//! Demo data: the users and sessions of the seeds (Rocket.Chat's documentation
//! examples), moved in time so they end an hour before seeding and stay live.
//!
//! Demo tokens are fixed so that events/ and the printed curl lines work against any
//! freshly seeded table. They are for local use only; never seed a real table.

use base64::Engine;
use sessions_api::Config;
use sessions_api::core::clock::{Millis, parse_iso};
use sessions_api::core::model::{Device, Geo, Os};
use sessions_api::store::{SessionCreator, UserStore};

use crate::CliError;
use crate::admin::{LoginSpec, NewUser, create_api_key, create_user, enable_totp, init_permissions, issue_login};
use crate::progress::ProgressBar;
use sessions_api::core::ids::sha256_hex;
use sessions_api::store::{ApiKeyStore, AuditLogStore, PermissionStore, PreferenceChange, PreferenceStore, UserAdmin};

/// Password of every demo user.
pub const DEMO_PASSWORD: &str = "demo-password";

/// A demo user and the sessions it has.
pub struct DemoUser {
    pub user_id: &'static str,
    pub username: &'static str,
    pub name: Option<&'static str>,
    pub roles: &'static [&'static str],
    pub sessions: &'static [DemoSession],
}

/// A demo session: id, device, address and the seed's login time.
pub struct DemoSession {
    pub session_id: &'static str,
    /// type, name, longVersion, version, os name, os version
    pub device: [&'static str; 6],
    pub ip: &'static str,
    pub login_at: &'static str,
    pub user_agent: &'static str,
    /// Applications the session signed in through (MonoCloud's client_ids).
    pub client_ids: &'static [&'static str],
    /// country, region, city, latitude, longitude
    pub geo: Option<[&'static str; 5]>,
}

/// The client id of docs/seeds/003's example request.
pub const SEED_CLIENT_ID: &str = "eCOGRJYpnNwwAAuCeReEW";
/// The demo API key for the MonoCloud routes (local use only).
pub const DEMO_API_KEY: &str = "sk_demo_local_only_Wq3vJ8rT5yN2kP7mZ4xB9cD6fG1hL0sA";

const CHROME_WIN: [&str; 6] = ["browser", "Chrome", "113.0.0.0", "113.0.0", "Windows", "10"];
const FIREFOX_WIN: [&str; 6] = ["browser", "Firefox", "112.0", "112.0", "Windows", "10"];
const UA_CHROME_WIN: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Safari/537.36";
const UA_FIREFOX_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/112.0";

const fn chrome(session_id: &'static str, ip: &'static str, login_at: &'static str) -> DemoSession {
    DemoSession { session_id, device: CHROME_WIN, ip, login_at, user_agent: UA_CHROME_WIN, client_ids: &[], geo: None }
}

const fn firefox(session_id: &'static str, ip: &'static str, login_at: &'static str) -> DemoSession {
    DemoSession {
        session_id,
        device: FIREFOX_WIN,
        ip,
        login_at,
        user_agent: UA_FIREFOX_WIN,
        client_ids: &[],
        geo: None,
    }
}

/// TOTP secret of the demo admin (RFC 4648 example text, local use only), so the local
/// run can print working codes.
pub const DEMO_ADMIN_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// The administrator of the demo workspace (the seeds' example X-User-Id).
pub const ADMIN_ID: &str = "CkCPNctrgCDfmWLqC";
/// The user of docs/seeds/001, whose own sessions the demo lists.
pub const TEST_USER_ID: &str = "rbAXPnMktTFbNpwtJ";

/// Every demo user, from docs/seeds/000–002.
pub const USERS: &[DemoUser] = &[
    DemoUser {
        user_id: ADMIN_ID,
        username: "admin",
        name: Some("Administrator"),
        roles: &["admin", "user"],
        sessions: &[DemoSession {
            session_id: "hM6bYJqLoXZ3rDe4C",
            device: ["browser", "Firefox", "113.0", "113.0", "Linux", "x86_64"],
            ip: "172.20.0.5",
            login_at: "2023-05-24T05:30:00.000Z",
            user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/113.0",
            client_ids: &[],
            geo: None,
        }],
    },
    DemoUser {
        user_id: TEST_USER_ID,
        username: "test.test",
        name: Some("test test"),
        roles: &["user"],
        sessions: &[
            DemoSession {
                client_ids: &[SEED_CLIENT_ID],
                geo: Some(["United States of America", "North America", "Los Angeles", "34.043238", "-118.250918"]),
                ..chrome("QoYYFw2t9oKks2niG", "172.20.0.2", "2023-05-23T16:33:45.202Z")
            },
            DemoSession {
                session_id: "WJ2giBwm4B9mcojFi",
                device: ["mobile", "Chrome", "112.0.0.0", "112.0.0", "Android", "10"],
                ip: "172.20.0.2",
                login_at: "2023-05-23T12:43:52.023Z",
                user_agent: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Mobile Safari/537.36",
                client_ids: &[SEED_CLIENT_ID, "rocketchat-mobile"],
                geo: None,
            },
            DemoSession {
                client_ids: &["rocketchat-web"],
                ..chrome("BdSrCZXNKCbRi8Eqn", "172.20.0.2", "2023-05-24T00:25:52.246Z")
            },
            DemoSession {
                session_id: "Xm4PqRt7sVw2yZa8B",
                device: ["desktop-app", "Rocket.Chat", "3.9.3", "3.9.3", "Mac OS", "10.15.7"],
                ip: "172.20.0.9",
                login_at: "2023-05-20T09:12:03.500Z",
                user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Rocket.Chat/3.9.3 Chrome/112.0.5615.165 Electron/24.3.0 Safari/537.36",
                client_ids: &[SEED_CLIENT_ID],
                geo: None,
            },
        ],
    },
    DemoUser {
        user_id: "2tTEqR7ZNMJ4HGGNa",
        username: "testroxie",
        name: Some("Test"),
        roles: &["admin", "user"],
        sessions: &[
            chrome("o94SveQp6fyPsoiNC", "172.20.0.2", "2023-05-24T00:25:54.234Z"),
            chrome("7ykYEK3KWnk4EeA7s", "172.20.0.2", "2023-05-23T19:14:28.717Z"),
        ],
    },
    DemoUser {
        user_id: "GonjPyg3gB3Z9ur9s",
        username: "test",
        name: Some("test"),
        roles: &["user"],
        sessions: &[chrome("tTouumJMrHMjnedWf", "172.20.0.2", "2023-05-23T19:14:29.865Z")],
    },
    DemoUser {
        user_id: "stjxrXYBWy3EcDugH",
        username: "rocket.agent",
        name: Some("Rocket Agent"),
        roles: &["user", "livechat-agent"],
        sessions: &[chrome("jfD6mnHnrEJdPq9MF", "172.20.0.2", "2023-05-23T15:21:57.188Z")],
    },
    DemoUser {
        user_id: "rYhzFRd2QZjNwAAXX",
        username: "rodriq",
        name: Some("Rodriq"),
        roles: &["user"],
        sessions: &[
            chrome("2jQnfG74X3EZYL9tj", "172.20.0.2", "2023-05-23T15:19:48.723Z"),
            chrome("uBNL9dTjJ4s6Pjp4K", "172.20.0.2", "2023-05-24T05:08:42.806Z"),
        ],
    },
    DemoUser {
        user_id: "uZ5JvvioeHK8Coyqe",
        username: "user-0",
        name: None,
        roles: &["user"],
        sessions: &[firefox("fsfE772s78AmPxGKk", "172.18.0.4", "2023-05-16T20:50:33.608Z")],
    },
    DemoUser {
        user_id: "b66oZ8i9pkeSko33v",
        username: "guester",
        name: Some("Guester"),
        roles: &["user"],
        sessions: &[chrome("W4y9xkjyqFvbjENco", "172.18.0.4", "2023-05-16T12:46:09.469Z")],
    },
    DemoUser {
        user_id: "aspKK7FHe7iQgzexX",
        username: "user-00",
        name: Some("User 00"),
        roles: &["user"],
        sessions: &[firefox("94yTWFkADGBvE9t7P", "172.18.0.4", "2023-05-11T18:47:13.865Z")],
    },
];

/// The fixed demo token of a demo session: 43 URL-safe characters derived from its id.
pub fn demo_token(session_id: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("sessions-api demo token {session_id}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// The newest login time in the seeds; it lands one hour before seeding.
fn newest_seed_login() -> Millis {
    USERS.iter().flat_map(|u| u.sessions).filter_map(|s| parse_iso(s.login_at)).max().unwrap_or(0)
}

/// Where a seed login time lands when seeding at `now`.
pub fn shifted(login_at: &str, now: Millis) -> Millis {
    let shift = now - 3_600_000 - newest_seed_login();
    parse_iso(login_at).unwrap_or(0) + shift
}

/// The DynamoDB endpoint the environment points the SDK at, if it is on this machine:
/// demo data has fixed passwords, tokens and an API key, so it is never seeded into a
/// table anyone else can reach. `lookup` reads the environment (a map in tests).
pub fn local_endpoint(lookup: impl Fn(&str) -> Option<String>) -> Result<String, CliError> {
    let endpoint = lookup("AWS_ENDPOINT_URL_DYNAMODB")
        .or_else(|| lookup("AWS_ENDPOINT_URL"))
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| {
            CliError::Usage(
                "seed-demo writes known passwords and keys: it needs AWS_ENDPOINT_URL pointing at a local DynamoDB"
                    .into(),
            )
        })?;
    let host =
        endpoint.parse::<http::Uri>().ok().and_then(|u| u.host().map(|h| h.trim_matches(['[', ']']).to_string()));
    let local = host.as_deref().is_some_and(|h| {
        h.eq_ignore_ascii_case("localhost") || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    });
    if !local {
        return Err(CliError::Usage(format!(
            "seed-demo writes known passwords and keys: refused for {endpoint}, which is not a local endpoint"
        )));
    }
    Ok(endpoint)
}

impl DemoSession {
    /// What `issue_login` records for this session: its device, address, client ids and
    /// location, the seed's login time shifted to `now`, and its fixed id and token.
    fn login_spec(&self, now: Millis) -> LoginSpec {
        let [kind, name, long_version, version, os, os_version] = self.device;
        LoginSpec {
            device: Device {
                kind: kind.into(),
                name: name.into(),
                long_version: long_version.into(),
                os: Os { name: os.into(), version: os_version.into() },
                version: version.into(),
            },
            ip: self.ip.into(),
            host: "localhost:3000".into(),
            user_agent: self.user_agent.into(),
            login_at: Some(shifted(self.login_at, now)),
            session_id: Some(self.session_id.into()),
            token: Some(demo_token(self.session_id)),
            client_ids: self.client_ids.iter().map(|c| c.to_string()).collect(),
            geo: self
                .geo
                .map(|[country, region, city, lat, lon]| Geo {
                    country: Some(country.into()),
                    region: Some(region.into()),
                    city: Some(city.into()),
                    latitude: Some(lat.into()),
                    longitude: Some(lon.into()),
                })
                .unwrap_or_default(),
        }
    }
}

/// Creates every demo user and session, the admin's TOTP, and the default permissions.
/// testroxie is an admin without 2FA: its step-up method is the password (docs/seeds/000). Fails on a table that already holds them.
/// `progress` counts users and sessions written (`ProgressBar::hidden()` for none).
pub async fn seed<
    S: UserStore + SessionCreator + UserAdmin + PermissionStore + ApiKeyStore + AuditLogStore + PreferenceStore,
>(
    store: &S,
    config: &Config,
    now: Millis,
    progress: &ProgressBar,
) -> Result<usize, CliError> {
    progress.set_length((USERS.len() + USERS.iter().map(|u| u.sessions.len()).sum::<usize>()) as u64);
    init_permissions(store).await?;
    let mut sessions = 0;
    for u in USERS {
        progress.set_message(u.username);
        let user = create_user(
            store,
            config,
            NewUser {
                user_id: Some(u.user_id.into()),
                username: u.username.into(),
                name: u.name.map(Into::into),
                emails: vec![format!("{}@example.com", u.username)],
                roles: u.roles.iter().map(|r| r.to_string()).collect(),
                password: Some(DEMO_PASSWORD.into()),
            },
        )
        .await?;
        progress.inc(1);
        for s in u.sessions {
            let spec = s.login_spec(now);
            let issued = issue_login(store, config, &user, spec).await?;
            // Its sign-in in the audit log, as the stream consumer would have written it.
            let id = sha256_hex(&issued.session.session_id).chars().take(24).collect();
            store.put_log(&sessions_api::core::audit::signed_in(id, &issued.session)).await?;
            progress.inc(1);
            sessions += 1;
        }
    }
    enable_totp(store, ADMIN_ID, Some(DEMO_ADMIN_TOTP_SECRET)).await?;
    // test.test has saved its preferences (users.getPreferences shows them).
    let wants = PreferenceChange { receive_login_detection_email: Some(Some(true)) };
    store.set_preferences(TEST_USER_ID, &wants).await?;
    create_api_key(store, "demo back-end", Some(DEMO_API_KEY), None, now).await?;
    Ok(sessions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_tokens_look_like_real_ones() {
        let t = demo_token("QoYYFw2t9oKks2niG");
        assert_eq!(t.len(), sessions_api::core::ids::TOKEN_LEN);
        assert_ne!(t, demo_token("WJ2giBwm4B9mcojFi"));
    }

    #[test]
    fn shifting_keeps_order_and_lands_in_the_past() {
        let now = 1_800_000_000_000;
        let newest = shifted("2023-05-24T05:30:00.000Z", now);
        assert_eq!(newest, now - 3_600_000);
        assert!(shifted("2023-05-11T18:47:13.865Z", now) < newest);
    }

    #[test]
    fn ids_and_usernames_are_unique() {
        let mut ids: Vec<_> = USERS.iter().flat_map(|u| u.sessions).map(|s| s.session_id).collect();
        ids.extend(USERS.iter().map(|u| u.user_id));
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
        let mut names: Vec<_> = USERS.iter().map(|u| u.username).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), USERS.len());
    }
}

#[cfg(test)]
mod endpoint_tests {
    use super::local_endpoint;

    fn check(vars: &[(&str, &str)]) -> Result<String, String> {
        local_endpoint(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).map_err(|e| e.to_string())
    }

    #[test]
    fn seeding_is_only_for_loopback_endpoints() {
        for ok in ["http://127.0.0.1:8000", "http://localhost:4566/", "http://[::1]:8000", "http://127.9.9.9"] {
            assert_eq!(check(&[("AWS_ENDPOINT_URL", ok)]), Ok(ok.to_string()));
        }
        assert!(check(&[]).unwrap_err().contains("needs AWS_ENDPOINT_URL"));
        for far in [
            "https://dynamodb.eu-west-1.amazonaws.com",
            "http://10.0.0.5:8000",
            "http://localhost.example.com",
            "not a url",
        ] {
            assert!(check(&[("AWS_ENDPOINT_URL", far)]).unwrap_err().contains("refused"), "{far}");
        }
        // The service's own variable wins, as it does for the SDK.
        let both = [
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:8000"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "https://dynamodb.us-east-1.amazonaws.com"),
        ];
        assert!(check(&both).is_err());
    }
}
