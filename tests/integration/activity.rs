//! Activity and location (store::activity, core::geo): every accepted call records, at most
//! once per interval, its time, address, User-Agent and location on the caller's session;
//! Rocket.Chat's `lastActivityAt` and MonoCloud's `last_updated` and `last_metadata` show
//! it; a refused write is dropped, never the call's failure; an idle session ends.

use serde_json::json;
use sessions_api::Endpoint::{Login, SessionsInfo, SessionsList, UserSessionGet};
use sessions_api::core::clock::{iso_millis, now_ms};
use sessions_api::core::geo::GeoDb;
use sessions_api::core::model::Geo;
use sessions_api::response::ApiResponse;
use sessions_api::store::UserSessionReader;
use sessions_api::store::faults::{Fault, Faults};
use sessions_cli::demo::DEMO_API_KEY;

use crate::support::*;

/// test.test's Android session of the demo data.
const ANDROID: &str = "WJ2giBwm4B9mcojFi";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";

fn android() -> (String, String) {
    demo_auth(TEST_USER_ID, ANDROID)
}

/// MonoCloud's get of test.test's Android session.
async fn monocloud_get(env: &TestEnv) -> ApiResponse {
    let path = format!("/api/users/{TEST_USER_ID}/sessions/{ANDROID}");
    let mut event = Req::new().header("X-API-KEY", DEMO_API_KEY).event(UserSessionGet);
    event.raw_path = Some(path.clone());
    event.path_parameters = UserSessionGet.match_path(&path).expect("path matches the route");
    invoke(&env.app, UserSessionGet, event).await
}

fn info_from(ip: &str) -> Req {
    Req::new().auth(&android()).ip(ip).header("user-agent", FIREFOX).param("sessionId", ANDROID)
}

