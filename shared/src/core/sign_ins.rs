//! A user's recent sign-ins: the little the stream consumer remembers of each new session
//! (device, address, place, time) to judge the next one, for the new-device rule
//! (docs/login-emails.md) and impossible travel (docs/risk.md). Bounded, so judging a login
//! costs the same whatever the user's history.

use serde::{Deserialize, Serialize};

use crate::core::clock::Millis;
use crate::core::model::{Geo, Session};

/// Most sign-ins remembered per user.
pub const MAX_REMEMBERED: usize = 100;
/// Sign-ins remembered whatever their age (travel compares with the newest earlier one).
const ALWAYS_KEPT: usize = 5;

/// One remembered sign-in.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct SignIn {
    pub session_id: String,
    pub at: Millis,
    pub device_type: String,
    pub browser: String,
    pub os: String,
    pub ip: String,
    pub geo: Geo,
}

impl From<&Session> for SignIn {
    fn from(s: &Session) -> Self {
        SignIn {
            session_id: s.session_id.clone(),
            at: s.login_at,
            device_type: s.device.kind.clone(),
            browser: s.device.name.clone(),
            os: s.device.os.name.clone(),
            ip: s.ip.clone(),
            geo: s.geo.clone(),
        }
    }
}

impl SignIn {
    /// The same device: its type, browser and operating system.
    pub fn same_device(&self, other: &SignIn) -> bool {
        (&self.device_type, &self.browser, &self.os) == (&other.device_type, &other.browser, &other.os)
    }

    /// The same place: city and country when either is known, else the address.
    pub fn same_place(&self, other: &SignIn) -> bool {
        let place = |s: &SignIn| match (&s.geo.city, &s.geo.country) {
            (None, None) => (None, None, s.ip.clone()),
            (city, country) => (city.clone(), country.clone(), String::new()),
        };
        place(self) == place(other)
    }
}

/// The sign-ins to remember once `new` is added: newest first, one per session, those
/// within `keep_ms` before the newest, at least the newest few whatever their age, at most
/// [`MAX_REMEMBERED`]. Adding a sign-in already remembered changes nothing.
pub fn remember(mut recent: Vec<SignIn>, new: SignIn, keep_ms: i64) -> Vec<SignIn> {
    recent.retain(|s| s.session_id != new.session_id);
    recent.push(new);
    recent.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.session_id.cmp(&b.session_id)));
    let newest = recent.first().map_or(0, |s| s.at);
    let mut kept: Vec<SignIn> = Vec::with_capacity(recent.len().min(MAX_REMEMBERED));
    for (i, s) in recent.into_iter().enumerate() {
        if i < ALWAYS_KEPT || s.at >= newest - keep_ms {
            kept.push(s);
        }
    }
    kept.truncate(MAX_REMEMBERED);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(id: &str, at: Millis) -> SignIn {
        SignIn { session_id: id.into(), at, ..SignIn::default() }
    }

    #[test]
    fn keeps_the_window_the_newest_few_and_one_per_session() {
        let day = 86_400_000;
        let old: Vec<SignIn> = (0..10).map(|i| at(&format!("o{i}"), i)).collect();
        let kept = remember(old, at("new", 100 * day), 30 * day);
        assert_eq!(kept.len(), ALWAYS_KEPT, "the window holds only the new one; the newest few stay");
        assert_eq!(kept[0].session_id, "new");
        let again = remember(kept.clone(), at("new", 100 * day), 30 * day);
        assert_eq!(again, kept, "remembering twice changes nothing");
        let many: Vec<SignIn> = (0..300).map(|i| at(&format!("m{i}"), 100 * day - i)).collect();
        assert_eq!(remember(many, at("x", 100 * day), 30 * day).len(), MAX_REMEMBERED);
    }

    #[test]
    fn devices_and_places() {
        let mut a = at("a", 0);
        a.browser = "Firefox".into();
        a.ip = "203.0.113.1".into();
        let mut b = a.clone();
        assert!(a.same_device(&b) && a.same_place(&b));
        b.ip = "198.51.100.1".into();
        assert!(!a.same_place(&b), "no location: the address decides");
        a.geo.city = Some("Paris".into());
        b.geo.city = Some("Paris".into());
        assert!(a.same_place(&b), "a known city decides over the address");
        b.browser = "Chrome".into();
        assert!(!a.same_device(&b));
    }
}
