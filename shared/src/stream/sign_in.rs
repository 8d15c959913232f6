//! What a new session sets off once it is written: its sign-in in the audit log, the
//! impossible-travel check against the user's previous sessions (docs/risk.md), and the
//! new-login email (docs/login-emails.md). Never on the login's path.

use crate::App;
use crate::core::audit;
use crate::core::model::Session;
use crate::core::travel::{self, TravelPolicy};
use crate::store::{AuditLogStore, StoreError, UserSessionReader};

use super::events::{self, Event};

/// The user's other sessions, live or ended (with their details), newest first.
pub async fn past_sessions(app: &App, session: &Session) -> Result<Vec<Session>, StoreError> {
    let (live, ended) =
        tokio::try_join!(app.store.user_sessions(&session.user_id), app.store.user_ended_sessions(&session.user_id))?;
    let mut past: Vec<Session> = live
        .into_iter()
        .chain(ended.into_iter().filter_map(|e| e.session))
        .filter(|s| s.session_id != session.session_id)
        .collect();
    past.sort_by_key(|s| std::cmp::Reverse(s.login_at));
    Ok(past)
}

/// A new session: its audit entry, its risk (flagged on the session, `Session Flagged`), and
/// its events. `log_id` names its audit entry (the same on every delivery).
pub async fn on_session_created(
    app: &App,
    record_id: &str,
    log_id: String,
    session: &Session,
) -> Result<Vec<Event>, StoreError> {
    app.store.put_log(&audit::signed_in(log_id, session)).await?;
    let mut out = vec![events::session_created(record_id, session)];
    let past = past_sessions(app, session).await?;
    let places: Vec<_> = past.iter().map(|s| (s.session_id.clone(), s.login_at, s.geo.clone())).collect();
    let policy = TravelPolicy {
        max_speed_kmh: app.config.travel_max_speed_kmh as f64,
        min_distance_km: app.config.travel_min_distance_km as f64,
    };
    let risk = travel::assess(session, &places, policy);
    if let Some(risk) = &risk {
        tracing::warn!(session_id = %session.session_id, distance_km = risk.distance_km, speed_kmh = risk.speed_kmh, "session flagged: impossible travel");
        app.store.flag_session(&session.user_id, &session.session_id, risk).await?;
        out.push(events::session_flagged(record_id, session, risk));
    }
    super::login_mail::on_sign_in(app, session, &past, risk.as_ref()).await?;
    Ok(out)
}
