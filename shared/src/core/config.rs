//! Configuration from environment variables, read once per process.

use std::fmt;

/// Everything a function needs to know that is not in the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// DynamoDB table holding every item (`SESSIONS_TABLE`).
    pub table_name: String,
    /// Lifetime of a login token and its session, in seconds (`TOKEN_LIFETIME_DAYS`).
    pub token_lifetime_secs: i64,
    /// Rows per list page when `count` is absent (`LIST_COUNT_DEFAULT`).
    pub list_count_default: usize,
    /// Largest `count` honoured; larger values are clamped (`LIST_COUNT_MAX`).
    pub list_count_max: usize,
    /// Largest `offset` a list accepts; larger is a 400 (`LIST_OFFSET_MAX`).
    pub list_offset_max: usize,
    /// Most sessions a filtered or multi-key list.all holds in memory (`LIST_SCAN_MAX_ROWS`);
    /// about 0.8 KB each, so the default fits a 256 MB function. Also the most expired rows an
    /// unfiltered one reads past.
    pub list_scan_max_rows: usize,
    /// Time a list.all may spend reading (`LIST_SCAN_BUDGET_MS`).
    pub list_scan_budget_ms: u64,
    /// How long a token stays trusted after a 2FA success (`TWO_FACTOR_REMEMBER_MINUTES`).
    pub two_factor_remember_secs: i64,
    /// bcrypt cost for new password hashes (`BCRYPT_COST`).
    pub bcrypt_cost: u32,
    /// Live sessions a user may have; a login past it ends the oldest (`MAX_SESSIONS_PER_USER`).
    pub max_sessions_per_user: usize,
    /// Failed logins per account before it is blocked; 0 disables (`LOGIN_FAILURES_PER_USER`).
    pub login_failures_per_user: u32,
    /// Failed logins per source address before it is blocked; 0 disables (`LOGIN_FAILURES_PER_IP`).
    pub login_failures_per_ip: u32,
    /// How long an account stays blocked after its last failure (`LOGIN_BLOCK_MINUTES_BY_USER`,
    /// else `LOGIN_BLOCK_MINUTES`): Rocket.Chat's `..._Time_To_Unblock_By_User_In_Minutes`.
    pub login_block_user_ms: i64,
    /// The same for a source address (`LOGIN_BLOCK_MINUTES_BY_IP`, else `LOGIN_BLOCK_MINUTES`).
    pub login_block_ip_ms: i64,
    /// Wrong 2FA codes per user before `totp-max-attempts` (`TWO_FACTOR_MAX_FAILURES`).
    pub two_factor_max_failures: u32,
    /// Window in which wrong 2FA codes count, and so the longest wait
    /// (`TWO_FACTOR_FAILURE_WINDOW_MINUTES`).
    pub two_factor_failure_window_ms: i64,
    /// Shards of the active-session counter; only ever raise it, as reads sum shards
    /// below it (`SESSION_COUNTER_SHARDS`, 1–99).
    pub counter_shards: u32,
    /// Partitions the order indexes are spread over, so no one partition takes every
    /// session write; only ever raise it (`ORDER_INDEX_SHARDS`, 1–64).
    pub order_shards: u32,
    /// Least time between two activity writes of one session (`ACTIVITY_INTERVAL_SECONDS`).
    pub activity_interval_ms: i64,
    /// A session unused for longer answers 401 and is ended (`IDLE_TIMEOUT_MINUTES`;
    /// `None`, the default, as in Rocket.Chat: no idle timeout).
    pub idle_timeout_ms: Option<i64>,
    /// Folder of the IP-geolocation database (`GEO_DB_DIR`; core::geo); unset: no location.
    pub geo_db_dir: Option<String>,
    /// The headers the Lambda authorizer reads the user id and token from, lowercase
    /// (`AUTHORIZER_USER_ID_HEADER`, `AUTHORIZER_TOKEN_HEADER`; Rocket.Chat's by default).
    pub authorizer_user_id_header: String,
    pub authorizer_token_header: String,
    /// Where 2FA email goes (`MAILER`).
    pub mailer: MailerKind,
    /// Sender address for SES (`MAIL_FROM`; required with `MAILER=ses`).
    pub mail_from: Option<String>,
    /// Record CloudFront's viewer location headers on new sessions (`TRUST_CLOUDFRONT_GEO`).
    /// Only true behind CloudFront: anywhere else a client can send those headers itself.
    pub trust_cloudfront_geo: bool,
    /// The value CloudFront adds as `X-Origin-Verify` when the template's front is on
    /// (`ORIGIN_VERIFY_SECRET`): requests without it are refused, so nobody goes around
    /// CloudFront. Unset: no check.
    pub origin_verify: OriginSecret,
    /// Days an ended session's history record is kept (`HISTORY_DAYS`, 1–3 650).
    pub history_days: i64,
    /// The EventBridge bus the stream consumer publishes to (`EVENT_BUS_NAME`); unset: the
    /// events go to the log.
    pub event_bus: Option<String>,
    /// Impossible travel: faster than this between two sessions' places (`TRAVEL_MAX_SPEED_KMH`)…
    pub travel_max_speed_kmh: i64,
    /// …over more than this distance (`TRAVEL_MIN_DISTANCE_KM`) flags the newer session.
    pub travel_min_distance_km: i64,
    /// New-login emails (`LOGIN_EMAILS`): off, on every login, or (the default) for a device
    /// and place not seen for the user in `new_device_days` (docs/login-emails.md).
    pub login_emails: LoginEmails,
    /// Whether users may turn them off with `receiveLoginDetectionEmail` (`LOGIN_EMAIL_OPT_OUT`;
    /// Rocket.Chat's Device_Management_Allow_Login_Email_preference).
    pub login_email_opt_out: bool,
    /// How far back a device and place count as known (`NEW_DEVICE_DAYS`).
    pub new_device_days: i64,
}

