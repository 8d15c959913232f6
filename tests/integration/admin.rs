//! list.all, info.admin and logout (administrator), with permissions and check order.

use serde_json::{Value, json};
use sessions_api::Endpoint::{SessionsInfoAdmin, SessionsList, SessionsListAll, SessionsLogout};
use sessions_api::core::clock::now_ms;
use sessions_api::core::permissions::VIEW_DEVICE_MANAGEMENT;
use sessions_api::store::{PermissionStore, UserAdmin};

use crate::support::*;

fn roxie() -> (String, String) {
    demo_auth(ROXIE_ID, ROXIE_SESSION)
}

/// testroxie with the password-method code: reusable, unlike TOTP codes.
fn as_roxie() -> Req {
    Req::new().auth(&roxie()).code(&password_code(DEMO_PASSWORD))
}

fn forbidden() -> Value {
    json!({"success": false, "error": "User does not have the permissions required for this action [error-unauthorized]"})
}

const ALL_DEMO_SESSIONS: usize = 14;

#[tokio::test]
async fn list_all_shows_every_users_sessions_with_user() {
    let env = TestEnv::seeded().await;
    let resp = env.send(SessionsListAll, as_roxie().param("count", "100")).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json_body();
    assert_eq!(
        (body["total"].clone(), body["count"].clone(), body["offset"].clone()),
        (json!(14), json!(100), json!(0))
    );
    let rows = body["sessions"].as_array().unwrap();
    assert_eq!(rows.len(), ALL_DEMO_SESSIONS);
    let users: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["userId"].as_str().unwrap()).collect();
    assert_eq!(users.len(), 9);
    for r in rows {
        assert!(r.get("current").is_none());
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["sessionId", "userId", "device", "host", "ip", "loginAt", "_user", "_id"]);
    }
    let nameless = rows.iter().find(|r| r["sessionId"] == "fsfE772s78AmPxGKk").unwrap();
    assert_eq!(nameless["_user"], json!({"username": "user-0"}));
    let logins: Vec<&str> = rows.iter().map(|r| r["loginAt"].as_str().unwrap()).collect();
    assert!(logins.windows(2).all(|w| w[0] >= w[1]), "default sort is loginAt descending");
}

#[tokio::test]
async fn list_all_pages_every_sort_key_from_its_index() {
    let env = TestEnv::seeded().await;
    let rows = env.send(SessionsListAll, as_roxie().param("count", "100")).await.json_body()["sessions"]
        .as_array()
        .unwrap()
        .clone();
    for key in ["loginAt", "device.name", "device.os.name", "device.os.version", "_user.name", "_user.username"] {
        for dir in [1, -1] {
            let sort = format!("{{\"{key}\":{dir}}}");
            let mut paged = Vec::new();
            for offset in (0..16).step_by(2) {
                let resp = env
                    .send(
                        SessionsListAll,
                        as_roxie().param("sort", &sort).param("count", "2").param("offset", &offset.to_string()),
                    )
                    .await;
                assert_eq!(resp.status, 200, "{sort}: {}", resp.body);
                assert_eq!(resp.json_body()["total"], json!(ALL_DEMO_SESSIONS));
                paged.extend(ids(&resp));
            }
            let expected = expected_order(&rows, key, dir);
            assert_eq!(paged, expected, "{sort}");
        }
    }
}

