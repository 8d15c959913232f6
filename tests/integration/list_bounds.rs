//! list.all stays bounded: expired rows cost few round trips, offsets are capped, and a
//! filtered or multi-key list gives up cleanly past its memory or time budget.

use serde_json::json;
use sessions_api::Endpoint::{SessionsList, SessionsListAll};
use sessions_api::core::clock::now_ms;
use sessions_api::core::model::{Device, Os};
use sessions_api::rocketchat::handlers::admin::TOO_MANY_TO_SORT;
use sessions_api::store::UserStore;
use sessions_cli::admin::{LoginSpec, issue_login};
use tokio::task::JoinSet;

use crate::support::*;

fn as_roxie() -> Req {
    Req::new().auth(&demo_auth(ROXIE_ID, ROXIE_SESSION)).code(&password_code(DEMO_PASSWORD))
}

/// `n` sessions of test.test that expired a day ago but are still stored (TTL lags).
async fn add_expired(env: &TestEnv, n: usize) {
    let user = env.app.store.user(TEST_USER_ID).await.unwrap().unwrap();
    let lifetime_ms = env.app.config.token_lifetime_secs * 1000;
    let oldest = now_ms() - lifetime_ms - 86_400_000 - n as i64 * 1000;
    let mut tasks = JoinSet::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(n.div_ceil(16)) {
        let (store, config, user, chunk) =
            (env.app.store.clone(), env.app.config.clone(), user.clone(), chunk.to_vec());
        tasks.spawn(async move {
            for i in chunk {
                let spec = LoginSpec {
                    device: Device {
                        name: "Old".into(),
                        os: Os { name: "Linux".into(), ..Default::default() },
                        ..Default::default()
                    },
                    login_at: Some(oldest + i as i64 * 1000),
                    ..Default::default()
                };
                issue_login(&store, &config, &user, spec).await.unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

/// Before the fix, each live row after a run of expired ones cost a round trip of its own.
#[tokio::test]
async fn expired_rows_before_the_live_ones_cost_few_round_trips() {
    const EXPIRED: usize = 3000;
    for shards in [1usize, 8] {
        let env = TestEnv::seeded_with_order_shards(shards as u32).await;
        add_expired(&env, EXPIRED).await;
        let oldest_first = r#"{"loginAt":1}"#;
        for count in [5usize, 50] {
            let (queries, read) = (env.app.store.index_queries(), env.app.store.index_items_read());
            let resp = env
                .send(SessionsListAll, as_roxie().param("sort", oldest_first).param("count", &count.to_string()))
                .await;
            assert_eq!(resp.status, 200, "{}", resp.body);
            let queries = env.app.store.index_queries() - queries;
            let read = env.app.store.index_items_read() - read;
            let rows = ids(&resp);
            assert_eq!(rows.len(), count.min(14));
            // The same rows as the unbounded in-memory path (a filter that matches everything).
            let all = env
                .send(
                    SessionsListAll,
                    as_roxie().param("sort", oldest_first).param("count", &count.to_string()).param("filter", "."),
                )
                .await;
            assert_eq!(rows, ids(&all));

            // Each shard pages through its part of the expired run (a third more than an even
            // share, to allow for the hash): its Limit starts at one row or more and grows by
            // the expired rows already met, so it doubles up to 1000 a page.
            let run = if shards == 1 { EXPIRED } else { EXPIRED * 4 / (3 * shards) };
            let (mut limit, mut covered, mut expired_pages) = (1, 0, 0);
            while covered < run {
                covered += limit;
                expired_pages += 1;
                limit = (1 + covered).min(1000);
            }
            let most = shards * (expired_pages + 2) + count;
            assert!(queries as usize <= most, "{shards} shards, count {count}: {queries} queries, most {most}");
            assert!(
                read as usize <= 2 * EXPIRED + count + shards * 1000,
                "{shards} shards, count {count}: {read} items read"
            );
        }
    }
}

#[tokio::test]
async fn an_offset_past_the_maximum_is_400() {
    let env = TestEnv::seeded().await;
    let own = demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG");
    for (endpoint, req) in [(SessionsListAll, as_roxie()), (SessionsList, Req::new().auth(&own))] {
        let resp = env.send(endpoint, req.clone().param("offset", "10000001")).await;
        assert_reply(&resp, 400, invalid_params("/offset must be <= 10000000"));
        assert_eq!(env.send(endpoint, req.param("offset", "10000000")).await.status, 200);
    }
}

#[tokio::test]
async fn a_filter_past_the_row_budget_is_a_clear_400() {
    let mut env = TestEnv::seeded().await;
    env.app.config.list_scan_max_rows = 3;
    let too_many = env.send(SessionsListAll, as_roxie().param("filter", ".")).await;
    assert_reply(&too_many, 400, invalid_params(TOO_MANY_TO_SORT));
    let two_keys = env.send(SessionsListAll, as_roxie().param("sort", r#"{"device.name":1,"loginAt":-1}"#)).await;
    assert_reply(&two_keys, 400, invalid_params(TOO_MANY_TO_SORT));
    // A narrower filter fits: rodriq has two sessions.
    let narrow = env.send(SessionsListAll, as_roxie().param("filter", "^rodriq$")).await;
    assert_eq!(narrow.status, 200, "{}", narrow.body);
    assert_eq!(narrow.json_body()["total"], json!(2));
    // An unfiltered single-key page needs no budget.
    assert_eq!(env.send(SessionsListAll, as_roxie()).await.json_body()["total"], json!(14));
}

#[tokio::test]
async fn a_full_read_past_its_time_budget_is_a_clear_400() {
    // One order shard, so the 1500 stored rows take several pages of one shard.
    let mut env = TestEnv::seeded_with_order_shards(1).await;
    // Enough stored rows that a full read takes several pages.
    add_expired(&env, 1500).await;
    env.app.config.list_scan_budget_ms = 1;
    let resp = env.send(SessionsListAll, as_roxie().param("filter", ".")).await;
    assert_reply(&resp, 400, invalid_params(TOO_MANY_TO_SORT));
    env.app.config.list_scan_budget_ms = 60_000;
    let resp = env.send(SessionsListAll, as_roxie().param("filter", ".")).await;
    assert_eq!(resp.json_body()["total"], json!(14), "{}", resp.body);
}

/// An unfiltered page past a run of expired rows TTL has yet to remove reads within the
/// budget: past `LIST_SCAN_MAX_ROWS` expired rows, or `LIST_SCAN_BUDGET_MS`, it answers 503
/// (try again: TTL removes them) instead of reading on.
#[tokio::test]
async fn an_unfiltered_page_behind_too_many_expired_rows_is_503() {
    let mut env = TestEnv::seeded().await;
    add_expired(&env, 300).await;
    let oldest_first = || as_roxie().param("sort", r#"{"loginAt":1}"#).param("count", "5");
    let unavailable =
        json!({"success": false, "error": "Service temporarily unavailable, try again [error-service-unavailable]"});
    env.app.config.list_scan_max_rows = 100;
    assert_reply(&env.send(SessionsListAll, oldest_first()).await, 503, unavailable.clone());
    env.app.config.list_scan_max_rows = 1000;
    let fits = env.send(SessionsListAll, oldest_first()).await;
    assert_eq!((fits.status, ids(&fits).len()), (200, 5), "{}", fits.body);
    env.app.config.list_scan_budget_ms = 0;
    assert_reply(&env.send(SessionsListAll, oldest_first()).await, 503, unavailable);
}