/// One failed-login limit: at most `max` failures (0: no limit), each keeping the count
/// alive for `block_ms` after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginLimit {
    pub max: u32,
    pub block_ms: i64,
}

/// When a login is mailed to its user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginEmails {
    Off,
    Every,
    NewDevice,
}

/// How email codes are delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailerKind {
    /// To the log and the table's outbox (local runs and tests).
    Outbox,
    /// Through Amazon SES.
    Ses,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            table_name: "sessions-api".into(),
            token_lifetime_secs: 90 * 86_400,
            list_count_default: 50,
            list_count_max: 100,
            list_offset_max: 10_000_000,
            list_scan_max_rows: 150_000,
            list_scan_budget_ms: 6_000,
            two_factor_remember_secs: 30 * 60,
            bcrypt_cost: 10,
            max_sessions_per_user: 100,
            login_failures_per_user: 10,
            login_failures_per_ip: 50,
            login_block_user_ms: 5 * 60 * 1000,
            login_block_ip_ms: 5 * 60 * 1000,
            two_factor_max_failures: 5,
            two_factor_failure_window_ms: 15 * 60 * 1000,
            counter_shards: 8,
            order_shards: 8,
            activity_interval_ms: 300_000,
            idle_timeout_ms: None,
            geo_db_dir: None,
            authorizer_user_id_header: "x-user-id".into(),
            authorizer_token_header: "x-auth-token".into(),
            mailer: MailerKind::Outbox,
            mail_from: None,
            trust_cloudfront_geo: false,
            origin_verify: OriginSecret::default(),
            history_days: 90,
            event_bus: None,
            travel_max_speed_kmh: 900,
            travel_min_distance_km: 50,
            login_emails: LoginEmails::NewDevice,
            login_email_opt_out: true,
            new_device_days: 30,
        }
    }
}

