//! One soak client: a device of one user, looping over a mix of calls until the deadline.
//! It holds a few of its user's tokens (a pool), learns each one's session from its first
//! list (`current: true`), and ends only its own sessions; a token that stops working meanwhile
//! was ended by the per-user cap (another client's login), which the checks confirm.
//!
//! Every client has its own address, sent as `CloudFront-Viewer-Address` (the local server runs
//! with `TRUST_CLOUDFRONT_GEO=true`, as behind CloudFront), so per-address limits and
//! remembered 2FA see many clients as they would in production rather than one 127.0.0.1.
//! Wrong passwords come from a few guessing addresses of their own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sessions_api::core::clock::now_ms;
use sessions_api::core::totp::STEP_SECS;

use crate::fixture::{Admin, Fixture};
use crate::http::{Answer, Call, Http};
use crate::record::{Reason, Recorder, Route};

/// The address and User-Agent of every administrator call, so the one step-up of the shared
/// admin token is remembered for all clients (remembered 2FA is bound to both).
pub const ADMIN_ADDRESS: &str = "198.19.255.254";
pub const ADMIN_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// The guessers' User-Agent.
pub const GUESSER_AGENT: &str = "python-requests/2.32.3";

/// Real clients' User-Agents, one per client in turn (browsers and Rocket.Chat's apps).
const AGENTS: [&str; 5] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Rocket.Chat/4.1.0 Chrome/124.0.6367.243 Electron/30.1.2 Safari/537.36",
    "RC Mobile; ios 17.5; v4.49.0 (2024)",
];

/// Most tokens a client holds; past it a login turns into a list. Five clients per user
/// holding up to four each pass a cap of ten, so the cap ends sessions during the soak.
pub const MAX_POOL: usize = 4;

/// What the clients share.
pub struct Shared {
    pub http: Http,
    pub fixture: Fixture,
    pub deadline: Instant,
    pub think: Duration,
    /// Client `i` of `clients` starts `i / clients` of the way through `ramp_up`.
    pub ramp_up: Duration,
    pub clients: usize,
    pub per_user: usize,
    /// The last TOTP step the admin used: each step's code works once, so step-ups take turns.
    pub step_up: tokio::sync::Mutex<i64>,
    /// Calls so far, and those answered 5xx or not at all (for the progress line).
    pub calls: AtomicU64,
    pub bad: AtomicU64,
}

/// The calls a client mixes, and their weights in percent.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Op {
    Login,
    List,
    Info,
    Me,
    ListAll,
    UserSessions,
    Logout,
    LogoutMe,
    Revoke,
    AdminLogout,
    WrongPassword,
    WrongCode,
}

pub(crate) const MIX: [(Op, u32); 12] = [
    (Op::Login, 12),
    (Op::List, 18),
    (Op::Info, 10),
    (Op::Me, 8),
    (Op::ListAll, 8),
    (Op::UserSessions, 4),
    (Op::Logout, 4),
    (Op::LogoutMe, 4),
    (Op::Revoke, 4),
    (Op::AdminLogout, 2),
    (Op::WrongPassword, 16),
    (Op::WrongCode, 10),
];

/// A small deterministic generator (SplitMix64), one per client: the mix needs no more.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One client's state.
pub struct Client {
    pub(crate) shared: Arc<Shared>,
    pub(crate) rng: Rng,
    pub(crate) rec: Recorder,
    /// Indices into `rec.issued` of the tokens this client holds.
    pub(crate) pool: Vec<usize>,
    /// Its user, in `fixture.users`.
    pub(crate) user: usize,
    pub(crate) agent: &'static str,
    /// `CloudFront-Viewer-Address` values: its own, and the guessing address it sends wrong
    /// passwords from.
    pub(crate) viewer: String,
    pub(crate) guesser: String,
}

/// The `n`-th address of 198.18.0.0/15 (RFC 2544's benchmarking range: never a real client,
/// and no location in the geolocation database): 198.18.x.y, or 198.19.x.y when `second`.
pub fn address(n: usize, second: bool) -> String {
    let n = n % 65_534 + 1;
    format!("198.{}.{}.{}", if second { 19 } else { 18 }, n >> 8, n & 255)
}

impl Client {
    pub fn new(shared: Arc<Shared>, i: usize) -> Client {
        let seed = (now_ms() as u64) ^ ((i as u64 + 1) << 32);
        let user = i / shared.per_user.max(1);
        let guessers = shared.fixture.victims.len().max(1);
        Client {
            rng: Rng::new(seed),
            rec: Recorder::default(),
            pool: Vec::new(),
            user: user.min(shared.fixture.users.len() - 1),
            agent: AGENTS[i % AGENTS.len()],
            viewer: format!("{}:{}", address(i, false), 40_000 + i % 20_000),
            guesser: format!("{}:443", address(i % guessers, true)),
            shared,
        }
    }

