//! What a function builds once at init and shares across invocations: the
//! configuration, the DynamoDB store and the mailer.

use std::path::Path;

use crate::core::config::{Config, ConfigError, MailerKind};
use crate::core::geo::GeoDb;
use crate::mailer::{AppMailer, LazyClient};
use crate::store::{ActivityPolicy, DynamoStore};
use crate::stream::publisher::Publisher;

/// What a function builds once at init and shares across invocations.
#[derive(Clone, Debug)]
pub struct App {
    pub config: Config,
    pub store: DynamoStore,
    pub mailer: AppMailer,
    /// The AWS configuration the clients were built from (`None` for [`App::new`]).
    pub sdk: Option<aws_config::SdkConfig>,
}

impl App {
    /// An app whose mail goes to the table's outbox (tests, local tools).
    pub fn new(config: Config, store: DynamoStore) -> Self {
        GeoDb::init(config.geo_db_dir.as_deref().map(Path::new));
        let store = store
            .with_counter_shards(config.counter_shards)
            .with_order_shards(config.order_shards)
            .with_activity(ActivityPolicy::of(&config))
            .with_history_days(config.history_days);
        let mailer = AppMailer::Outbox(store.clone());
        App { config, store, mailer, sdk: None }
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

    /// Where the stream consumer publishes: the bus `EVENT_BUS_NAME` names, else the log.
    pub fn publisher(&self) -> Publisher {
        match (&self.config.event_bus, &self.sdk) {
            (Some(bus), Some(sdk)) => {
                Publisher::EventBridge { client: aws_sdk_eventbridge::Client::new(sdk), bus: bus.clone() }
            }
            _ => Publisher::Log,
        }
    }

    fn with_sdk(config: Config, sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        GeoDb::init(config.geo_db_dir.as_deref().map(Path::new));
        let store = DynamoStore::new(DynamoStore::client_for(sdk), config.table_name.clone())
            .with_counter_shards(config.counter_shards)
            .with_order_shards(config.order_shards)
            .with_activity(ActivityPolicy::of(&config))
            .with_history_days(config.history_days);
        let mailer = match config.mailer {
            MailerKind::Outbox => AppMailer::Outbox(store.clone()),
            MailerKind::Ses => AppMailer::Ses {
                client: LazyClient::new({
                    let sdk = sdk.clone();
                    move || aws_sdk_sesv2::Client::new(&sdk)
                }),
                from: config.mail_from.clone().unwrap_or_default(),
            },
        };
        Ok(App { config, store, mailer, sdk: Some(sdk.clone()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ses_client_is_not_made_at_init() {
        let vars = [("AWS_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b")];
        let sdk =
            crate::store::lambda_sdk_config_from(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
                .expect("sdk config");
        let config =
            Config { mailer: MailerKind::Ses, mail_from: Some("no-reply@example.com".into()), ..Config::default() };
        let app = App::with_sdk(config, &sdk).expect("app");
        let AppMailer::Ses { client, from } = &app.mailer else { panic!("MAILER=ses gives the SES mailer") };
        assert_eq!((client.is_made(), from.as_str()), (false, "no-reply@example.com"));
        assert_eq!(
            client.get().config().region().map(|r| r.as_ref()),
            Some("us-east-1"),
            "made from the app's SDK config"
        );
        assert!(client.is_made());
    }
}
