//! The route table: every route declared once, in [`routes!`] below (endpoint, function,
//! methods, path, handler), from which the [`Endpoint`] enum, each function's [`Serve`]
//! entry, routing with its 404/405 answers, and the tests that compare the table with
//! openapi.yaml and template.yaml all read. Functions, the local server and the tests all
//! go through [`handle_with`].

use std::collections::HashMap;

use lambda_http::RequestExt;

use crate::app::App;
use crate::core::clock::{Millis, now_ms};
use crate::monocloud::handlers::{self as mc, McReply};
use crate::request::{ApiRequest, RequestView};
use crate::response::{Response, json};
use crate::rocketchat::handlers::{Reply, account, admin, login, preferences, sessions, users};

/// The functions that serve no route: the table-stream consumer that counts TTL removals
/// (crate::expiry) and the Lambda authorizer other HTTP APIs attach (crate::authorizer).
pub const OTHER_FUNCTIONS: [&str; 2] = ["session-stream", "authorizer"];

/// One endpoint's work: the prepared request in, the wire response out. A plain function
/// per endpoint, so a function binary that names only its own links only its own handler.
pub type Serve = for<'a> fn(&'a App, &'a ApiRequest, Millis) -> BoxFuture<'a, Response>;

/// A boxed, sendable future (what every [`Serve`] returns).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Declares every route once. Each entry: the endpoint, its function crate (under
/// functions/, and its template resource), its methods (the first is the primary one), its
/// path pattern (`{name}` is one segment), and the dialect and handler that serve it. Each
/// field becomes its own `match`, so reading a route's path does not link its handler.
macro_rules! routes {
    ($(
        $(#[doc = $doc:literal])*
        $endpoint:ident => $function:literal, [$($method:literal),+], $path:literal,
            $dialect:ident::$serve:ident(|$app:ident, $req:ident, $now:ident| $body:expr);
    )*) => {
        /// Every endpoint of the API.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Endpoint {
            $($(#[doc = $doc])* $endpoint,)*
        }

        impl Endpoint {
            const COUNT: usize = [$(stringify!($endpoint)),*].len();
            /// Every endpoint, in the table's order.
            pub const ALL: [Endpoint; Self::COUNT] = [$(Endpoint::$endpoint),*];

            /// The function crate (under functions/) and template resource that serve it.
            pub fn function(self) -> &'static str {
                match self { $(Endpoint::$endpoint => $function,)* }
            }

            /// Every method the route answers; the first is its primary one.
            pub fn methods(self) -> &'static [&'static str] {
                match self { $(Endpoint::$endpoint => &[$($method),+],)* }
            }

            /// The path pattern, as API Gateway declares it.
            pub fn path(self) -> &'static str {
                match self { $(Endpoint::$endpoint => $path,)* }
            }

            /// The endpoint's [`Serve`] function (the local server and tests route through
            /// it; a function binary names its own directly).
            pub fn serve(self) -> Serve {
                match self { $(Endpoint::$endpoint => serve::$serve,)* }
            }
        }

        /// The [`Serve`] function of every endpoint, each answering in its own dialect.
        pub mod serve {
            use super::*;
            $(
                pub fn $serve<'a>($app: &'a App, $req: &'a ApiRequest, $now: Millis) -> BoxFuture<'a, Response> {
                    Box::pin(async move { crate::$dialect::wire::respond_to($req, $body) })
                }
            )*
        }
    };
}

