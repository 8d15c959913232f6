//! Impossible travel (docs/risk.md): a new session whose place is farther from the user's
//! previous session's than anyone could have gone since is flagged with a [`Risk`].

use serde::{Deserialize, Serialize};

use crate::core::clock::Millis;
use crate::core::model::{Geo, Session};

/// Why a session is suspect, shown as `risk` on the session.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Risk {
    /// `impossible_travel`.
    pub reason: String,
    /// From the previous session's place to this one's, in whole kilometres.
    pub distance_km: u32,
    /// The speed that travel would have taken, in whole km/h.
    pub speed_kmh: u32,
    /// The session it was compared with.
    pub previous_session_id: String,
}

/// When travel is impossible (`TRAVEL_MAX_SPEED_KMH`, `TRAVEL_MIN_DISTANCE_KM`): faster than
/// `max_speed_kmh` over more than `min_distance_km` (nearer places differ by the database's
/// error alone).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TravelPolicy {
    pub max_speed_kmh: f64,
    pub min_distance_km: f64,
}

/// Earth's mean radius, km.
const EARTH_KM: f64 = 6371.0;

/// A place's coordinates, when both parse as degrees in range.
fn coordinates(geo: &Geo) -> Option<(f64, f64)> {
    let lat: f64 = geo.latitude.as_deref()?.trim().parse().ok()?;
    let lon: f64 = geo.longitude.as_deref()?.trim().parse().ok()?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

/// Great-circle distance (haversine), km.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let (dlat, dlon) = ((b.0 - a.0).to_radians(), (b.1 - a.1).to_radians());
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_KM * h.sqrt().asin()
}

/// The previous session: the newest one that began before `new` and has a place.
fn previous<'a>(new: &Session, others: &'a [(String, Millis, Geo)]) -> Option<&'a (String, Millis, Geo)> {
    others
        .iter()
        .filter(|(id, at, geo)| *id != new.session_id && *at <= new.login_at && coordinates(geo).is_some())
        .max_by_key(|(id, at, _)| (*at, id.clone()))
}

/// The risk of `new` given the user's other sessions, live or ended, as (id, login time,
/// place); `None` when either place is unknown or the travel was possible.
pub fn assess(new: &Session, others: &[(String, Millis, Geo)], policy: TravelPolicy) -> Option<Risk> {
    let here = coordinates(&new.geo)?;
    let (previous_id, at, geo) = previous(new, others)?;
    let km = distance_km(coordinates(geo)?, here);
    // Logins in the same millisecond count as a minute apart rather than as infinitely fast.
    let hours = ((new.login_at - at).max(60_000)) as f64 / 3_600_000.0;
    let speed = km / hours;
    (km > policy.min_distance_km && speed > policy.max_speed_kmh).then(|| Risk {
        reason: "impossible_travel".into(),
        distance_km: km.round() as u32,
        speed_kmh: speed.min(u32::MAX as f64).round() as u32,
        previous_session_id: previous_id.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: TravelPolicy = TravelPolicy { max_speed_kmh: 900.0, min_distance_km: 50.0 };

    fn geo(lat: &str, lon: &str) -> Geo {
        Geo { latitude: Some(lat.into()), longitude: Some(lon.into()), ..Geo::default() }
    }

    fn session(at: Millis, place: Geo) -> Session {
        Session {
            session_id: "new".into(),
            user_id: "u".into(),
            device: Default::default(),
            host: String::new(),
            ip: String::new(),
            user_agent: String::new(),
            login_at: at,
            last_activity_at: at,
            expires_at: 0,
            client_ids: vec![],
            geo: place,
            user: Default::default(),
            last_use: None,
            risk: None,
        }
    }

    const HOUR: Millis = 3_600_000;

    #[test]
    fn london_to_sydney_in_an_hour_is_flagged() {
        let london = geo("51.5074", "-0.1278");
        let sydney = geo("-33.8688", "151.2093");
        let risk = assess(&session(10 * HOUR, sydney), &[("old".into(), 9 * HOUR, london)], POLICY).unwrap();
        assert_eq!((risk.reason.as_str(), risk.previous_session_id.as_str()), ("impossible_travel", "old"));
        assert!((16_900..17_100).contains(&risk.distance_km), "{}", risk.distance_km);
        assert!(risk.speed_kmh > 16_000);
    }

    #[test]
    fn possible_near_or_unknown_travel_is_not() {
        let (london, paris) = (geo("51.5074", "-0.1278"), geo("48.8566", "2.3522"));
        // About 344 km in two hours.
        assert_eq!(assess(&session(2 * HOUR, paris.clone()), &[("a".into(), 0, london.clone())], POLICY), None);
        // Under the distance floor, however fast.
        let near = geo("51.6", "-0.2");
        assert_eq!(assess(&session(1, near), &[("a".into(), 0, london.clone())], POLICY), None);
        // No place on either side, or a later session only.
        assert_eq!(assess(&session(HOUR, Geo::default()), &[("a".into(), 0, london.clone())], POLICY), None);
        assert_eq!(assess(&session(HOUR, paris.clone()), &[("a".into(), 0, Geo::default())], POLICY), None);
        assert_eq!(assess(&session(HOUR, paris), &[("a".into(), 2 * HOUR, london)], POLICY), None);
        assert_eq!(assess(&session(HOUR, geo("95", "0")), &[], POLICY), None);
    }

    #[test]
    fn compares_with_the_newest_previous_place() {
        let (london, paris) = (geo("51.5074", "-0.1278"), geo("48.8566", "2.3522"));
        let others = [("old".into(), 0, geo("-33.8688", "151.2093")), ("recent".into(), 9 * HOUR, paris)];
        assert_eq!(assess(&session(10 * HOUR, london), &others, POLICY), None);
    }
}
