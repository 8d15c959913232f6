//! Sharded order indexes: a page is a k-way merge of the shards, and it must be exactly the
//! slice of an in-memory sort at every offset, in every order, for one shard and for eight.

use sessions_api::Endpoint::SessionsListAll;
use sessions_api::core::clock::now_ms;
use sessions_api::core::model::Session;
use sessions_api::core::model::{Device, Os};
use sessions_api::core::order::{Direction, Sort, SortKey};
use sessions_api::store::UserStore;
use sessions_api::store::{AllSessionsReader, UserSessionReader, keys};
use sessions_cli::admin::{LoginSpec, issue_login};

use crate::support::*;

const USERS: [&str; 3] = [TEST_USER_ID, ROXIE_ID, "GonjPyg3gB3Z9ur9s"];

/// Sessions with repeated device names, OS names and versions and login times (ties break
/// on the session id), over several users, and some expired ones in the way.
async fn add_sessions(env: &TestEnv) {
    let now = now_ms();
    let devices = ["Chrome", "Safari", "Firefox", "", "Chrome"];
    let systems = [("Linux", "6.1"), ("Mac OS", "14"), ("Windows", "10"), ("Linux", "")];
    for i in 0..60usize {
        let user_id = USERS[i % USERS.len()];
        let Some(user) = env.app.store.user(user_id).await.unwrap() else { continue };
        let (os, version) = systems[i % systems.len()];
        let expired = i % 11 == 0;
        let spec = LoginSpec {
            device: Device {
                kind: "browser".into(),
                name: devices[i % devices.len()].into(),
                long_version: "1.0.0".into(),
                os: Os { name: os.into(), version: version.into() },
                version: "1.0".into(),
            },
            // Pairs of equal login times; expired ones a year back.
            login_at: Some(if expired { now - 400 * 86_400_000 } else { now - 60_000 - (i / 2) as i64 * 1000 }),
            ..Default::default()
        };
        issue_login(&env.app.store, &env.app.config, &user, spec).await.unwrap();
    }
}

/// Every live session, from each user's own partition (not from the order indexes).
async fn every_live_session(env: &TestEnv, now: i64) -> Vec<Session> {
    let user_ids: std::collections::BTreeSet<String> = env
        .items()
        .await
        .iter()
        .filter(|i| i["SK"].as_s().is_ok_and(|s| s.starts_with(keys::SESSION_PREFIX)))
        .map(|i| i["PK"].as_s().unwrap().trim_start_matches("USER#").to_string())
        .collect();
    let mut all = Vec::new();
    for user_id in user_ids {
        all.extend(env.app.store.user_sessions(&user_id).await.unwrap().into_iter().filter(|s| s.is_live(now)));
    }
    all
}

/// What a list row shows of a session (the order indexes hold no user agent, geo or client ids).
fn row(s: &Session) -> (String, String, String, String, String, String, i64, Option<String>, String) {
    (
        s.session_id.clone(),
        s.user_id.clone(),
        serde_json::to_string(&s.device).unwrap(),
        s.host.clone(),
        s.ip.clone(),
        s.user.username.clone(),
        s.login_at,
        s.user.name.clone(),
        s.device.os.version.clone(),
    )
}