routes! {
    /// The caller's own sessions.
    SessionsList => "sessions-list", ["GET"], "/api/v1/sessions/list",
        rocketchat::sessions_list(|a, req, now| sessions::list(&a.store, &a.config, req, now).await.map(Reply::Page));
    /// One of the caller's own sessions.
    SessionsInfo => "sessions-info", ["GET"], "/api/v1/sessions/info",
        rocketchat::sessions_info(|a, req, now| {
            sessions::info(&a.store, req, now).await.map(|i| Reply::Info(Box::new(i)))
        });
    /// Ends one of the caller's own sessions.
    SessionsLogoutMe => "sessions-logout-me", ["POST"], "/api/v1/sessions/logout.me",
        rocketchat::sessions_logout_me(|a, req, now| sessions::logout_me(&a.store, req, now).await.map(Reply::Ended));
    /// Every user's sessions (step-up 2FA, view-device-management).
    SessionsListAll => "sessions-list-all", ["GET"], "/api/v1/sessions/list.all",
        rocketchat::sessions_list_all(|a, req, now| {
            admin::list_all(&a.store, &a.mailer, &a.config, req, now).await.map(Reply::Page)
        });
    /// Any session (step-up 2FA, view-device-management).
    SessionsInfoAdmin => "sessions-info-admin", ["GET"], "/api/v1/sessions/info.admin",
        rocketchat::sessions_info_admin(|a, req, now| {
            admin::info_admin(&a.store, &a.mailer, &a.config, req, now).await.map(Reply::from)
        });
    /// Ends any session (step-up 2FA, logout-device-management).
    SessionsLogout => "sessions-logout", ["POST"], "/api/v1/sessions/logout",
        rocketchat::sessions_logout(|a, req, now| {
            admin::logout(&a.store, &a.mailer, &a.config, req, now).await.map(Reply::Ended)
        });
    /// A user's sessions, by API key.
    UserSessionsList => "user-sessions-list", ["GET"], "/api/users/{user_id}/sessions",
        monocloud::user_sessions_list(|a, req, now| mc::sessions::list(&a.store, req, now).await.map(McReply::Page));
    /// One of a user's sessions, by API key.
    UserSessionGet => "user-session-get", ["GET"], "/api/users/{user_id}/sessions/{session_id}",
        monocloud::user_session_get(|a, req, now| {
            mc::sessions::get(&a.store, req, now).await.map(|s| McReply::Session(Box::new(s)))
        });
    /// Revokes one of a user's sessions, by API key.
    UserSessionRevoke => "user-session-revoke", ["DELETE"], "/api/users/{user_id}/sessions/{session_id}",
        monocloud::user_session_revoke(|a, req, now| {
            mc::sessions::revoke(&a.store, req, now).await.map(|()| McReply::Revoked)
        });
    /// Revokes every session of a user but one, by API key.
    UserSessionsRevokeAll => "user-sessions-revoke-all", ["DELETE"], "/api/users/{user_id}/sessions",
        monocloud::user_sessions_revoke_all(|a, req, now| {
            mc::sessions::revoke_all(&a.store, req, now).await.map(McReply::RevokedCount)
        });
    /// The audit log: sign-ins, refusals and session ends, by API key.
    LogsList => "logs-list", ["GET"], "/api/logs",
        monocloud::logs_list(|a, req, now| {
            mc::logs::list(&a.store, &a.config, req, now).await.map(|p| McReply::Logs(Box::new(p)))
        });
    /// Signs in: a new session and its token.
    Login => "login", ["POST"], "/api/v1/login",
        rocketchat::login(|a, req, now| {
            login::login(&a.store, &a.mailer, &a.config, req, now).await.map(|l| Reply::LoggedIn(Box::new(l)))
        });
    /// Signs out: ends the caller's session (GET too, as Rocket.Chat has it).
    Logout => "logout", ["POST", "GET"], "/api/v1/logout",
        rocketchat::logout(|a, req, now| login::logout(&a.store, req, now).await.map(|()| Reply::LoggedOut));
    /// Ends every session of the caller but this one, with a new token for it.
    UsersLogoutOtherClients => "users-logout-other-clients", ["POST"], "/api/v1/users.logoutOtherClients",
        rocketchat::users_logout_other_clients(|a, req, now| {
            account::logout_other_clients(&a.store, req, now).await.map(Reply::OtherClientsLoggedOut)
        });
    /// Ends every session of the caller but this one.
    UsersRemoveOtherTokens => "users-remove-other-tokens", ["POST"], "/api/v1/users.removeOtherTokens",
        rocketchat::users_remove_other_tokens(|a, req, now| {
            account::remove_other_tokens(&a.store, req, now).await.map(|()| Reply::Success)
        });
    /// The caller's account.
    Me => "me", ["GET"], "/api/v1/me",
        rocketchat::me(|a, req, now| account::me(&a.store, req, now).await.map(|u| Reply::Me(Box::new(u))));
    /// Saves the caller's preferences (receiveLoginDetectionEmail).
    UsersSetPreferences => "users-set-preferences", ["POST"], "/api/v1/users.setPreferences",
        rocketchat::users_set_preferences(|a, req, now| {
            preferences::set_preferences(&a.store, req, now).await.map(|p| Reply::PreferencesSaved(Box::new(p)))
        });
    /// The caller's saved preferences.
    UsersGetPreferences => "users-get-preferences", ["GET"], "/api/v1/users.getPreferences",
        rocketchat::users_get_preferences(|a, req, now| {
            preferences::get_preferences(&a.store, req, now).await.map(Reply::Preferences)
        });
    /// Ends every session of a user (its own, or another's with logout-other-user).
    UsersLogout => "users-logout", ["POST"], "/api/v1/users.logout",
        rocketchat::users_logout(|a, req, now| account::logout_user(&a.store, req, now).await.map(Reply::UserLoggedOut));
    /// Deactivates a user, ending every session of it, or activates it again.
    UsersSetActiveStatus => "users-set-active-status", ["POST"], "/api/v1/users.setActiveStatus",
        rocketchat::users_set_active_status(|a, req, now| {
            users::set_active_status(&a.store, req, now).await.map(Reply::ActiveStatus)
        });
    /// Disables a user, revoking every session of it, by API key.
    UserDisable => "user-disable", ["POST"], "/api/users/{user_id}/disable",
        monocloud::user_disable(|a, req, now| mc::users::disable(&a.store, &a.config, req, now).await.map(|u| McReply::User(Box::new(u))));
    /// Enables a disabled user, by API key.
    UserEnable => "user-enable", ["POST"], "/api/users/{user_id}/enable",
        monocloud::user_enable(|a, req, now| mc::users::enable(&a.store, &a.config, req, now).await.map(|u| McReply::User(Box::new(u))));
    /// A user, with its account's failed-login block, by API key.
    UserGet => "user-get", ["GET"], "/api/users/{user_id}",
        monocloud::user_get(|a, req, now| mc::blocks::get_user(&a.store, &a.config, req, now).await.map(|u| McReply::User(Box::new(u))));
    /// Clears a user's failed-login block, by API key.
    UserUnblock => "user-unblock", ["POST"], "/api/users/{user_id}/unblock",
        monocloud::user_unblock(|a, req, now| mc::blocks::unblock(&a.store, req, now).await.map(|u| McReply::User(Box::new(u))));
    /// The blocked addresses a user's recent sign-ins came from, by API key.
    UserBlockedIps => "user-blocked-ips", ["GET"], "/api/users/{user_id}/blocked_ips",
        monocloud::user_blocked_ips(|a, req, now| {
            mc::blocks::blocked_ips(&a.store, &a.config, req, now).await.map(|p| McReply::BlockedIps(Box::new(p)))
        });
    /// The device-management console: one HTML page over the Rocket.Chat routes (docs/console.md).
    Console => "console-page", ["GET"], "/console",
        console::console_page(|_a, req, _now| crate::console::page());
    /// Clears the block of one address, or of every address of a user's recent sign-ins.
    UserUnblockIp => "user-unblock-ip", ["POST"], "/api/users/{user_id}/blocked_ips/unblock",
        monocloud::user_unblock_ip(|a, req, now| {
            mc::blocks::unblock_ip(&a.store, &a.config, req, now).await.map(|u| McReply::User(Box::new(u)))
        });
}

