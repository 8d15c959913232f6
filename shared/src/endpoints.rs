//! The route table: every endpoint, its Lambda function, method and path, and the
//! dispatch from a request to its handler. Functions, the local server and the tests
//! all go through [`handle`].

use std::collections::HashMap;

use crate::clock::{Millis, now_ms};
use crate::config::{Config, ConfigError, MailerKind};
use crate::dialects::{Response, json, monocloud, rocketchat};
use crate::handlers::monocloud::{self as mc_handlers, McReply};
use crate::handlers::{Reply, account, admin, login, sessions};
use crate::mailer::AppMailer;
use crate::request::{ApiRequest, RequestView};
use crate::store::DynamoStore;
use lambda_http::RequestExt;

/// What a function builds once at init and shares across invocations.
#[derive(Clone, Debug)]
pub struct App {
    pub config: Config,
    pub store: DynamoStore,
    pub mailer: AppMailer,
}

impl App {
    /// An app whose mail goes to the table's outbox (tests, local tools).
    pub fn new(config: Config, store: DynamoStore) -> Self {
        let store = store.with_counter_shards(config.counter_shards).with_order_shards(config.order_shards);
        let mailer = AppMailer::Outbox(store.clone());
        App { config, store, mailer }
    }

    /// Configuration and the AWS clients from the environment, with aws-config's whole
    /// provider chain (profiles, SSO, ...): for the tools people run.
    pub async fn from_env() -> Result<Self, ConfigError> {
        Self::with_sdk(Config::from_env()?, &crate::store::sdk_config().await)
    }

    /// Configuration and the AWS clients from the environment Lambda sets
    /// ([`crate::store::lambda_sdk_config`]): for the functions.
    pub fn from_lambda_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let sdk = crate::store::lambda_sdk_config()
            .map_err(|variable| ConfigError { variable, reason: "must be set (Lambda sets it)".into() })?;
        Self::with_sdk(config, &sdk)
    }

    fn with_sdk(config: Config, sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let store = DynamoStore::new(DynamoStore::client_for(sdk), config.table_name.clone())
            .with_counter_shards(config.counter_shards)
            .with_order_shards(config.order_shards);
        let mailer = match config.mailer {
            MailerKind::Outbox => AppMailer::Outbox(store.clone()),
            MailerKind::Ses => AppMailer::Ses {
                client: aws_sdk_sesv2::Client::new(sdk),
                from: config.mail_from.clone().unwrap_or_default(),
            },
        };
        Ok(App { config, store, mailer })
    }
}

/// Every endpoint of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    SessionsList,
    SessionsInfo,
    SessionsLogoutMe,
    SessionsListAll,
    SessionsInfoAdmin,
    SessionsLogout,
    UserSessionsList,
    UserSessionGet,
    UserSessionRevoke,
    UserSessionsRevokeAll,
    Login,
    Logout,
    UsersLogoutOtherClients,
    UsersRemoveOtherTokens,
    UsersLogout,
}

impl Endpoint {
    pub const ALL: [Endpoint; 15] = [
        Endpoint::SessionsList,
        Endpoint::SessionsInfo,
        Endpoint::SessionsLogoutMe,
        Endpoint::SessionsListAll,
        Endpoint::SessionsInfoAdmin,
        Endpoint::SessionsLogout,
        Endpoint::UserSessionsList,
        Endpoint::UserSessionGet,
        Endpoint::UserSessionRevoke,
        Endpoint::UserSessionsRevokeAll,
        Endpoint::Login,
        Endpoint::Logout,
        Endpoint::UsersLogoutOtherClients,
        Endpoint::UsersRemoveOtherTokens,
        Endpoint::UsersLogout,
    ];

