//! store::metering against DynamoDB Local: consumed capacity is asked for and read back,
//! items read and round trips are counted per call.

use serde_json::json;
use sessions_api::App;
use sessions_api::Endpoint::{Login, SessionsList};
use sessions_api::store::DynamoStore;
use sessions_api::store::metering::{Meter, sequential_round_trips};
use sessions_cli::demo::DEMO_PASSWORD;

use crate::support::*;

/// A seeded table, and the same table through a metered client.
async fn metered() -> (Meter, TestEnv) {
    let env = TestEnv::seeded().await;
    let meter = Meter::new();
    let store = DynamoStore::new(meter.client(env.app.store.client()), env.app.store.table());
    (meter, TestEnv { app: App::new(env.app.config.clone(), store), seeded_at: env.seeded_at })
}

#[tokio::test]
async fn calls_are_metered_with_items_units_and_round_trips() {
    let (meter, metered) = metered().await;

    let resp = metered.send(SessionsList, Req::new().auth(&demo_auth(ROXIE_ID, ROXIE_SESSION))).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let calls = meter.take();
    let ops: Vec<&str> = calls.iter().map(|c| c.operation.as_str()).collect();
    assert!(ops.contains(&"GetItem") && ops.contains(&"Query"), "{ops:?}");
    let listed = resp.json_body()["sessions"].as_array().unwrap().len() as u64;
    let queried: u64 = calls.iter().filter(|c| c.operation == "Query").map(|c| c.items_read).sum();
    assert!(queried >= listed, "{queried} items read for {listed} rows");
    // The session's activity was due: one write on its token and one on its session.
    let (reads, writes): (Vec<_>, Vec<_>) = calls.iter().partition(|c| c.operation != "UpdateItem");
    assert!(reads.iter().all(|c| c.read_units > 0.0 && c.write_units == 0.0 && c.bytes > 0), "{calls:?}");
    assert!(writes.len() == 2 && writes.iter().all(|c| c.write_units > 0.0), "{calls:?}");
    assert!((1..=calls.len()).contains(&sequential_round_trips(&calls)));

    let resp = metered.send(Login, Req::new().json(json!({"user": "guester", "password": DEMO_PASSWORD}))).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let calls = meter.take();
    let tx: Vec<_> = calls.iter().filter(|c| c.operation == "TransactWriteItems").collect();
    assert!(!tx.is_empty() && tx.iter().all(|c| c.write_units > 0.0), "{calls:?}");
}

/// Reads that do not depend on each other share a round trip: once 2FA is remembered,
/// list.all is two (token, user and permission; then every order-index shard and the
/// counter), info.admin
/// three (then the by-id index, then the item), and an admin logout three (then the by-id
/// index, then the transaction that ends the session).
#[tokio::test]
async fn admin_routes_take_few_sequential_round_trips() {
    use sessions_api::Endpoint::{SessionsInfoAdmin, SessionsListAll, SessionsLogout};
    let (meter, metered) = metered().await;
    let roxie = demo_auth(ROXIE_ID, ROXIE_SESSION);
    let step_up = Req::new().auth(&roxie).header("x-2fa-method", "password").code(&password_code(DEMO_PASSWORD));
    assert_eq!(metered.send(SessionsListAll, step_up).await.status, 200);
    meter.take();
    let resp = metered.send(SessionsListAll, Req::new().auth(&roxie)).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let calls = meter.take();
    let shards = metered.app.config.order_shards as usize;
    assert_eq!((calls.len(), sequential_round_trips(&calls)), (3 + shards + 1, 2), "{calls:?}");
    let resp = metered.send(SessionsInfoAdmin, Req::new().auth(&roxie).param("sessionId", "uBNL9dTjJ4s6Pjp4K")).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let calls = meter.take();
    assert_eq!((calls.len(), sequential_round_trips(&calls)), (5, 3), "{calls:?}");
    let resp =
        metered.send(SessionsLogout, Req::new().auth(&roxie).json(json!({"sessionId": "uBNL9dTjJ4s6Pjp4K"}))).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let calls = meter.take();
    let ops: Vec<&str> = calls.iter().map(|c| c.operation.as_str()).collect();
    assert_eq!((ops.len(), sequential_round_trips(&calls)), (5, 3), "{ops:?}");
    assert_eq!(ops.last(), Some(&"TransactWriteItems"));
    // Ended: a second logout of it finds nothing.
    let again =
        metered.send(SessionsLogout, Req::new().auth(&roxie).json(json!({"sessionId": "uBNL9dTjJ4s6Pjp4K"}))).await;
    assert_reply(&again, 404, not_found());
}