impl Endpoint {
    /// The route's primary method.
    pub fn method(self) -> &'static str {
        self.methods()[0]
    }

    /// The path parameters if `path` matches this endpoint's route (`{name}` is one segment).
    pub fn match_path(self, path: &str) -> Option<HashMap<String, String>> {
        let pattern: Vec<&str> = self.path().split('/').collect();
        let actual: Vec<&str> = path.split('/').collect();
        if pattern.len() != actual.len() {
            return None;
        }
        let mut params = HashMap::new();
        for (p, a) in pattern.iter().zip(&actual) {
            match p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if !a.is_empty() => {
                    let decoded = percent_encoding::percent_decode_str(a).decode_utf8().ok()?;
                    params.insert(name.to_string(), decoded.into_owned());
                }
                Some(_) => return None,
                None if p == a => {}
                None => return None,
            }
        }
        Some(params)
    }

    /// The endpoint for a method and path, as API Gateway routes them.
    pub fn route(method: &str, path: &str) -> Result<(Endpoint, HashMap<String, String>), RouteError> {
        let mut allowed = Vec::new();
        for e in Endpoint::ALL {
            if let Some(params) = e.match_path(path) {
                if e.methods().iter().any(|m| m.eq_ignore_ascii_case(method)) {
                    return Ok((e, params));
                }
                allowed.extend(e.methods());
            }
        }
        Err(if allowed.is_empty() { RouteError::NotFound } else { RouteError::MethodNotAllowed(allowed) })
    }
}