    /// The function crate (under functions/) and template resource that serve it.
    pub fn function(self) -> &'static str {
        match self {
            Endpoint::SessionsList => "sessions-list",
            Endpoint::SessionsInfo => "sessions-info",
            Endpoint::SessionsLogoutMe => "sessions-logout-me",
            Endpoint::SessionsListAll => "sessions-list-all",
            Endpoint::SessionsInfoAdmin => "sessions-info-admin",
            Endpoint::SessionsLogout => "sessions-logout",
            Endpoint::UserSessionsList => "user-sessions-list",
            Endpoint::UserSessionGet => "user-session-get",
            Endpoint::UserSessionRevoke => "user-session-revoke",
            Endpoint::UserSessionsRevokeAll => "user-sessions-revoke-all",
            Endpoint::Login => "login",
            Endpoint::Logout => "logout",
            Endpoint::UsersLogoutOtherClients => "users-logout-other-clients",
            Endpoint::UsersRemoveOtherTokens => "users-remove-other-tokens",
            Endpoint::UsersLogout => "users-logout",
        }
    }

    /// Every method the route answers: the primary one, and GET for logout as Rocket.Chat has it.
    pub fn methods(self) -> &'static [&'static str] {
        match self {
            Endpoint::Logout => &["POST", "GET"],
            e if e.method() == "GET" => &["GET"],
            e if e.method() == "POST" => &["POST"],
            _ => &["DELETE"],
        }
    }

    /// The route's primary method.
    pub fn method(self) -> &'static str {
        match self {
            Endpoint::SessionsList
            | Endpoint::SessionsInfo
            | Endpoint::SessionsListAll
            | Endpoint::SessionsInfoAdmin
            | Endpoint::UserSessionsList
            | Endpoint::UserSessionGet => "GET",
            Endpoint::SessionsLogoutMe
            | Endpoint::SessionsLogout
            | Endpoint::Login
            | Endpoint::Logout
            | Endpoint::UsersLogoutOtherClients
            | Endpoint::UsersRemoveOtherTokens
            | Endpoint::UsersLogout => "POST",
            Endpoint::UserSessionRevoke | Endpoint::UserSessionsRevokeAll => "DELETE",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::SessionsList => "/api/v1/sessions/list",
            Endpoint::SessionsInfo => "/api/v1/sessions/info",
            Endpoint::SessionsLogoutMe => "/api/v1/sessions/logout.me",
            Endpoint::SessionsListAll => "/api/v1/sessions/list.all",
            Endpoint::SessionsInfoAdmin => "/api/v1/sessions/info.admin",
            Endpoint::SessionsLogout => "/api/v1/sessions/logout",
            Endpoint::UserSessionsList | Endpoint::UserSessionsRevokeAll => "/api/users/{user_id}/sessions",
            Endpoint::UserSessionGet | Endpoint::UserSessionRevoke => "/api/users/{user_id}/sessions/{session_id}",
            Endpoint::Login => "/api/v1/login",
            Endpoint::Logout => "/api/v1/logout",
            Endpoint::UsersLogoutOtherClients => "/api/v1/users.logoutOtherClients",
            Endpoint::UsersRemoveOtherTokens => "/api/v1/users.removeOtherTokens",
            Endpoint::UsersLogout => "/api/v1/users.logout",
        }
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

/// One endpoint's work: the prepared request in, the wire response out. A plain function
/// per endpoint, so a function binary that names only its own links only its own handler.
pub type Serve = for<'a> fn(&'a App, &'a ApiRequest, Millis) -> BoxFuture<'a, Response>;

/// A boxed, sendable future (what every [`Serve`] returns).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The [`Serve`] function of every endpoint, each rendering its own dialect.
pub mod serve {
    use super::*;

    macro_rules! rocketchat {
        ($($name:ident => |$app:ident, $req:ident, $now:ident| $body:expr;)*) => {$(
            pub fn $name<'a>($app: &'a App, $req: &'a ApiRequest, $now: Millis) -> BoxFuture<'a, Response> {
                Box::pin(async move { rocketchat::respond($body) })
            }
        )*};
    }

    macro_rules! monocloud {
        ($($name:ident => |$app:ident, $req:ident, $now:ident| $body:expr;)*) => {$(
            pub fn $name<'a>($app: &'a App, $req: &'a ApiRequest, $now: Millis) -> BoxFuture<'a, Response> {
                Box::pin(async move {
                    let trace_id = $req.request_id().unwrap_or_else(crate::ids::new_id);
                    monocloud::respond($body, &trace_id)
                })
            }
        )*};
    }

