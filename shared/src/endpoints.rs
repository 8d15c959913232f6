//! The route table: every endpoint, its Lambda function, method and path, and the
//! dispatch from a request to its handler. Functions, the local server and the tests
//! all go through [`handle`].

use crate::clock::now_ms;
use crate::config::{Config, ConfigError};
use crate::dialects::{ApiResponse, rocketchat};
use crate::handlers::{Reply, sessions};
use crate::request::ApiRequest;
use crate::store::DynamoStore;

/// What a function builds once at init and shares across invocations.
#[derive(Clone, Debug)]
pub struct App {
    pub config: Config,
    pub store: DynamoStore,
}

impl App {
    pub fn new(config: Config, store: DynamoStore) -> Self {
        App { config, store }
    }

    /// Configuration and the DynamoDB client from the environment.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let client = DynamoStore::client_from_env().await;
        let store = DynamoStore::new(client, config.table_name.clone());
        Ok(App { config, store })
    }
}

/// Every endpoint of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    SessionsList,
    SessionsInfo,
    SessionsLogoutMe,
}

impl Endpoint {
    pub const ALL: [Endpoint; 3] = [Endpoint::SessionsList, Endpoint::SessionsInfo, Endpoint::SessionsLogoutMe];

    /// The function crate (under functions/) and template resource that serve it.
    pub fn function(self) -> &'static str {
        match self {
            Endpoint::SessionsList => "sessions-list",
            Endpoint::SessionsInfo => "sessions-info",
            Endpoint::SessionsLogoutMe => "sessions-logout-me",
        }
    }

    pub fn method(self) -> &'static str {
        match self {
            Endpoint::SessionsList | Endpoint::SessionsInfo => "GET",
            Endpoint::SessionsLogoutMe => "POST",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::SessionsList => "/api/v1/sessions/list",
            Endpoint::SessionsInfo => "/api/v1/sessions/info",
            Endpoint::SessionsLogoutMe => "/api/v1/sessions/logout.me",
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
    let store = &app.store;
    let result = match endpoint {
        Endpoint::SessionsList => sessions::list(store, &app.config, req, now).await.map(Reply::Page),
        Endpoint::SessionsInfo => sessions::info(store, req, now).await.map(|i| Reply::Info(Box::new(i))),
        Endpoint::SessionsLogoutMe => sessions::logout_me(store, req, now).await.map(Reply::Ended),
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