/// A variable that is set but cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The failed-login limit per account.
    pub fn login_limit_user(&self) -> LoginLimit {
        LoginLimit { max: self.login_failures_per_user, block_ms: self.login_block_user_ms }
    }

    /// The failed-login limit per source address.
    pub fn login_limit_ip(&self) -> LoginLimit {
        LoginLimit { max: self.login_failures_per_ip, block_ms: self.login_block_ip_ms }
    }

    /// Reads the process environment; unset variables take their defaults.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable source (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = Config::default();
        config.table_name = match lookup("SESSIONS_TABLE") {
            Some(v) if v.trim().is_empty() => return Err(err("SESSIONS_TABLE", "must not be empty")),
            Some(v) => v,
            None => config.table_name,
        };
        config.read_lists(&lookup)?;
        config.read_sign_in(&lookup)?;
        config.read_limits(&lookup)?;
        config.read_activity(&lookup)?;
        config.read_delivery(&lookup)?;
        Ok(config)
    }

    /// List paging and the bounds of a full read; the order and counter shards.
    fn read_lists(&mut self, lookup: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let count_max = number(lookup, "LIST_COUNT_MAX", 1, 10_000, self.list_count_max as i64)?;
        self.list_count_default =
            number(lookup, "LIST_COUNT_DEFAULT", 0, count_max, self.list_count_default as i64)? as usize;
        self.list_count_max = count_max as usize;
        self.list_offset_max = number(lookup, "LIST_OFFSET_MAX", 0, 100_000_000, self.list_offset_max as i64)? as usize;
        self.list_scan_max_rows =
            number(lookup, "LIST_SCAN_MAX_ROWS", 1, 10_000_000, self.list_scan_max_rows as i64)? as usize;
        self.list_scan_budget_ms =
            number(lookup, "LIST_SCAN_BUDGET_MS", 1, 600_000, self.list_scan_budget_ms as i64)? as u64;
        self.counter_shards = number(lookup, "SESSION_COUNTER_SHARDS", 1, 99, self.counter_shards as i64)? as u32;
        self.order_shards = number(lookup, "ORDER_INDEX_SHARDS", 1, 64, self.order_shards as i64)? as u32;
        Ok(())
    }

    /// Tokens, passwords and sessions per user.
    fn read_sign_in(&mut self, lookup: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        self.token_lifetime_secs = number(lookup, "TOKEN_LIFETIME_DAYS", 1, 3650, 90)? * 86_400;
        self.two_factor_remember_secs = number(lookup, "TWO_FACTOR_REMEMBER_MINUTES", 0, 24 * 60, 30)? * 60;
        self.bcrypt_cost = number(lookup, "BCRYPT_COST", 4, 31, self.bcrypt_cost as i64)? as u32;
        self.max_sessions_per_user =
            number(lookup, "MAX_SESSIONS_PER_USER", 1, 10_000, self.max_sessions_per_user as i64)? as usize;
        Ok(())
    }

    /// The failed-login limits and the wrong-2FA-code limit, with the same bounds: a count
    /// per window, and a window of 1 minute to a day. A 2FA limit of 0 would refuse every
    /// code, so it starts at 1; the login limits take 0 to disable.
    fn read_limits(&mut self, lookup: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let minutes = |ms: i64| ms / 60_000;
        self.login_failures_per_user =
            number(lookup, "LOGIN_FAILURES_PER_USER", 0, 10_000, self.login_failures_per_user as i64)? as u32;
        self.login_failures_per_ip =
            number(lookup, "LOGIN_FAILURES_PER_IP", 0, 1_000_000, self.login_failures_per_ip as i64)? as u32;
        let both = number(lookup, "LOGIN_BLOCK_MINUTES", 1, 24 * 60, minutes(self.login_block_user_ms))?;
        self.login_block_user_ms = number(lookup, "LOGIN_BLOCK_MINUTES_BY_USER", 1, 24 * 60, both)? * 60_000;
        self.login_block_ip_ms = number(lookup, "LOGIN_BLOCK_MINUTES_BY_IP", 1, 24 * 60, both)? * 60_000;
        self.two_factor_max_failures =
            number(lookup, "TWO_FACTOR_MAX_FAILURES", 1, 10_000, self.two_factor_max_failures as i64)? as u32;
        let window = minutes(self.two_factor_failure_window_ms);
        self.two_factor_failure_window_ms =
            number(lookup, "TWO_FACTOR_FAILURE_WINDOW_MINUTES", 1, 24 * 60, window)? * 60_000;
        Ok(())
    }

    /// Activity recording, the optional idle timeout (longer than the interval, or idleness
    /// could not be seen), and the geolocation database.
    fn read_activity(&mut self, lookup: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        self.activity_interval_ms = number(lookup, "ACTIVITY_INTERVAL_SECONDS", 1, 86_400, 300)? * 1000;
        let idle = number(lookup, "IDLE_TIMEOUT_MINUTES", 0, 525_600, 0)? * 60_000;
        if idle > 0 && idle <= self.activity_interval_ms {
            return Err(err("IDLE_TIMEOUT_MINUTES", "must be longer than ACTIVITY_INTERVAL_SECONDS, or 0 (off)"));
        }
        self.idle_timeout_ms = (idle > 0).then_some(idle);
        self.history_days = number(lookup, "HISTORY_DAYS", 1, 3650, self.history_days)?;
        self.travel_max_speed_kmh = number(lookup, "TRAVEL_MAX_SPEED_KMH", 1, 100_000, self.travel_max_speed_kmh)?;
        self.travel_min_distance_km = number(lookup, "TRAVEL_MIN_DISTANCE_KM", 0, 20_000, self.travel_min_distance_km)?;
        self.geo_db_dir = lookup("GEO_DB_DIR").filter(|v| !v.trim().is_empty());
        if let Some(name) = header_name(lookup, "AUTHORIZER_USER_ID_HEADER")? {
            self.authorizer_user_id_header = name;
        }
        if let Some(name) = header_name(lookup, "AUTHORIZER_TOKEN_HEADER")? {
            self.authorizer_token_header = name;
        }
        Ok(())
    }

    /// Where mail goes, and whether CloudFront's location headers are trusted.
    fn read_delivery(&mut self, lookup: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        self.mailer = match lookup("MAILER").as_deref().map(str::trim) {
            None | Some("") | Some("outbox") => MailerKind::Outbox,
            Some("ses") => MailerKind::Ses,
            Some(other) => return Err(err("MAILER", format!("{other:?} is neither \"outbox\" nor \"ses\""))),
        };
        self.mail_from = lookup("MAIL_FROM").filter(|v| !v.trim().is_empty());
        self.event_bus = lookup("EVENT_BUS_NAME").map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        if self.mailer == MailerKind::Ses && self.mail_from.is_none() {
            return Err(err("MAIL_FROM", "must be set to a verified sender when MAILER=ses"));
        }
        self.login_emails = match lookup("LOGIN_EMAILS").as_deref().map(str::trim) {
            None | Some("") | Some("new_device") => LoginEmails::NewDevice,
            Some("every") => LoginEmails::Every,
            Some("off") => LoginEmails::Off,
            Some(other) => return Err(err("LOGIN_EMAILS", format!("{other:?} is not off, every or new_device"))),
        };
        self.login_email_opt_out = flag(lookup, "LOGIN_EMAIL_OPT_OUT", true)?;
        self.new_device_days = number(lookup, "NEW_DEVICE_DAYS", 1, 365, self.new_device_days)?;
        self.trust_cloudfront_geo = flag(lookup, "TRUST_CLOUDFRONT_GEO", false)?;
        self.origin_verify = match lookup("ORIGIN_VERIFY_SECRET").map(|v| v.trim().to_string()) {
            None => OriginSecret::default(),
            Some(v) if v.is_empty() => OriginSecret::default(),
            Some(v) if v.len() < 32 || v.len() > 256 || !v.bytes().all(|b| b.is_ascii_graphic()) => {
                return Err(err("ORIGIN_VERIFY_SECRET", "must be 32 to 256 visible ASCII characters"));
            }
            Some(v) => OriginSecret(Some(v)),
        };
        Ok(())
    }
}

