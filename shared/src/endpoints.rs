//! The route table: every endpoint, its Lambda function, method and path, and the
//! dispatch from a request to its handler. Functions, the local server and the tests
//! all go through [`handle`].

use crate::clock::now_ms;
use crate::config::{Config, ConfigError, MailerKind};
use crate::dialects::{ApiResponse, rocketchat};
use crate::handlers::{Reply, admin, sessions};
use crate::mailer::AppMailer;
use crate::request::ApiRequest;
use crate::store::DynamoStore;

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
        let mailer = AppMailer::Outbox(store.clone());
        App { config, store, mailer }
    }

    /// Configuration and the AWS clients from the environment.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let sdk = aws_config::load_from_env().await;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name.clone());
        let mailer = match config.mailer {
            MailerKind::Outbox => AppMailer::Outbox(store.clone()),
            MailerKind::Ses => AppMailer::Ses {
                client: aws_sdk_sesv2::Client::new(&sdk),
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
}

impl Endpoint {
    pub const ALL: [Endpoint; 6] = [
        Endpoint::SessionsList,
        Endpoint::SessionsInfo,
        Endpoint::SessionsLogoutMe,
        Endpoint::SessionsListAll,
        Endpoint::SessionsInfoAdmin,
        Endpoint::SessionsLogout,
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
        }
    }

    pub fn method(self) -> &'static str {
        match self {
            Endpoint::SessionsList
            | Endpoint::SessionsInfo
            | Endpoint::SessionsListAll
            | Endpoint::SessionsInfoAdmin => "GET",
            Endpoint::SessionsLogoutMe | Endpoint::SessionsLogout => "POST",
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
        }
    }

    /// The endpoint at `path`, if any (API Gateway matches paths exactly, so does this).
    pub fn at_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.path() == path)
    }
}

/// Runs one request through its endpoint's handler and dialect.
pub async fn handle(app: &App, endpoint: Endpoint, req: &ApiRequest) -> ApiResponse {
    let now = now_ms();
    let (store, mailer, config) = (&app.store, &app.mailer, &app.config);
    let result = match endpoint {
        Endpoint::SessionsList => sessions::list(store, config, req, now).await.map(Reply::Page),
        Endpoint::SessionsInfo => sessions::info(store, req, now).await.map(|i| Reply::Info(Box::new(i))),
        Endpoint::SessionsLogoutMe => sessions::logout_me(store, req, now).await.map(Reply::Ended),
        Endpoint::SessionsListAll => admin::list_all(store, mailer, config, req, now).await.map(Reply::Page),
        Endpoint::SessionsInfoAdmin => {
            admin::info_admin(store, mailer, config, req, now).await.map(|i| Reply::Info(Box::new(i)))
        }
        Endpoint::SessionsLogout => admin::logout(store, mailer, config, req, now).await.map(Reply::Ended),
    };
    rocketchat::respond(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_unique_and_found() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::at_path(e.path()), Some(e));
            assert_eq!(Endpoint::ALL.iter().filter(|o| o.function() == e.function()).count(), 1);
        }
        assert_eq!(Endpoint::at_path("/api/v1/sessions/list/"), None);
    }
}
