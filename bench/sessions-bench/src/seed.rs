//! Benchmark data: users with 100 sessions each on realistic devices (real User-Agents,
//! parsed as a login parses them), logins spread over the last 80 days, loaded with batch
//! writes. Plus an administrator, a user to log in and out, and an API key.

use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use sessions_api::App;
use sessions_api::core::clock::now_ms;
use sessions_api::core::device::parse_user_agent;
use sessions_api::core::ids::{hash_token, new_id, new_token};
use sessions_api::core::model::{Geo, Session, User};
use sessions_api::store::SessionBulkLoader;
use sessions_cli::admin::{LoginSpec, NewUser, create_api_key, create_user, init_permissions, issue_login};

pub const PASSWORD: &str = "bench-password";
pub const LOGIN_USER: &str = "bench-login";
const SESSIONS_PER_USER: usize = 100;

pub const USER_AGENTS: [&str; 10] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.61",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Rocket.Chat/3.9.11 Chrome/114.0.5735.289 Electron/25.9.0 Safari/537.36",
    "RC Mobile; ios 17.1; v4.44.0 (2023)",
    "RC Mobile; android 14; v4.44.0 (2023)",
];

const NAMES: [&str; 12] =
    ["Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger", "Radia", "Donald", "Sophie"];

/// What the benchmark calls with.
pub struct Fixture {
    pub user_id: String,
    pub user_token: String,
    pub admin_id: String,
    pub admin_token: String,
    pub api_key: String,
    pub some_session_id: String,
}

fn session(user: &User, i: usize, now: i64, lifetime: i64) -> (Session, String) {
    let ua = USER_AGENTS[i % USER_AGENTS.len()];
    // Spread over 80 days, all live for at least ten more days.
    let login_at = now - ((i as i64 * 7_919_333) % (80 * 86_400_000));
    let session = Session {
        session_id: new_id(),
        user_id: user.user_id.clone(),
        device: parse_user_agent(ua),
        host: "chat.example.com".into(),
        ip: format!("198.51.{}.{}", (i / 250) % 250, i % 250),
        user_agent: ua.into(),
        login_at,
        last_activity_at: login_at,
        last_use: None,
        risk: None,
        expires_at: login_at / 1000 + lifetime,
        client_ids: Vec::new(),
        geo: Geo::default(),
        user: user.as_ref(),
    };
    (session, hash_token(&new_token()))
}

async fn user(app: &App, username: String, roles: &[&str]) -> User {
    let name = Some(format!("{} {}", NAMES[username.len() % NAMES.len()], username));
    let new = NewUser {
        user_id: None,
        username,
        name,
        emails: Vec::new(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        password: Some(PASSWORD.into()),
    };
    create_user(&app.store, &app.config, new).await.expect("create user")
}

/// Seeds `sessions` sessions (a multiple of 100 users' worth, at least one user's).
pub async fn seed(app: &Arc<App>, sessions: usize) -> Fixture {
    let users = sessions.div_ceil(SESSIONS_PER_USER).max(1);
    let bar = ProgressBar::new(sessions as u64)
        .with_style(ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} {eta}").expect("style"));
    bar.set_message(format!("{sessions} sessions: seeding"));
    init_permissions(&app.store).await.expect("permissions");
    let now = now_ms();
    let mut tasks = tokio::task::JoinSet::new();
    let mut first = None;
    let mut started = 0usize;
    for u in 0..users {
        let owner = user(app, format!("user{u:06}"), &["user"]).await;
        // The first user's 100th session is the login below, which gives the benchmark its token.
        let n = (SESSIONS_PER_USER - usize::from(u == 0)).min(sessions.saturating_sub(started));
        let batch: Vec<_> = (0..n).map(|i| session(&owner, started + i, now, app.config.token_lifetime_secs)).collect();
        started += n;
        if n == 0 {
            continue;
        }
        if first.is_none() {
            first = Some((owner.clone(), batch[0].0.session_id.clone()));
        }
        let app = app.clone();
        let bar = bar.clone();
        tasks.spawn(async move {
            app.store.load_sessions(&batch).await.expect("load sessions");
            bar.inc(batch.len() as u64);
        });
        while tasks.len() >= 8 {
            tasks.join_next().await.expect("a task").expect("seeding task");
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("seeding task");
    }
    bar.finish_and_clear();
    let (owner, some_session_id) = first.expect("at least one user");
    let spec = || LoginSpec { user_agent: USER_AGENTS[0].into(), ..Default::default() };
    let user_login = issue_login(&app.store, &app.config, &owner, spec()).await.expect("user login");
    let admin = user(app, "bench-admin".into(), &["admin"]).await;
    let admin_login = issue_login(&app.store, &app.config, &admin, spec()).await.expect("admin login");
    user(app, LOGIN_USER.into(), &["user"]).await;
    let (_, api_key) = create_api_key(&app.store, "bench", None, None, now).await.expect("api key");
    Fixture {
        user_id: owner.user_id,
        user_token: user_login.token,
        admin_id: admin.user_id,
        admin_token: admin_login.token,
        api_key,
        some_session_id,
    }
}