/// A password login of a user without a second factor takes three sequential round trips:
/// the name's link (which carries the login copy) beside the address's try; the session's
/// transaction, which also checks and clears the account's failed logins; the cap's Query
/// beside the address's count cleared. By username and by email alike.
#[tokio::test]
async fn a_login_takes_three_sequential_round_trips() {
    let (meter, metered) = metered().await;
    for name in ["testroxie", "TestRoxie@example.com"] {
        meter.take();
        let resp = metered.send(Login, Req::new().json(json!({"user": name, "password": DEMO_PASSWORD}))).await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        let calls = meter.take();
        let ops: Vec<&str> = calls.iter().map(|c| c.operation.as_str()).collect();
        assert_eq!(sequential_round_trips(&calls), 3, "{name}: {ops:?}");
        assert_eq!(ops.iter().filter(|o| **o == "GetItem").count(), 1, "{name}: one read of the user: {ops:?}");
    }
}

/// A refused login (a wrong password) takes three: the link beside the address's try; the
/// account's try, known once the link names the account, before the refusal is answered; its
/// audit entry (docs/audit-log.md). A successful login's audit entry is written from the stream.
#[tokio::test]
async fn a_refused_login_adds_only_its_audit_entry() {
    let (meter, metered) = metered().await;
    meter.take();
    let resp = metered.send(Login, Req::new().json(json!({"user": "testroxie", "password": "wrong"}))).await;
    assert_eq!(resp.status, 401, "{}", resp.body);
    let calls = meter.take();
    let ops: Vec<&str> = calls.iter().map(|c| c.operation.as_str()).collect();
    assert_eq!(sequential_round_trips(&calls), 3, "{ops:?}");
    assert_eq!(ops.iter().filter(|o| **o == "PutItem").count(), 1, "one audit entry: {ops:?}");
}

/// A list.all page takes at most one refill round of the order-index shards, whichever
/// shard runs dry first and wherever the page starts: token, user and permission; the
/// first round over every shard; at most one refill, which reads no further than the page
/// can end. 240 live sessions over 8 shards, every
/// sort key and direction, pages from the first to past the last.
#[tokio::test]
async fn list_all_pages_take_at_most_three_sequential_round_trips() {
    use sessions_api::Endpoint::SessionsListAll;
    use sessions_api::core::model::{Device, Os};
    use sessions_api::core::order::SortKey;
    use sessions_api::store::UserStore;
    use sessions_cli::admin::{LoginSpec, issue_login};
    let (meter, mut metered) = metered().await;
    let (store, config) = (&metered.app.store.clone(), &metered.app.config.clone());
    let users = [TEST_USER_ID, ROXIE_ID, "GonjPyg3gB3Z9ur9s"];
    let now = sessions_api::core::clock::now_ms();
    let logins = (0..240usize).map(|i| async move {
        let user = store.user(users[i % users.len()]).await.unwrap().unwrap();
        let spec = LoginSpec {
            device: Device {
                kind: "browser".into(),
                name: ["Chrome", "Safari", "Firefox", ""][i % 4].into(),
                long_version: "1.0.0".into(),
                os: Os { name: ["Linux", "Mac OS", "Windows"][i % 3].into(), version: (i % 7).to_string() },
                version: "1.0".into(),
            },
            login_at: Some(now - 60_000 - (i as i64 * 7919 % 240) * 1000),
            ..Default::default()
        };
        issue_login(store, config, &user, spec).await.unwrap();
    });
    futures::future::join_all(logins).await;
    let roxie = demo_auth(ROXIE_ID, ROXIE_SESSION);
    let step_up = Req::new().auth(&roxie).header("x-2fa-method", "password").code(&password_code(DEMO_PASSWORD));
    assert_eq!(metered.send(SessionsListAll, step_up).await.status, 200);
    let mut pages = 0;
    for key in SortKey::ALL {
        for direction in ["1", "-1"] {
            for (offset, count) in [(0usize, 50usize), (0, 7), (13, 25), (100, 50), (180, 40), (230, 50), (0, 100)] {
                meter.take();
                let sort = format!("{{\"{}\":{direction}}}", key.name());
                let req = Req::new()
                    .auth(&roxie)
                    .param("sort", &sort)
                    .param("offset", &offset.to_string())
                    .param("count", &count.to_string());
                let resp = metered.send(SessionsListAll, req).await;
                assert_eq!(resp.status, 200, "{sort} {offset} {count}: {}", resp.body);
                let body = resp.json_body();
                let (listed, total) = (body["sessions"].as_array().unwrap().len(), body["total"].as_u64().unwrap());
                assert!(total >= 240, "{body}");
                assert_eq!(listed, count.min((total as usize).saturating_sub(offset)), "{sort} {offset} {count}");
                let calls = meter.take();
                assert!(sequential_round_trips(&calls) <= 3, "{sort} offset {offset} count {count}: {calls:?}");
                // The refill reads no further than the page can end: offset + count, plus a few
                // per shard (about two standard deviations of its share).
                let queried: u64 = calls.iter().filter(|c| c.operation == "Query").map(|c| c.items_read).sum();
                let shards = metered.app.config.order_shards as usize;
                let per_shard = (offset + count).div_ceil(shards);
                let bound = offset + count + shards * ((per_shard as f64).sqrt().ceil() as usize + 3) + 6;
                assert!(queried as usize <= bound, "{sort} {offset} {count}: {queried} items, bound {bound}");
                pages += 1;
            }
        }
    }
    assert_eq!(pages, SortKey::ALL.len() * 2 * 7);

    // A filter reads every shard's rows: each shard's first and last key and the session
    // counter, then every range of every shard at once. 240 sessions over 8 shards fit one
    // range each by default; with ranges of 4 rows each shard's span is cut into about 8,
    // and the same sessions are found.
    let shards = metered.app.config.order_shards as usize;
    let mut totals = Vec::new();
    for range_rows in [None, Some(4)] {
        if let Some(rows) = range_rows {
            metered.app.store = metered.app.store.clone().with_filter_range_rows(rows);
        }
        for (filter, at_least) in [("Chrome", 60u64), (".", 240)] {
            meter.take();
            let resp = metered.send(SessionsListAll, Req::new().auth(&roxie).param("filter", filter)).await;
            assert_eq!(resp.status, 200, "{filter}: {}", resp.body);
            let total = resp.json_body()["total"].as_u64().unwrap();
            assert!(total >= at_least, "{filter}: {}", resp.body);
            totals.push(total);
            let calls = meter.take();
            assert!(sequential_round_trips(&calls) <= 3, "filter {filter} {range_rows:?}: {calls:?}");
            let queries = calls.iter().filter(|c| c.operation == "Query").count();
            match range_rows {
                None => assert_eq!(queries, 3 * shards, "filter {filter}: {queries} Queries"),
                // At least ceil(30 / 4) = 8 ranges per shard beside its 2 key-span Queries.
                Some(_) => assert!(queries >= (2 + 8) * shards, "filter {filter}, cut: {queries} Queries"),
            }
            assert_eq!(calls.iter().filter(|c| c.operation == "BatchGetItem").count(), 1, "{calls:?}");
        }
    }
    assert_eq!(totals[..2], totals[2..], "cut or not, a filter finds the same sessions");
}

