//! The calls of the mix, one method each: what is sent, and what its answer means for the
//! client's tokens and for the limits.

use serde_json::json;
use sessions_api::core::clock::now_ms;
use sessions_api::core::ids::{new_id, new_token};

use crate::client::{Client, GUESSER_AGENT, MAX_POOL, Op};
use crate::http::Call;
use crate::record::{Counted, Route};

/// list.all's sort orders the soak asks for (URL-encoded JSON), none being the default.
const SORTS: [&str; 5] = [
    "",
    "&sort=%7B%22loginAt%22%3A1%7D",
    "&sort=%7B%22device.name%22%3A1%7D",
    "&sort=%7B%22device.os.name%22%3A-1%7D",
    "&sort=%7B%22_user.username%22%3A1%7D",
];

impl Client {
    pub(crate) async fn step(&mut self, op: Op) {
        match op {
            Op::Login => self.login().await,
            Op::List => {
                let t = self.any_held();
                self.list(t).await
            }
            Op::Info => self.info().await,
            Op::Me => self.me().await,
            Op::ListAll => self.list_all().await,
            Op::UserSessions => self.user_sessions().await,
            Op::Logout => self.logout().await,
            Op::LogoutMe => self.logout_me().await,
            Op::Revoke => self.revoke().await,
            Op::AdminLogout => self.admin_logout().await,
            Op::WrongPassword => self.wrong_password().await,
            Op::WrongCode => self.wrong_code().await,
        }
    }

    /// Logs the client's user in with the right password, then lists with the new token
    /// to learn its session (as an app opening its devices page). A full pool lists instead.
    async fn login(&mut self) {
        if self.pool.len() >= MAX_POOL {
            let t = self.any_held();
            return self.list(t).await;
        }
        let account = &self.shared.fixture.users[self.user];
        let body = json!({"user": account.username, "password": account.password});
        let answer = self.call(Route::Login, Call::post("/api/v1/login", body).headers(self.device())).await;
        let data = &answer.body["data"];
        let (Some(user_id), Some(token)) = (data["userId"].as_str(), data["authToken"].as_str()) else { return };
        if answer.status != 200 {
            return;
        }
        let t = self.rec.issue(user_id, token);
        self.pool.push(t);
        self.list(t).await;
    }

    /// The caller's own sessions; the first list of a token finds its session (`current`).
    async fn list(&mut self, t: usize) {
        let answer = self.call(Route::List, Call::get("/api/v1/sessions/list?count=50").headers(self.auth(t))).await;
        match answer.status {
            200 if self.rec.issued[t].session_id.is_none() => {
                let sessions = answer.body["sessions"].as_array().cloned().unwrap_or_default();
                let current = sessions.iter().find(|s| s["current"] == true).and_then(|s| s["sessionId"].as_str());
                self.rec.issued[t].session_id = current.map(str::to_string);
            }
            401 => self.lost(t),
            _ => {}
        }
    }

    async fn info(&mut self) {
        let Some((t, sid)) = self.held_session() else { return self.me().await };
        let call = Call::get(format!("/api/v1/sessions/info?sessionId={sid}")).headers(self.auth(t));
        if matches!(self.call(Route::Info, call).await.status, 401 | 404) {
            self.lost(t);
        }
    }

    async fn me(&mut self) {
        let t = self.any_held();
        if self.call(Route::Me, Call::get("/api/v1/me").headers(self.auth(t))).await.status == 401 {
            self.lost(t);
        }
    }

    /// A page of every user's sessions, as the shared administrator.
    async fn list_all(&mut self) {
        let offset = 25 * self.rng.below(3);
        let path = format!("/api/v1/sessions/list.all?count=25&offset={offset}{}", SORTS[self.rng.below(SORTS.len())]);
        self.admin_call(Route::ListAll, || Call::get(path.clone())).await;
    }

    /// MonoCloud's list of the client's user's sessions, with the API key.
    async fn user_sessions(&mut self) {
        let user_id = self.shared.fixture.users[self.user].user_id.clone();
        let call = Call::get(format!("/api/users/{user_id}/sessions?page=1&size=10"))
            .header("x-api-key", self.shared.fixture.api_key.0.clone());
        self.call(Route::UserSessions, call).await;
    }

