//! What a new session sets off once it is written: its sign-in in the audit log, the
//! impossible-travel check against the user's recent sign-ins (docs/risk.md), and the
//! new-login email (docs/login-emails.md). Never on the login's path. What the checks read is
//! bounded (core::sign_ins): one item per user, whatever the user's history.

use crate::App;
use crate::core::audit;
use crate::core::model::Session;
use crate::core::sign_ins::{self, SignIn};
use crate::core::travel::{self, Risk, TravelPolicy};
use crate::metrics::emit_count;
use crate::store::{AuditLogStore, StoreError};

use super::events::{self, Event};

/// A new session: its audit entry and `Session Created`; then the checks, whose own failures
/// to read anything but the record are logged and leave the event published.
pub async fn on_session_created(
    app: &App,
    record_id: &str,
    log_id: String,
    session: &Session,
) -> Result<Vec<Event>, StoreError> {
    app.store.put_log(&audit::signed_in(log_id, session)).await?;
    let mut out = vec![events::session_created(record_id, session)];
    match check(app, session).await {
        Ok(Some(risk)) => out.push(events::session_flagged(record_id, session, &risk)),
        Ok(None) => {}
        Err(StoreError::Corrupt(reason)) => {
            tracing::error!(%reason, session_id = %session.session_id, "sign-in checks skipped: unreadable data");
            emit_count("SignInChecksSkipped");
        }
        Err(e) => return Err(e),
    }
    Ok(out)
}

/// The travel check and the email, against the sign-ins remembered before this one; then this
/// one remembered. The risk, when the session was flagged (and still exists).
async fn check(app: &App, session: &Session) -> Result<Option<Risk>, StoreError> {
    let remembered = app.store.recent_sign_ins(&session.user_id).await?;
    let past: Vec<SignIn> = remembered.iter().filter(|s| s.session_id != session.session_id).cloned().collect();
    let places: Vec<_> = past.iter().map(|s| (s.session_id.clone(), s.at, s.geo.clone())).collect();
    let policy = TravelPolicy {
        max_speed_kmh: app.config.travel_max_speed_kmh as f64,
        min_distance_km: app.config.travel_min_distance_km as f64,
    };
    let risk = travel::assess(session, &places, policy);
    let mut flagged = None;
    if let Some(risk) = risk {
        tracing::warn!(session_id = %session.session_id, distance_km = risk.distance_km, speed_kmh = risk.speed_kmh, "session flagged: impossible travel");
        if app.store.flag_session(session, &risk).await? {
            flagged = Some(risk);
        }
    }
    super::login_mail::on_sign_in(app, session, &past, flagged.as_ref()).await?;
    let keep_ms = app.config.new_device_days * 86_400_000;
    let now_remembered = sign_ins::remember(remembered, SignIn::from(session), keep_ms);
    app.store.save_sign_ins(&session.user_id, &now_remembered).await?;
    Ok(flagged)
}