/// The account-wide logouts end the sessions straight from the user's Query: token and
/// user, then the Query, then one transaction per 49 sessions, all at once.
#[tokio::test]
async fn account_logouts_take_three_sequential_round_trips() {
    use sessions_api::Endpoint::{UserSessionsRevokeAll, UsersLogout, UsersLogoutOtherClients};
    for endpoint in [UsersLogoutOtherClients, UsersLogout, UserSessionsRevokeAll] {
        let (meter, metered) = metered().await;
        let resp = if endpoint == UserSessionsRevokeAll {
            let path = format!("/api/users/{TEST_USER_ID}/sessions");
            let mut event = Req::new().header("X-API-KEY", sessions_cli::demo::DEMO_API_KEY).event(endpoint);
            event.raw_path = Some(path.clone());
            event.path_parameters = endpoint.match_path(&path).expect("path matches the route");
            invoke(&metered.app, endpoint, event).await
        } else {
            metered.send(endpoint, Req::new().auth(&demo_auth(TEST_USER_ID, "WJ2giBwm4B9mcojFi"))).await
        };
        assert!(resp.status < 300, "{}: {} {}", endpoint.function(), resp.status, resp.body);
        let calls = meter.take();
        let ops: Vec<&str> = calls.iter().map(|c| c.operation.as_str()).collect();
        assert!(sequential_round_trips(&calls) <= 3, "{}: {ops:?}", endpoint.function());
        assert_eq!(ops.iter().filter(|o| **o == "TransactWriteItems").count(), 1, "{}: {ops:?}", endpoint.function());
    }
}

/// An activity write runs beside the handler's own reads: a call whose activity is due takes
/// as many sequential round trips as the same call inside the interval, which writes nothing.
#[tokio::test]
async fn an_activity_write_adds_no_sequential_round_trip() {
    use sessions_api::Endpoint::SessionsInfo;
    let (meter, metered) = metered().await;
    let cases = [
        (
            SessionsInfo,
            Req::new().auth(&demo_auth(TEST_USER_ID, "WJ2giBwm4B9mcojFi")).param("sessionId", "WJ2giBwm4B9mcojFi"),
        ),
        (SessionsList, Req::new().auth(&demo_auth(ROXIE_ID, ROXIE_SESSION))),
    ];
    for (endpoint, req) in cases {
        meter.take();
        assert_eq!(metered.send(endpoint, req.clone()).await.status, 200);
        let due = meter.take();
        assert_eq!(due.iter().filter(|c| c.operation == "UpdateItem").count(), 2, "{endpoint:?}: {due:?}");
        assert_eq!(metered.send(endpoint, req).await.status, 200);
        let inside = meter.take();
        assert!(inside.iter().all(|c| c.operation != "UpdateItem"), "{endpoint:?}: {inside:?}");
        assert_eq!(sequential_round_trips(&due), sequential_round_trips(&inside), "{endpoint:?}: {due:?}");
        // What one record costs: the token's write and the session's, no index entry.
        let units: f64 = due.iter().filter(|c| c.operation == "UpdateItem").map(|c| c.write_units).sum();
        eprintln!("{endpoint:?}: an activity record takes {units} write units");
        assert!(units <= 4.0, "{endpoint:?}: {units} write units: an index was rewritten?");
    }
}