/// The origin-verify secret (`ORIGIN_VERIFY_SECRET`); its Debug never shows the value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct OriginSecret(Option<String>);

impl std::fmt::Debug for OriginSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "OriginSecret(set)" } else { "OriginSecret(unset)" })
    }
}

impl OriginSecret {
    /// A secret set (tests, tools); `ORIGIN_VERIFY_SECRET` is checked when read from the environment.
    pub fn of(secret: impl Into<String>) -> Self {
        OriginSecret(Some(secret.into()))
    }

    /// Whether a request whose `X-Origin-Verify` is `header` may pass: always when no secret
    /// is set; otherwise only with the secret, compared in constant time.
    pub fn admits(&self, header: Option<&str>) -> bool {
        use subtle::ConstantTimeEq;
        match &self.0 {
            None => true,
            Some(secret) => header.is_some_and(|h| bool::from(h.as_bytes().ct_eq(secret.as_bytes()))),
        }
    }
}

/// A header name, lowercased: letters, digits and `-` only (API Gateway lowercases the
/// headers it passes an authorizer).
fn header_name(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<String>, ConfigError> {
    let Some(raw) = lookup(variable).filter(|v| !v.trim().is_empty()) else { return Ok(None) };
    let name = raw.trim().to_ascii_lowercase();
    if name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(err(variable, format!("{raw:?} is not a header name")));
    }
    Ok(Some(name))
}