    rocketchat! {
        sessions_list => |a, req, now| sessions::list(&a.store, &a.config, req, now).await.map(Reply::Page);
        sessions_info => |a, req, now| sessions::info(&a.store, req, now).await.map(|i| Reply::Info(Box::new(i)));
        sessions_logout_me => |a, req, now| sessions::logout_me(&a.store, req, now).await.map(Reply::Ended);
        sessions_list_all => |a, req, now| admin::list_all(&a.store, &a.mailer, &a.config, req, now).await.map(Reply::Page);
        sessions_info_admin => |a, req, now| {
            admin::info_admin(&a.store, &a.mailer, &a.config, req, now).await.map(|i| Reply::Info(Box::new(i)))
        };
        sessions_logout => |a, req, now| admin::logout(&a.store, &a.mailer, &a.config, req, now).await.map(Reply::Ended);
        login => |a, req, now| {
            login::login(&a.store, &a.mailer, &a.config, req, now).await.map(|l| Reply::LoggedIn(Box::new(l)))
        };
        logout => |a, req, now| login::logout(&a.store, req, now).await.map(|()| Reply::LoggedOut);
        users_logout_other_clients => |a, req, now| {
            account::logout_other_clients(&a.store, req, now).await.map(Reply::OtherClientsLoggedOut)
        };
        users_remove_other_tokens => |a, req, now| account::remove_other_tokens(&a.store, req, now).await.map(|()| Reply::Success);
        users_logout => |a, req, now| account::logout_user(&a.store, req, now).await.map(Reply::UserLoggedOut);
    }

    monocloud! {
        user_sessions_list => |a, req, now| mc_handlers::list(&a.store, req, now).await.map(McReply::Page);
        user_session_get => |a, req, now| mc_handlers::get(&a.store, req, now).await.map(|s| McReply::Session(Box::new(s)));
        user_session_revoke => |a, req, now| mc_handlers::revoke(&a.store, req, now).await.map(|()| McReply::Revoked);
        user_sessions_revoke_all => |a, req, now| mc_handlers::revoke_all(&a.store, req, now).await.map(McReply::RevokedCount);
    }
}

impl Endpoint {
    /// The endpoint's [`Serve`] function (the local server and tests route through it;
    /// a function binary names its own directly).
    pub fn serve(self) -> Serve {
        match self {
            Endpoint::SessionsList => serve::sessions_list,
            Endpoint::SessionsInfo => serve::sessions_info,
            Endpoint::SessionsLogoutMe => serve::sessions_logout_me,
            Endpoint::SessionsListAll => serve::sessions_list_all,
            Endpoint::SessionsInfoAdmin => serve::sessions_info_admin,
            Endpoint::SessionsLogout => serve::sessions_logout,
            Endpoint::Login => serve::login,
            Endpoint::Logout => serve::logout,
            Endpoint::UsersLogoutOtherClients => serve::users_logout_other_clients,
            Endpoint::UsersRemoveOtherTokens => serve::users_remove_other_tokens,
            Endpoint::UsersLogout => serve::users_logout,
            Endpoint::UserSessionsList => serve::user_sessions_list,
            Endpoint::UserSessionGet => serve::user_session_get,
            Endpoint::UserSessionRevoke => serve::user_session_revoke,
            Endpoint::UserSessionsRevokeAll => serve::user_sessions_revoke_all,
        }
    }
}

/// Runs one request through its endpoint (the local server and tests).
pub async fn handle(app: &App, endpoint: Endpoint, req: lambda_http::Request) -> Response {
    handle_with(app, endpoint, endpoint.serve(), req).await
}

/// Runs one request through `serve`: path parameters filled from the route where the event
/// source gives none (ALB, a Function URL), then the endpoint's work.
pub async fn handle_with(app: &App, endpoint: Endpoint, serve: Serve, req: lambda_http::Request) -> Response {
    let now = now_ms();
    let req = if endpoint.path().contains('{') && req.path_parameters_ref().is_none_or(|p| p.is_empty()) {
        let params = endpoint.match_path(&req.route_path()).unwrap_or_default();
        req.with_path_parameters(params)
    } else {
        req
    };
    serve(app, &ApiRequest::new(req), now).await
}

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