#[tokio::test]
async fn list_all_filters_on_user_fields_and_counts_matches() {
    let env = TestEnv::seeded().await;
    for (filter, total) in
        [("^rodriq$", 2), ("rocket agent", 1), ("firefox", 3), ("TESTROXIE|guester", 3), ("nobody", 0)]
    {
        let resp = env.send(SessionsListAll, as_roxie().param("filter", filter).param("count", "1")).await;
        assert_eq!(resp.status, 200, "{filter}: {}", resp.body);
        assert_eq!(resp.json_body()["total"], json!(total), "filter {filter}");
        assert_eq!(ids(&resp).len(), total.min(1), "filter {filter}");
    }
    // A multi-key sort is served too, in key order.
    let resp = env
        .send(SessionsListAll, as_roxie().param("sort", r#"{"_user.username":1,"loginAt":-1}"#).param("count", "5"))
        .await;
    // admin, guester, rocket.agent, then rodriq's two sessions newest first.
    assert_eq!(
        ids(&resp),
        ["hM6bYJqLoXZ3rDe4C", "W4y9xkjyqFvbjENco", "jfD6mnHnrEJdPq9MF", "uBNL9dTjJ4s6Pjp4K", "2jQnfG74X3EZYL9tj"]
    );
}

#[tokio::test]
async fn users_without_the_permission_get_403_before_any_2fa_prompt() {
    let env = TestEnv::seeded().await;
    let user = demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG");
    for (endpoint, req) in [
        (SessionsListAll, Req::new().auth(&user)),
        (SessionsListAll, Req::new().auth(&user).query("offset=-1&bogus=1")),
        (SessionsInfoAdmin, Req::new().auth(&user).param("sessionId", "o94SveQp6fyPsoiNC")),
        (SessionsLogout, Req::new().auth(&user).json(json!({"sessionId": "o94SveQp6fyPsoiNC"}))),
        (SessionsLogout, Req::new().auth(&user).body("not json")),
    ] {
        assert_reply(&env.send(endpoint, req).await, 403, forbidden());
    }
}

#[tokio::test]
async fn check_order_is_auth_permission_parameters_then_2fa() {
    let env = TestEnv::seeded().await;
    // Unauthenticated with bad parameters: 401.
    assert_reply(&env.send(SessionsListAll, Req::new().query("count=abc")).await, 401, unauthorized());
    assert_reply(&env.send(SessionsInfoAdmin, Req::new()).await, 401, unauthorized());
    assert_reply(&env.send(SessionsLogout, Req::new().body("{")).await, 401, unauthorized());
    // Permitted, bad parameters, no code: the parameter error comes before the 2FA prompt.
    let resp = env.send(SessionsListAll, Req::new().auth(&roxie()).param("count", "abc")).await;
    assert_reply(&resp, 400, invalid_params("/count must be integer"));
    let resp = env.send(SessionsInfoAdmin, Req::new().auth(&roxie())).await;
    assert_reply(&resp, 400, invalid_params("must have required property 'sessionId'"));
    let resp = env.send(SessionsLogout, Req::new().auth(&roxie()).body("{}")).await;
    assert_reply(&resp, 400, invalid_params("must have required property 'sessionId'"));
    let resp = env.send(SessionsListAll, Req::new().auth(&roxie()).param("sort", r#"{"ip":1}"#)).await;
    assert_reply(&resp, 400, json!({"success": false, "error": "error-invalid-sort-keys"}));
}

#[tokio::test]
async fn info_admin_reads_any_session() {
    let env = TestEnv::seeded().await;
    let resp = env.send(SessionsInfoAdmin, as_roxie().param("sessionId", "uBNL9dTjJ4s6Pjp4K")).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let body = resp.json_body();
    assert_eq!(body["userId"], "rYhzFRd2QZjNwAAXX");
    assert_eq!(body["_user"], json!({"username": "rodriq", "name": "Rodriq"}));
    assert_eq!(body["success"], json!(true));
    assert!(body.get("current").is_none());
    assert!(body.get("location").is_none(), "a session nothing located has no location: {body}");
    let located = env.send(SessionsInfoAdmin, as_roxie().param("sessionId", "QoYYFw2t9oKks2niG")).await;
    assert_eq!(located.json_body()["location"]["city"], "Los Angeles", "{}", located.body);
    assert_reply(
        &env.send(SessionsInfoAdmin, as_roxie().param("sessionId", "unknownSession123")).await,
        404,
        not_found(),
    );
    assert_reply(
        &env.send(SessionsInfoAdmin, as_roxie()).await,
        400,
        invalid_params("must have required property 'sessionId'"),
    );
}

#[tokio::test]
async fn admin_logout_ends_another_users_session_at_once() {
    let env = TestEnv::seeded().await;
    let owner = demo_auth(TEST_USER_ID, "WJ2giBwm4B9mcojFi");
    let resp = env.send(SessionsLogout, as_roxie().json(json!({"sessionId": "WJ2giBwm4B9mcojFi"}))).await;
    assert_reply(&resp, 200, json!({"sessionId": "WJ2giBwm4B9mcojFi", "success": true}));
    assert_reply(&env.send(SessionsList, Req::new().auth(&owner)).await, 401, unauthorized());
    let own = ids(&env.send(SessionsList, Req::new().auth(&demo_auth(TEST_USER_ID, "QoYYFw2t9oKks2niG"))).await);
    assert!(!own.contains(&"WJ2giBwm4B9mcojFi".to_string()));
    assert_eq!(own.len(), 3);
    let all = env.send(SessionsListAll, as_roxie().param("count", "100")).await.json_body();
    assert_eq!(all["total"], json!(ALL_DEMO_SESSIONS - 1));
    let again = env.send(SessionsLogout, as_roxie().json(json!({"sessionId": "WJ2giBwm4B9mcojFi"}))).await;
    assert_reply(&again, 404, not_found());
    assert_reply(&env.send(SessionsLogout, as_roxie().json(json!({"sessionId": "nope"}))).await, 404, not_found());
}

#[tokio::test]
async fn a_viewer_can_list_but_not_log_out() {
    let env = TestEnv::seeded().await;
    env.app.store.set_permission_roles(VIEW_DEVICE_MANAGEMENT, &["admin".into(), "auditor".into()]).await.unwrap();
    env.app.store.set_roles("GonjPyg3gB3Z9ur9s", &["user".into(), "auditor".into()]).await.unwrap();
    let auditor = demo_auth("GonjPyg3gB3Z9ur9s", "tTouumJMrHMjnedWf");
    let code = password_code(DEMO_PASSWORD);
    let resp = env.send(SessionsListAll, Req::new().auth(&auditor).code(&code)).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let before = env.snapshot().await;
    let resp = env
        .send(SessionsLogout, Req::new().auth(&auditor).code(&code).json(json!({"sessionId": "o94SveQp6fyPsoiNC"})))
        .await;
    assert_reply(&resp, 403, forbidden());
    assert_eq!(env.snapshot().await, before);
}

#[tokio::test]
async fn revoking_the_admin_role_takes_effect_at_once() {
    let env = TestEnv::seeded().await;
    assert_eq!(env.send(SessionsListAll, as_roxie()).await.status, 200);
    sessions_cli::admin::change_role(&env.app.store, "testroxie", "admin", false).await.unwrap();
    assert_reply(&env.send(SessionsListAll, as_roxie()).await, 403, forbidden());
}

/// An unfiltered page reads offset + count index items, however many sessions exist.
#[tokio::test]
async fn an_unfiltered_page_reads_offset_plus_count_items() {
    // One order shard: exactly offset + count (order_shards.rs bounds the sharded merge).
    let env = TestEnv::seeded_with_order_shards(1).await;
    let t = now_ms() - 60_000;
    for i in 0..40 {
        env.login(TEST_USER_ID, if i % 2 == 0 { "Chrome" } else { "Safari" }, "Linux", t + i).await;
    }
    assert_eq!(env.send(SessionsListAll, as_roxie().param("count", "0")).await.json_body()["total"], json!(54));
    for (sort, offset, count) in
        [(r#"{"loginAt":-1}"#, 0, 5), (r#"{"device.name":1}"#, 10, 5), (r#"{"_user.username":-1}"#, 3, 2)]
    {
        let before = env.app.store.index_items_read();
        let resp = env
            .send(
                SessionsListAll,
                as_roxie().param("sort", sort).param("offset", &offset.to_string()).param("count", &count.to_string()),
            )
            .await;
        assert_eq!(ids(&resp).len(), count);
        assert_eq!(resp.json_body()["total"], json!(54));
        let read = env.app.store.index_items_read() - before;
        assert_eq!(read, (offset + count) as u64, "{sort} offset {offset} count {count}");
    }
}

/// A deactivated user's token gets 401 on every route it could call, and nothing changes.
#[tokio::test]
async fn a_deactivated_users_token_gets_401_everywhere() {
    use sessions_api::Endpoint::{Login, Logout, SessionsInfo, SessionsLogoutMe};
    let env = TestEnv::seeded().await;
    sessions_cli::admin::set_user_active(&env.app.store, "testroxie", false).await.unwrap();
    let before = env.snapshot().await;
    let session = json!({ "sessionId": ROXIE_SESSION });
    let calls = [
        (SessionsList, as_roxie()),
        (SessionsInfo, as_roxie().param("sessionId", ROXIE_SESSION)),
        (SessionsLogoutMe, as_roxie().json(session.clone())),
        (SessionsListAll, as_roxie()),
        (SessionsInfoAdmin, as_roxie().param("sessionId", ROXIE_SESSION)),
        (SessionsLogout, as_roxie().json(session.clone())),
        (Logout, as_roxie()),
    ];
    for (endpoint, req) in calls {
        assert_reply(&env.send(endpoint, req).await, 401, unauthorized());
    }
    assert_eq!(env.snapshot().await, before);
    // Nor can they sign in (a failed login may be counted, so after the snapshot).
    let login = Req::new().json(json!({"user": "testroxie", "password": DEMO_PASSWORD}));
    assert_reply(
        &env.send(Login, login).await,
        401,
        json!({"status": "error", "error": "Unauthorized", "message": "Unauthorized"}),
    );

    // Deactivation ended every session: activated again, the old token still gets 401.
    sessions_cli::admin::set_user_active(&env.app.store, "testroxie", true).await.unwrap();
    assert_reply(&env.send(SessionsList, as_roxie()).await, 401, unauthorized());
}

/// The by-id index lags its writes for a moment (a global secondary index is eventually
/// consistent): a session it does not show yet is answered by info.admin and ended by the
/// admin logout all the same, found from its owner item written with it.
#[tokio::test]
async fn a_session_the_by_id_index_does_not_show_yet_is_answered_and_ended() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let env = TestEnv::seeded().await;
    let fresh = env.login(TEST_USER_ID, "Firefox", "Linux", now_ms()).await;
    let sid = fresh.session.session_id.clone();
    // As the index stands a moment after the write: without the session.
    env.app
        .store
        .client()
        .update_item()
        .table_name(env.app.store.table())
        .key("PK", AttributeValue::S(format!("USER#{TEST_USER_ID}")))
        .key("SK", AttributeValue::S(format!("SESSION#{sid}")))
        .update_expression("REMOVE GSI1PK")
        .send()
        .await
        .unwrap();
    let info = env.send(SessionsInfoAdmin, as_roxie().param("sessionId", &sid)).await;
    assert_eq!((info.status, info.json_body()["_id"].as_str()), (200, Some(sid.as_str())), "{}", info.body);
    let ended = env.send(SessionsLogout, as_roxie().json(json!({"sessionId": sid}))).await;
    assert_eq!(ended.status, 200, "{}", ended.body);
    let own = env.send(SessionsList, Req::new().auth(&(TEST_USER_ID.to_string(), fresh.token))).await;
    assert_eq!(own.status, 401, "{}", own.body);
}