/// Why no endpoint serves a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    /// The path exists with these methods only (the `Allow` header).
    MethodNotAllowed(Vec<&'static str>),
}

/// Runs one request through its endpoint (the local server and tests).
pub async fn handle(app: &App, endpoint: Endpoint, req: lambda_http::Request) -> Response {
    handle_with(app, endpoint, endpoint.serve(), req).await
}

/// Runs one request through `serve`: path parameters filled from the route where the event
/// source gives none (ALB, a Function URL), then the endpoint's work, then whatever it
/// started beside its own (an activity write): Lambda freezes the environment once it answers.
pub async fn handle_with(app: &App, endpoint: Endpoint, serve: Serve, req: lambda_http::Request) -> Response {
    let now = now_ms();
    let req = if endpoint.path().contains('{') && req.path_parameters_ref().is_none_or(|p| p.is_empty()) {
        let params = endpoint.match_path(&req.route_path()).unwrap_or_default();
        req.with_path_parameters(params)
    } else {
        req
    };
    let req = ApiRequest::new(req);
    // Behind the template's CloudFront front, a request that went around it (no secret in
    // X-Origin-Verify) is refused before anything is read.
    if !app.config.origin_verify.admits(req.header(ORIGIN_VERIFY_HEADER)) {
        return json(403, "application/json", r#"{"message":"Forbidden"}"#.into());
    }
    let response = serve(app, &req, now).await;
    req.settle().await;
    response
}

/// The header CloudFront adds to every request it forwards when the template's front is on.
pub const ORIGIN_VERIFY_HEADER: &str = "x-origin-verify";

/// Routes a request by method and path, as API Gateway does, then handles it: the one
/// `http` service of the local server. Unrouted requests get API Gateway's JSON answers.
pub async fn dispatch(app: &App, req: lambda_http::Request) -> Response {
    match Endpoint::route(req.method().as_str(), &req.route_path()) {
        Ok((endpoint, params)) => handle(app, endpoint, req.with_path_parameters(params)).await,
        Err(RouteError::NotFound) => json(404, "application/json", r#"{"message":"Not Found"}"#.into()),
        Err(RouteError::MethodNotAllowed(methods)) => {
            let mut resp = json(405, "application/json", r#"{"message":"Method Not Allowed"}"#.into());
            if let Ok(allow) = http::HeaderValue::try_from(methods.join(", ")) {
                resp.headers_mut().insert(http::header::ALLOW, allow);
            }
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_unique_and_found() {
        for e in Endpoint::ALL {
            let concrete = e.path().replace("{user_id}", "u1").replace("{session_id}", "s1");
            for m in e.methods() {
                assert_eq!(Endpoint::route(m, &concrete).map(|r| r.0), Ok(e));
            }
            assert_eq!(Endpoint::ALL.iter().filter(|o| o.function() == e.function()).count(), 1);
        }
        assert_eq!(Endpoint::route("GET", "/api/v1/sessions/list/"), Err(RouteError::NotFound));
        assert_eq!(Endpoint::route("GET", "/api/v1/logout").map(|r| r.0), Ok(Endpoint::Logout));
        assert_eq!(Endpoint::route("PUT", "/api/v1/logout"), Err(RouteError::MethodNotAllowed(vec!["POST", "GET"])));
        assert_eq!(Endpoint::route("PUT", "/api/v1/sessions/list"), Err(RouteError::MethodNotAllowed(vec!["GET"])));
        assert_eq!(
            Endpoint::route("POST", "/api/users/u/sessions"),
            Err(RouteError::MethodNotAllowed(vec!["GET", "DELETE"]))
        );
    }

    #[test]
    fn path_parameters_are_captured_and_decoded() {
        let (e, params) = Endpoint::route("DELETE", "/api/users/u%201/sessions/abc").unwrap();
        assert_eq!(e, Endpoint::UserSessionRevoke);
        assert_eq!((params["user_id"].as_str(), params["session_id"].as_str()), ("u 1", "abc"));
        assert_eq!(Endpoint::route("GET", "/api/users//sessions"), Err(RouteError::NotFound));
        assert_eq!(Endpoint::route("GET", "/api/users/%ff/sessions"), Err(RouteError::NotFound));
        assert_eq!(Endpoint::route("DELETE", "/api/users/u/sessions").unwrap().0, Endpoint::UserSessionsRevokeAll);
        assert_eq!(Endpoint::route("GET", "/api/users/u/sessions").unwrap().0, Endpoint::UserSessionsList);
    }
}