#[tokio::test]
async fn a_use_from_a_new_address_shows_in_info_and_get_within_one_interval() {
    let env = TestEnv::seeded().await;
    let writes = env.app.store.activity_writes();
    let before = now_ms();
    assert_eq!(env.send(SessionsInfo, info_from("81.2.69.142")).await.status, 200);
    let after = now_ms();
    assert_eq!(env.app.store.activity_writes(), writes + 1, "the due use is written");

    // Inside the interval, from elsewhere: nothing written, the first use still shows.
    let resp = env.send(SessionsInfo, info_from("89.160.20.128")).await;
    assert_eq!(env.app.store.activity_writes(), writes + 1, "a second call inside the interval writes nothing");
    let body = resp.json_body();
    let last = body["lastActivityAt"].as_str().expect("lastActivityAt");
    assert!((iso_millis(before).as_str()..=iso_millis(after).as_str()).contains(&last), "{last}");
    assert_eq!(body["ip"], "172.20.0.2", "Rocket.Chat's ip stays the login's");

    let resp = monocloud_get(&env).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let session = resp.json_body();
    let seconds = sessions_api::core::clock::parse_iso(last).unwrap().div_euclid(1000);
    assert_eq!(session["last_updated"], json!(seconds));
    assert_eq!(session["initiated_at"].as_i64().map(|t| t < seconds), Some(true));
    assert_eq!(
        session["last_metadata"],
        json!({"ip_address": "81.2.69.142", "user_agent": FIREFOX, "country": "GB", "region": "England",
               "city": "London", "latitude": "51.5143", "longitude": "-0.0912244"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_calls_on_one_session_write_its_activity_once() {
    let env = TestEnv::seeded().await;
    let writes = env.app.store.activity_writes();
    let calls = (0..50).map(|i| {
        let app = env.app.clone();
        let event = Req::new().auth(&android()).ip(&format!("8.8.8.{}", i % 8)).event(SessionsList);
        async move { invoke(&app, SessionsList, event).await }
    });
    let answers = in_parallel(calls.collect()).await;
    assert!(answers.iter().all(|r| r.status == 200), "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(env.app.store.activity_writes(), writes + 1, "one write of the due activity, whoever wins");
}

/// Addresses of the database's own data (MaxMind's test addresses and two public resolvers),
/// a private one, and text that is no address.
#[test]
fn the_database_locates_public_addresses_and_nothing_else() {
    let dir = std::env::var("GEO_DB_DIR").expect("GEO_DB_DIR (scripts/test installs the database)");
    let db = GeoDb::open(std::path::Path::new(&dir)).expect("the city database opens");
    let place = |ip: &str| {
        let g = db.locate(ip);
        (g.country.unwrap_or_default(), g.region.unwrap_or_default(), g.city.unwrap_or_default())
    };
    let owned = |(c, r, city): (&str, &str, &str)| (c.to_string(), r.to_string(), city.to_string());
    assert_eq!(place("81.2.69.142"), owned(("GB", "England", "London")));
    assert_eq!(place("89.160.20.128"), owned(("SE", "Stockholm", "Stockholm")));
    assert_eq!(place("216.160.83.56"), owned(("US", "Washington", "Puyallup")));
    assert_eq!(place("8.8.8.8"), owned(("US", "California", "Mountain View")));
    assert_eq!(place("1.1.1.1"), owned(("AU", "New South Wales", "Sydney")));
    assert!(!place("2001:4860:4860::8888").0.is_empty(), "an IPv6 address is located from the IPv6 file");
    for nowhere in
        ["10.0.0.1", "172.20.0.2", "192.168.1.1", "127.0.0.1", "::1", "fd00::1", "not-an-ip", "", "8.8.8.8, 1.1.1.1"]
    {
        assert_eq!(db.locate(nowhere), Geo::default(), "{nowhere:?}");
    }
}

#[tokio::test]
async fn a_refused_activity_write_is_dropped_and_the_call_answers() {
    for fault in [Fault::Throttling, Fault::TransactionConflict, Fault::InternalServerError, Fault::Timeout] {
        let faults = Faults::new();
        let env = TestEnv::seeded_with_faults(&faults).await;
        faults.fail("UpdateItem", fault);
        let resp = env.send(SessionsList, Req::new().auth(&android())).await;
        assert_eq!(resp.status, 200, "{fault:?}: {}", resp.body);
        assert_eq!(env.app.store.activity_failed(), 1, "{fault:?}: counted");
        assert_eq!(faults.requests("UpdateItem"), 2, "{fault:?}: one try on the token, one on the session");
        faults.clear();
        let stored = env.app.store.user_session(TEST_USER_ID, ANDROID).await.unwrap().unwrap();
        assert!(stored.last_use.is_none(), "{fault:?}: nothing written");
    }
}

/// An idle session whose end DynamoDB refuses is refused all the same, with the same 401;
/// the next call ends it.
#[tokio::test]
async fn an_idle_session_whose_end_fails_still_answers_401() {
    let faults = Faults::new();
    let mut env = TestEnv::seeded_with_faults(&faults).await;
    env.set_idle_timeout();
    let idle = env.idle_login().await;
    let auth = (TEST_USER_ID.to_string(), idle.token.clone());
    for fault in [Fault::Throttling, Fault::TransactionConflict, Fault::Timeout] {
        faults.fail("TransactWriteItems", fault);
        assert_reply(&env.send(SessionsList, Req::new().auth(&auth)).await, 401, unauthorized());
        faults.clear();
        assert!(env.app.store.user_session(TEST_USER_ID, &idle.session.session_id).await.unwrap().is_some());
    }
    assert_reply(&env.send(SessionsList, Req::new().auth(&auth)).await, 401, unauthorized());
    assert!(env.app.store.user_session(TEST_USER_ID, &idle.session.session_id).await.unwrap().is_none(), "ended");
}

#[tokio::test]
async fn an_idle_session_answers_401_and_ends_and_a_used_one_does_not() {
    let mut env = TestEnv::seeded().await;
    env.set_idle_timeout();
    let now = now_ms();
    let idle = env.idle_login().await;
    let used = env.login(TEST_USER_ID, "Firefox", "Linux", now - 10 * 60_000).await;
    let auth = |token: &str| (TEST_USER_ID.to_string(), token.to_string());
    // A resume of the idle token is the login's one 401, and ends nothing by itself.
    let resume = env.send(Login, Req::new().json(json!({"resume": idle.token}))).await;
    assert_reply(&resume, 401, json!({"status": "error", "error": "Unauthorized", "message": "Unauthorized"}));
    assert!(env.app.store.user_session(TEST_USER_ID, &idle.session.session_id).await.unwrap().is_some());
    let resp = env.send(SessionsList, Req::new().auth(&auth(&idle.token))).await;
    assert_reply(&resp, 401, unauthorized());
    assert!(env.app.store.user_session(TEST_USER_ID, &idle.session.session_id).await.unwrap().is_none(), "ended");
    assert_eq!(env.send(SessionsList, Req::new().auth(&auth(&used.token))).await.status, 200);
}