#[tokio::test]
async fn every_page_at_every_offset_matches_an_in_memory_sort_for_one_and_eight_shards() {
    for shards in [1u32, 8] {
        let env = TestEnv::seeded_with_order_shards(shards).await;
        add_sessions(&env).await;
        let now = now_ms();
        let all = every_live_session(&env, now).await;
        assert!(all.len() > 60, "{} live sessions", all.len());
        for key in SortKey::ALL {
            for direction in [Direction::Ascending, Direction::Descending] {
                let mut expected = all.clone();
                let sort = Sort(vec![(key, direction)]);
                expected.sort_by(|a, b| sort.compare(a, b));
                for count in [1usize, 7] {
                    for offset in 0..=expected.len() {
                        let page = env
                            .app
                            .store
                            .sessions_page(key, direction, offset, count, now, budget())
                            .await
                            .unwrap()
                            .unwrap();
                        let want: Vec<_> = expected.iter().skip(offset).take(count).map(row).collect();
                        let got: Vec<_> = page.iter().map(row).collect();
                        assert_eq!(
                            got,
                            want,
                            "{shards} shards, {} {direction:?}, offset {offset}, count {count}",
                            key.name()
                        );
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn sessions_spread_over_the_shards_and_a_page_reads_a_few_items_per_shard() {
    let env = TestEnv::seeded_with_order_shards(8).await;
    add_sessions(&env).await;
    // Each session's index partition is its shard's.
    let mut partitions = std::collections::BTreeSet::new();
    for item in env.items().await.iter().filter(|i| i["SK"].as_s().is_ok_and(|s| s.starts_with(keys::SESSION_PREFIX))) {
        let session_id = item["SK"].as_s().unwrap().trim_start_matches(keys::SESSION_PREFIX);
        let partition = item["GSI2PK"].as_s().unwrap();
        assert_eq!(partition, &keys::order_shard(keys::order_shard_of(session_id, 8)));
        partitions.insert(partition.clone());
    }
    assert_eq!(partitions.len(), 8, "{partitions:?}");
    // Through the handler: offset + count plus a few per shard (expired rows excepted).
    let admin = Req::new().auth(&demo_auth(ROXIE_ID, ROXIE_SESSION)).code(&password_code(DEMO_PASSWORD));
    for (offset, count) in [(0usize, 5usize), (0, 50), (20, 10)] {
        let before = env.app.store.index_items_read();
        let resp = env
            .send(
                SessionsListAll,
                admin.clone().param("offset", &offset.to_string()).param("count", &count.to_string()),
            )
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        let read = (env.app.store.index_items_read() - before) as usize;
        let per_shard = (offset + count).div_ceil(8);
        let bound = offset + count + 8 * ((per_shard as f64).sqrt().ceil() as usize + 3) + 6;
        assert!(read <= bound, "offset {offset} count {count}: {read} items read, bound {bound}");
    }
}

/// The page list.all answers at `offset`: read from the start while the start is nearer, else
/// from the far end, where the expired sessions TTL has yet to remove (counted in the total,
/// skipped by pages) shift it by their number (store::session_pages).
fn expected_page(live: &[Session], offset: usize, count: usize, total: usize) -> Vec<Session> {
    let expired = total - live.len();
    let from_far_end = total.saturating_sub(offset) < offset + count;
    let start = if from_far_end { offset - expired } else { offset };
    if offset >= total { Vec::new() } else { live.iter().skip(start).take(count).cloned().collect() }
}

#[tokio::test]
async fn pages_from_the_nearer_end_match_an_in_memory_sort_past_the_middle_and_on_the_last_page() {
    for shards in [1u32, 8] {
        let env = TestEnv::seeded_with_order_shards(shards).await;
        add_sessions(&env).await;
        // Counting first from offset 0 on (no hint yet), then from the total it remembers.
        let store = env.app.store.clone().with_near_start(0);
        let now = now_ms();
        let live = every_live_session(&env, now).await;
        let total = store.active_session_count().await.unwrap();
        assert_eq!(total - live.len(), 6, "the six expired sessions are counted until TTL removes them");
        for key in SortKey::ALL {
            for direction in [Direction::Ascending, Direction::Descending] {
                let mut expected = live.clone();
                let sort = Sort(vec![(key, direction)]);
                expected.sort_by(|a, b| sort.compare(a, b));
                for count in [1usize, 7] {
                    for offset in 0..=total + 1 {
                        let page =
                            store.counted_page((key, direction), offset, count, now, budget()).await.unwrap().unwrap();
                        let want: Vec<_> = expected_page(&expected, offset, count, total).iter().map(row).collect();
                        let got: Vec<_> = page.sessions.iter().map(row).collect();
                        let at =
                            format!("{shards} shards, {} {direction:?}, offset {offset}, count {count}", key.name());
                        assert_eq!((got, page.total), (want, total), "{at}");
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn the_last_page_reads_a_few_rows_and_a_total_moved_past_the_margin_is_read_again() {
    let env = TestEnv::seeded_with_order_shards(8).await;
    add_sessions(&env).await;
    let store = env.app.store.clone().with_near_start(0);
    let (key, direction) = (SortKey::LoginAt, Direction::Descending);
    let now = now_ms();
    let total = store.active_session_count().await.unwrap();
    // Without a hint the first deep page counts first; forward, it reads every row before it.
    let read = |store: &sessions_api::store::DynamoStore| store.index_items_read() as usize;
    let last = total - 5;
    let forward_before = read(&store);
    store.sessions_page(key, direction, last, 5, now, budget()).await.unwrap().unwrap();
    let forward = read(&store) - forward_before;
    assert!(forward >= last, "forward: {forward} rows");
    // Counting first (no hint yet), then from the remembered total with its 32-row margin:
    // the page's 5 rows, the margin, a few per shard and the six expired rows at most.
    for bound in [5 + 8 * 5 + 6, 5 + 32 + 8 * 5 + 6] {
        let before = read(&store);
        let page = store.counted_page((key, direction), last, 5, now, budget()).await.unwrap().unwrap();
        let from_end = read(&store) - before;
        assert_eq!(page.sessions.len(), 5);
        assert!(from_end <= bound, "from the end: {from_end} rows, bound {bound}");
    }
    // 40 more sessions than the hint (past the 32-row margin): the page is read again, still right.
    let user = env.app.store.user(TEST_USER_ID).await.unwrap().unwrap();
    for _ in 0..40 {
        issue_login(&env.app.store, &env.app.config, &user, LoginSpec::default()).await.unwrap();
    }
    let live = {
        let mut all = every_live_session(&env, now_ms()).await;
        all.sort_by(|a, b| Sort(vec![(key, direction)]).compare(a, b));
        all
    };
    let total = store.active_session_count().await.unwrap();
    let page = store.counted_page((key, direction), total - 5, 5, now_ms(), budget()).await.unwrap().unwrap();
    let want: Vec<_> = expected_page(&live, total - 5, 5, total).iter().map(row).collect();
    assert_eq!(page.sessions.iter().map(row).collect::<Vec<_>>(), want);
}
