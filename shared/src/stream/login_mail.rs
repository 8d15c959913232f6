//! The new-login email (docs/login-emails.md): Rocket.Chat's "Login detected" mail, sent
//! from the table's stream once a session is written, never on the login's path. By default
//! only for a device and place the user has not signed in from within `NEW_DEVICE_DAYS`;
//! a flagged session is mailed whatever the rule. Once per session, however often the stream
//! delivers it.

use crate::App;
use crate::core::clock::iso_millis;
use crate::core::config::{Config, LoginEmails};
use crate::core::model::{Session, User};
use crate::core::preferences::Preferences;
use crate::core::sign_ins::SignIn;
use crate::core::travel::Risk;
use crate::mailer::Mailer;
use crate::store::{PreferenceStore, StoreError, UserStore};

/// Why a login is mailed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    EveryLogin,
    NewDevice,
    Flagged,
}

/// Whether `session` is mailed to `user`, given the user's recent sign-ins before it (`past`)
/// and its risk.
pub fn decide(
    config: &Config,
    user: &User,
    prefs: &Preferences,
    session: &Session,
    past: &[SignIn],
    risk: Option<&Risk>,
) -> Option<Why> {
    if config.login_emails == LoginEmails::Off || user.emails.is_empty() {
        return None;
    }
    if risk.is_some() {
        return Some(Why::Flagged);
    }
    if config.login_email_opt_out && !prefs.wants_login_emails() {
        return None;
    }
    match config.login_emails {
        LoginEmails::Every => Some(Why::EveryLogin),
        _ => (!seen_before(session, past, config.new_device_days * 86_400_000)).then_some(Why::NewDevice),
    }
}

/// Whether the user signed in from the same device and place within `window_ms` before.
fn seen_before(session: &Session, past: &[SignIn], window_ms: i64) -> bool {
    let now = SignIn::from(session);
    past.iter().any(|p| {
        p.at >= session.login_at - window_ms && p.at <= session.login_at && p.same_device(&now) && p.same_place(&now)
    })
}

/// The mail: what Rocket.Chat's carries (name, username, browser, OS, device, IP, date, user
/// agent) and the location; a flagged session says why.
pub fn compose(user: &User, session: &Session, risk: Option<&Risk>) -> (String, String) {
    let subject = match risk {
        Some(_) => "[Sessions API] - Suspicious login detected".to_string(),
        None => "[Sessions API] - Login Detected".to_string(),
    };
    let d = &session.device;
    let place = [&session.geo.city, &session.geo.region, &session.geo.country]
        .iter()
        .filter_map(|p| p.as_deref())
        .collect::<Vec<_>>()
        .join(", ");
    let mut body = format!(
        "Login detected\n\n{} ({}) logged in via\n\nClient: {} {}\nOS: {} {}\nDevice: {}\nIP: {}\nLocation: {}\nDate: {}\n\n{}\n",
        user.name.as_deref().unwrap_or(&user.username),
        user.username,
        d.name,
        d.version,
        d.os.name,
        d.os.version,
        if d.kind.is_empty() { "Unknown" } else { &d.kind },
        session.ip,
        if place.is_empty() { "Unknown" } else { &place },
        iso_millis(session.login_at),
        session.user_agent,
    );
    if let Some(r) = risk {
        body.push_str(&format!(
            "\nThis login is {} km from your previous one, which would take {} km/h: if it was not you, end the session and change your password.\n",
            r.distance_km, r.speed_kmh
        ));
    }
    (subject, body)
}