    async fn logout(&mut self) {
        let t = self.any_held();
        match self.call(Route::Logout, Call::post_empty("/api/v1/logout").headers(self.auth(t))).await.status {
            200 => self.ended(t, "logout"),
            401 => self.lost(t),
            _ => {}
        }
    }

    /// Ends one of the pool's sessions with another token of the pool (itself when alone).
    async fn logout_me(&mut self) {
        let Some((target, sid)) = self.held_session() else { return self.logout().await };
        let caller = self.pool.iter().copied().find(|&t| t != target).unwrap_or(target);
        let call = Call::post("/api/v1/sessions/logout.me", json!({"sessionId": sid})).headers(self.auth(caller));
        match self.call(Route::LogoutMe, call).await.status {
            200 => self.ended(target, "logout.me"),
            401 => self.lost(caller),
            404 => self.lost(target),
            _ => {}
        }
    }

    /// MonoCloud's revoke of one of the pool's sessions, with the API key.
    async fn revoke(&mut self) {
        let Some((t, sid)) = self.held_session() else { return self.me().await };
        let user_id = self.rec.issued[t].user_id.clone();
        let call = Call::delete(format!("/api/users/{user_id}/sessions/{sid}"))
            .header("x-api-key", self.shared.fixture.api_key.0.clone());
        match self.call(Route::Revoke, call).await.status {
            204 => self.ended(t, "revoke"),
            404 => self.lost(t),
            _ => {}
        }
    }

    /// The shared administrator ends one of the pool's sessions.
    async fn admin_logout(&mut self) {
        let Some((t, sid)) = self.held_session() else { return self.me().await };
        let body = json!({"sessionId": sid});
        match self.admin_call(Route::AdminLogout, || Call::post("/api/v1/sessions/logout", body.clone())).await.status {
            200 => self.ended(t, "admin.logout"),
            404 => self.lost(t),
            _ => {}
        }
    }

    /// A wrong password from the client's guessing address: for one of the accounts only
    /// guessed at, or for a name no account has (a new one each time).
    async fn wrong_password(&mut self) {
        let victims = &self.shared.fixture.victims;
        let victim = (self.rng.below(2) == 0).then(|| victims[self.rng.below(victims.len())].username.clone());
        let user = victim.clone().unwrap_or_else(|| format!("soak-nobody-{}", new_id().to_lowercase()));
        let headers = vec![("user-agent", GUESSER_AGENT.into()), ("cloudfront-viewer-address", self.guesser.clone())];
        let body = json!({"user": user, "password": new_token()});
        let answer = self.call(Route::LoginWrongPassword, Call::post("/api/v1/login", body).headers(headers)).await;
        if answer.label() == "401 Unauthorized" {
            self.rec.fail(Counted::Address(self.guesser.clone()), &answer);
            if let Some(name) = victim {
                self.rec.fail(Counted::Account(name), &answer);
            }
        }
    }

    /// A wrong TOTP code for one of the administrators only ever given wrong ones: on
    /// list.all with its token, or at its login with the right password.
    async fn wrong_code(&mut self) {
        let shared = std::sync::Arc::clone(&self.shared);
        let admin = &shared.fixture.wrong_code[self.rng.below(shared.fixture.wrong_code.len())];
        let code = admin.wrong_code(now_ms() / 1000);
        let answer = if self.rng.below(2) == 0 {
            let call = Call::get("/api/v1/sessions/list.all?count=5")
                .headers(self.device())
                .header("x-user-id", admin.account.user_id.clone())
                .header("x-auth-token", admin.token.clone())
                .header("x-2fa-code", code);
            self.call(Route::ListAllWrongCode, call).await
        } else {
            let body = json!({"user": admin.account.username, "password": admin.account.password, "code": code});
            self.call(Route::LoginWrongCode, Call::post("/api/v1/login", body).headers(self.device())).await
        };
        if answer.label() == "400 totp-invalid" {
            self.rec.fail(Counted::SecondFactor(admin.account.username.clone()), &answer);
        }
    }
}