    /// Waits for its turn in the ramp-up, then loops over the mix until the deadline.
    pub async fn run(mut self, i: usize) -> Recorder {
        let turn = self.shared.ramp_up.mul_f64(i as f64 / self.shared.clients.max(1) as f64);
        tokio::time::sleep(turn).await;
        while Instant::now() < self.shared.deadline {
            let op = if self.pool.is_empty() { Op::Login } else { self.pick() };
            self.step(op).await;
            if !self.shared.think.is_zero() {
                tokio::time::sleep(self.shared.think).await;
            }
        }
        self.rec
    }

    fn pick(&mut self) -> Op {
        let total: u32 = MIX.iter().map(|(_, w)| w).sum();
        let mut r = self.rng.below(total as usize) as u32;
        for (op, w) in MIX {
            if r < w {
                return op;
            }
            r -= w;
        }
        Op::List
    }

    /// Sends `call`, records its answer under `route`.
    pub(crate) async fn call(&mut self, route: Route, call: Call) -> Answer {
        let answer = self.shared.http.send(call).await;
        self.rec.record(route, &answer);
        self.shared.calls.fetch_add(1, Ordering::Relaxed);
        if answer.status == 0 || answer.status >= 500 {
            self.shared.bad.fetch_add(1, Ordering::Relaxed);
        }
        answer
    }

    /// User-Agent and address of this client's device.
    pub(crate) fn device(&self) -> Vec<(&'static str, String)> {
        vec![("user-agent", self.agent.into()), ("cloudfront-viewer-address", self.viewer.clone())]
    }

    /// The device and the token `t` (an index into `rec.issued`).
    pub(crate) fn auth(&self, t: usize) -> Vec<(&'static str, String)> {
        let issued = &self.rec.issued[t];
        let mut h = self.device();
        h.push(("x-user-id", issued.user_id.clone()));
        h.push(("x-auth-token", issued.token.clone()));
        h
    }

    /// A call as the shared administrator. On `totp-required` (the first call, or after the
    /// remembered 2FA lapsed) it steps up, one client at a time, with the current code.
    pub(crate) async fn admin_call(&mut self, route: Route, make: impl Fn() -> Call) -> Answer {
        let shared = Arc::clone(&self.shared);
        let admin = &shared.fixture.admin;
        let answer = self.call(route, make().headers(admin_headers(admin))).await;
        if !answer.totp_required() {
            return answer;
        }
        let mut last_step = shared.step_up.lock().await;
        let answer = self.call(route, make().headers(admin_headers(admin))).await;
        if !answer.totp_required() {
            return answer;
        }
        let code = step_up_code(admin, &mut last_step).await;
        self.call(route, make().headers(admin_headers(admin)).header("x-2fa-code", code)).await
    }

    /// Some token of the pool (not empty when called).
    pub(crate) fn any_held(&mut self) -> usize {
        self.pool[self.rng.below(self.pool.len())]
    }

    /// Some token of the pool whose session is known, and that session's id.
    pub(crate) fn held_session(&mut self) -> Option<(usize, String)> {
        let known: Vec<usize> =
            self.pool.iter().copied().filter(|&t| self.rec.issued[t].session_id.is_some()).collect();
        let t = *known.get(self.rng.below(known.len().max(1)))?;
        Some((t, self.rec.issued[t].session_id.clone()?))
    }

    /// The soak ended `t`'s session (a 2xx answer): the token leaves the pool.
    pub(crate) fn ended(&mut self, t: usize, reason: Reason) {
        self.rec.issued[t].ended = Some(reason);
        self.pool.retain(|&p| p != t);
    }

    /// `t` stopped working without the soak ending it (the cap did): it leaves the pool.
    pub(crate) fn lost(&mut self, t: usize) {
        if self.rec.issued[t].ended.is_none() {
            self.rec.issued[t].found_ended = true;
        }
        self.pool.retain(|&p| p != t);
    }
}

/// The shared administrator's headers: one token, one agent, one address.
pub fn admin_headers(admin: &Admin) -> Vec<(&'static str, String)> {
    vec![
        ("user-agent", ADMIN_AGENT.into()),
        ("cloudfront-viewer-address", format!("{ADMIN_ADDRESS}:443")),
        ("x-user-id", admin.account.user_id.clone()),
        ("x-auth-token", admin.token.clone()),
    ]
}

/// The admin's code for a step not used yet (waits for the next step if this one was).
pub async fn step_up_code(admin: &Admin, last_step: &mut i64) -> String {
    let step_secs = STEP_SECS as i64;
    loop {
        let secs = now_ms() / 1000;
        if secs / step_secs > *last_step {
            *last_step = secs / step_secs;
            return admin.code_at(secs);
        }
        let next_ms = (*last_step + 1) * step_secs * 1000;
        tokio::time::sleep(Duration::from_millis((next_ms - now_ms()).clamp(10, 30_000) as u64)).await;
    }
}
