//! The SDK clients: the HTTPS client, the AWS configuration of the tools and of Lambda, and
//! the retry and timeout policy of every DynamoDB call.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;

use super::DynamoStore;

/// The HTTPS client every AWS SDK client here uses: hyper with rustls on ring.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// The AWS configuration of the environment (region, credentials, `AWS_ENDPOINT_URL`), with
/// [`https_client`].
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client()).load().await
}

/// The AWS configuration Lambda gives a function: the region and the execution role's
/// credentials from the variables Lambda sets, and `AWS_ENDPOINT_URL` where set (local runs).
/// Unlike [`sdk_config`] it reaches none of aws-config's provider chain (profiles, SSO, STS
/// web identity, IMDS), so a function's binary does not link it. `Err` names a missing variable.
pub fn lambda_sdk_config() -> Result<aws_config::SdkConfig, &'static str> {
    lambda_sdk_config_from(|k| std::env::var(k).ok())
}

/// [`lambda_sdk_config`] from any variable source (the environment, or a map in tests).
pub fn lambda_sdk_config_from(lookup: impl Fn(&str) -> Option<String>) -> Result<aws_config::SdkConfig, &'static str> {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedAsyncSleep, SharedCredentialsProvider};
    let var = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
    let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).ok_or("AWS_REGION")?;
    let key = var("AWS_ACCESS_KEY_ID").ok_or("AWS_ACCESS_KEY_ID")?;
    let secret = var("AWS_SECRET_ACCESS_KEY").ok_or("AWS_SECRET_ACCESS_KEY")?;
    let credentials = Credentials::new(key, secret, var("AWS_SESSION_TOKEN"), None, "lambda-environment");
    let mut builder = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .sleep_impl(SharedAsyncSleep::new(aws_smithy_async::rt::sleep::TokioSleep::new()))
        .time_source(aws_smithy_async::time::SystemTimeSource::new())
        .http_client(https_client());
    if let Some(url) = var("AWS_ENDPOINT_URL") {
        builder = builder.endpoint_url(url);
    }
    Ok(builder.build())
}

impl DynamoStore {
    /// A client from the default AWS configuration chain (region, credentials and
    /// `AWS_ENDPOINT_URL`, which points it at a local DynamoDB).
    pub async fn client_from_env() -> Client {
        Self::client_for(&sdk_config().await)
    }

    /// A client for `sdk` with the retry and timeout policy every function uses: the
    /// SDK's standard retries (3 tries, backoff from 25 ms up to 500 ms, on throttling,
    /// 5xx and timeouts), 1.5 s per try and 3 s per call, so a stuck call fails in time
    /// to answer 503 rather than running into the Lambda timeout.
    pub fn client_for(sdk: &aws_config::SdkConfig) -> Client {
        let retry = RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(25))
            .with_max_backoff(Duration::from_millis(500));
        let timeouts = TimeoutConfig::builder()
            .operation_attempt_timeout(Duration::from_millis(1500))
            .operation_timeout(Duration::from_secs(3))
            .build();
        let config = aws_sdk_dynamodb::config::Builder::from(sdk).retry_config(retry).timeout_config(timeouts).build();
        Client::from_conf(config)
    }
}

#[cfg(test)]
mod lambda_config_tests {
    use super::lambda_sdk_config_from;

    fn from(vars: &[(&str, &str)]) -> Result<aws_config::SdkConfig, &'static str> {
        lambda_sdk_config_from(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn takes_region_credentials_and_endpoint_from_lambdas_variables() {
        let all = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:8000"),
        ];
        let sdk = from(&all).unwrap();
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:8000"));
        assert!(sdk.credentials_provider().is_some() && sdk.http_client().is_some() && sdk.sleep_impl().is_some());
        // Each required variable, missing or blank, is named.
        for missing in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let without: Vec<_> = all.iter().copied().filter(|(k, _)| *k != missing).collect();
            assert_eq!(from(&without).unwrap_err(), missing);
            let blank: Vec<_> = all.iter().map(|&(k, v)| (k, if k == missing { " " } else { v })).collect();
            assert_eq!(from(&blank).unwrap_err(), missing);
        }
        let no_token: Vec<_> = all.iter().copied().filter(|(k, _)| *k != "AWS_SESSION_TOKEN").collect();
        assert!(from(&no_token).is_ok());
    }
}