/// Mails `session`'s user if the rules say so. A user deleted meanwhile, or an address the
/// mailer refuses for good, is logged and passed over; a passing failure (throttling, a
/// timeout) gives the claim back and fails, so the stream tries the record again.
pub async fn on_sign_in(app: &App, session: &Session, past: &[SignIn], risk: Option<&Risk>) -> Result<(), StoreError> {
    let (user, prefs) = tokio::try_join!(app.store.user(&session.user_id), app.store.preferences(&session.user_id))?;
    let Some(user) = user else {
        tracing::info!(session_id = %session.session_id, "no login email: the user is gone");
        return Ok(());
    };
    let Some(why) = decide(&app.config, &user, &prefs.unwrap_or_default(), session, past, risk) else {
        return Ok(());
    };
    let now = crate::core::clock::now_ms();
    if !app.store.claim_login_mail(&user.user_id, &session.session_id, now / 1000).await? {
        return Ok(()); // Mailed on an earlier delivery.
    }
    let (subject, body) = compose(&user, session, risk);
    match app.mailer.send(&user.emails[0], &subject, &body, now).await {
        Ok(()) => {
            tracing::info!(session_id = %session.session_id, ?why, "login email sent");
            Ok(())
        }
        Err(e @ StoreError::Unavailable(_)) => {
            app.store.release_login_mail(&user.user_id, &session.session_id).await?;
            Err(e)
        }
        Err(e) => {
            tracing::warn!(error = %e, session_id = %session.session_id, "login email refused; not retried");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Device, Geo, Os, TwoFactor, UserRef};

    const DAY: i64 = 86_400_000;

    fn user() -> User {
        User {
            user_id: "u".into(),
            username: "ann".into(),
            name: Some("Ann".into()),
            emails: vec!["ann@example.com".into()],
            roles: vec![],
            password_bcrypt: None,
            active: true,
            two_factor: TwoFactor::default(),
        }
    }

    fn session(id: &str, at: i64, browser: &str, city: &str) -> Session {
        Session {
            session_id: id.into(),
            user_id: "u".into(),
            device: Device {
                kind: "browser".into(),
                name: browser.into(),
                os: Os { name: "Linux".into(), version: String::new() },
                ..Device::default()
            },
            host: String::new(),
            ip: "203.0.113.1".into(),
            user_agent: "ua".into(),
            login_at: at,
            last_activity_at: at,
            expires_at: 0,
            client_ids: vec![],
            geo: Geo { city: Some(city.into()), country: Some("FR".into()), ..Geo::default() },
            user: UserRef::default(),
            last_use: None,
            risk: None,
        }
    }

    fn risk() -> Risk {
        Risk { reason: "impossible_travel".into(), distance_km: 9000, speed_kmh: 9000, previous_session_id: "a".into() }
    }

    #[test]
    fn new_device_mode_mails_what_was_not_seen_lately() {
        let config = Config::default();
        let (u, p) = (user(), Preferences::default());
        let past = [SignIn::from(&session("a", 10 * DAY, "Firefox", "Paris"))];
        let decide = |s: &Session| decide(&config, &u, &p, s, &past, None);
        assert_eq!(decide(&session("n", 11 * DAY, "Firefox", "Paris")), None);
        assert_eq!(decide(&session("n", 11 * DAY, "Chrome", "Paris")), Some(Why::NewDevice));
        assert_eq!(decide(&session("n", 11 * DAY, "Firefox", "Lyon")), Some(Why::NewDevice));
        assert_eq!(decide(&session("n", 41 * DAY, "Firefox", "Paris")), Some(Why::NewDevice), "seen too long ago");
    }

    #[test]
    fn opt_out_off_every_and_flags() {
        let (mut config, u) = (Config::default(), user());
        let out = Preferences { receive_login_detection_email: Some(false) };
        let s = session("n", DAY, "Chrome", "Paris");
        assert_eq!(decide(&config, &u, &out, &s, &[], None), None);
        assert_eq!(decide(&config, &u, &out, &s, &[], Some(&risk())), Some(Why::Flagged));
        config.login_email_opt_out = false;
        assert_eq!(decide(&config, &u, &out, &s, &[], None), Some(Why::NewDevice));
        config.login_emails = LoginEmails::Every;
        let seen = [SignIn::from(&session("a", DAY - 1, "Chrome", "Paris"))];
        assert_eq!(decide(&config, &u, &Preferences::default(), &s, &seen, None), Some(Why::EveryLogin));
        config.login_emails = LoginEmails::Off;
        assert_eq!(decide(&config, &u, &Preferences::default(), &s, &[], Some(&risk())), None);
        let mut no_mail = user();
        no_mail.emails.clear();
        assert_eq!(decide(&Config::default(), &no_mail, &Preferences::default(), &s, &[], Some(&risk())), None);
    }
}