/// A `true`/`false` variable.
fn flag(lookup: &impl Fn(&str) -> Option<String>, variable: &'static str, default: bool) -> Result<bool, ConfigError> {
    match lookup(variable).as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(err(variable, format!("{other:?} is neither \"true\" nor \"false\""))),
    }
}

fn err(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { variable, reason: reason.into() }
}

fn number(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    min: i64,
    max: i64,
    default: i64,
) -> Result<i64, ConfigError> {
    let Some(raw) = lookup(variable) else { return Ok(default) };
    let value: i64 = raw.trim().parse().map_err(|_| err(variable, format!("{raw:?} is not a whole number")))?;
    if !(min..=max).contains(&value) {
        return Err(err(variable, format!("{value} is outside {min}..={max}")));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_secret_is_checked_in_constant_time_and_never_shown() {
        let secret = "s".repeat(40);
        let config = from(&[("ORIGIN_VERIFY_SECRET", secret.as_str())]).unwrap();
        assert!(config.origin_verify.admits(Some(&secret)));
        assert!(!config.origin_verify.admits(Some("wrong")) && !config.origin_verify.admits(None));
        assert!(!format!("{config:?}").contains(&secret));
        assert!(Config::default().origin_verify.admits(None));
        for bad in ["short", "has space in it but is long enough to pass......"] {
            assert_eq!(from(&[("ORIGIN_VERIFY_SECRET", bad)]).unwrap_err().variable, "ORIGIN_VERIFY_SECRET");
        }
    }
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        assert_eq!(from(&[]).unwrap(), Config::default());
    }

    #[test]
    fn reads_every_variable() {
        let c = from(&[
            ("SESSIONS_TABLE", "t1"),
            ("TOKEN_LIFETIME_DAYS", "7"),
            ("LIST_COUNT_MAX", "20"),
            ("LIST_COUNT_DEFAULT", "5"),
            ("TWO_FACTOR_REMEMBER_MINUTES", "10"),
            ("BCRYPT_COST", "4"),
            ("LOGIN_FAILURES_PER_USER", "0"),
            ("LOGIN_FAILURES_PER_IP", "7"),
            ("LOGIN_BLOCK_MINUTES", "2"),
            ("LOGIN_BLOCK_MINUTES_BY_IP", "3"),
            ("TWO_FACTOR_MAX_FAILURES", "3"),
            ("TWO_FACTOR_FAILURE_WINDOW_MINUTES", "20"),
            ("ACTIVITY_INTERVAL_SECONDS", "60"),
            ("IDLE_TIMEOUT_MINUTES", "30"),
            ("GEO_DB_DIR", "/opt/geo"),
            ("HISTORY_DAYS", "30"),
            ("LOGIN_EMAILS", "every"),
            ("LOGIN_EMAIL_OPT_OUT", "false"),
            ("NEW_DEVICE_DAYS", "7"),
            ("TRAVEL_MAX_SPEED_KMH", "500"),
            ("TRAVEL_MIN_DISTANCE_KM", "100"),
            ("EVENT_BUS_NAME", "sessions-events"),
            ("AUTHORIZER_USER_ID_HEADER", "X-Service-User"),
            ("AUTHORIZER_TOKEN_HEADER", "X-Service-Token"),
        ])
        .unwrap();
        assert_eq!(c.table_name, "t1");
        assert_eq!(c.token_lifetime_secs, 7 * 86_400);
        assert_eq!((c.list_count_default, c.list_count_max), (5, 20));
        assert_eq!(c.two_factor_remember_secs, 600);
        assert_eq!(c.bcrypt_cost, 4);
        assert_eq!((c.login_failures_per_user, c.login_failures_per_ip), (0, 7));
        assert_eq!((c.login_block_user_ms, c.login_block_ip_ms), (120_000, 180_000));
        assert_eq!((c.two_factor_max_failures, c.two_factor_failure_window_ms), (3, 20 * 60_000));
        assert_eq!((c.activity_interval_ms, c.idle_timeout_ms), (60_000, Some(30 * 60_000)));
        assert_eq!(c.geo_db_dir.as_deref(), Some("/opt/geo"));
        assert_eq!(c.history_days, 30);
        assert_eq!((c.login_emails, c.login_email_opt_out, c.new_device_days), (LoginEmails::Every, false, 7));
        assert_eq!((c.travel_max_speed_kmh, c.travel_min_distance_km), (500, 100));
        assert_eq!(c.event_bus.as_deref(), Some("sessions-events"));
        assert_eq!(
            (c.authorizer_user_id_header.as_str(), c.authorizer_token_header.as_str()),
            ("x-service-user", "x-service-token")
        );
    }

    #[test]
    fn rejects_bad_values_naming_the_variable() {
        assert_eq!(from(&[("TOKEN_LIFETIME_DAYS", "x")]).unwrap_err().variable, "TOKEN_LIFETIME_DAYS");
        assert_eq!(from(&[("LIST_COUNT_MAX", "0")]).unwrap_err().variable, "LIST_COUNT_MAX");
        let e = from(&[("LIST_COUNT_MAX", "10"), ("LIST_COUNT_DEFAULT", "11")]).unwrap_err();
        assert_eq!(e.variable, "LIST_COUNT_DEFAULT");
        assert_eq!(from(&[("SESSIONS_TABLE", " ")]).unwrap_err().variable, "SESSIONS_TABLE");
        assert_eq!(from(&[("LOGIN_BLOCK_MINUTES", "0")]).unwrap_err().variable, "LOGIN_BLOCK_MINUTES");
        assert_eq!(from(&[("LOGIN_FAILURES_PER_IP", "-1")]).unwrap_err().variable, "LOGIN_FAILURES_PER_IP");
        assert_eq!(from(&[("MAILER", "smtp")]).unwrap_err().variable, "MAILER");
        for (variable, bad) in [
            ("TWO_FACTOR_MAX_FAILURES", "0"),
            ("TWO_FACTOR_MAX_FAILURES", "10001"),
            ("TWO_FACTOR_MAX_FAILURES", "five"),
            ("TWO_FACTOR_FAILURE_WINDOW_MINUTES", "0"),
            ("TWO_FACTOR_FAILURE_WINDOW_MINUTES", "1441"),
            ("ACTIVITY_INTERVAL_SECONDS", "0"),
            ("IDLE_TIMEOUT_MINUTES", "-1"),
            ("IDLE_TIMEOUT_MINUTES", "5"),
            ("HISTORY_DAYS", "0"),
            ("LOGIN_EMAILS", "sometimes"),
            ("LOGIN_EMAIL_OPT_OUT", "yes"),
            ("NEW_DEVICE_DAYS", "0"),
            ("TRAVEL_MAX_SPEED_KMH", "0"),
            ("TRAVEL_MIN_DISTANCE_KM", "-1"),
            ("AUTHORIZER_TOKEN_HEADER", "X Token"),
            ("AUTHORIZER_USER_ID_HEADER", "x-user:id"),
        ] {
            assert_eq!(from(&[(variable, bad)]).unwrap_err().variable, variable, "{variable}={bad}");
        }
        assert_eq!(from(&[("SESSION_COUNTER_SHARDS", "100")]).unwrap_err().variable, "SESSION_COUNTER_SHARDS");
        assert_eq!(from(&[("MAILER", "ses")]).unwrap_err().variable, "MAIL_FROM");
        assert_eq!(from(&[("TRUST_CLOUDFRONT_GEO", "yes")]).unwrap_err().variable, "TRUST_CLOUDFRONT_GEO");
        assert!(from(&[("TRUST_CLOUDFRONT_GEO", "true")]).unwrap().trust_cloudfront_geo);
        assert!(!from(&[("TRUST_CLOUDFRONT_GEO", "false")]).unwrap().trust_cloudfront_geo);
        let ses = from(&[("MAILER", "ses"), ("MAIL_FROM", "no-reply@example.com")]).unwrap();
        assert_eq!((ses.mailer, ses.mail_from.as_deref()), (MailerKind::Ses, Some("no-reply@example.com")));
    }
}
