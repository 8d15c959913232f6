//! The SDK clients: the HTTPS client, the AWS configuration of the tools and of Lambda, and
//! the retry and timeout policy of every DynamoDB call.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

use super::DynamoStore;

/// Mozilla's root certificates (the `webpki-root-certs` crate) as one PEM bundle, written by
/// build.rs: the functions' trust store, compiled in so that no function reads the system's
/// certificate files at init (docs/cold-start.md).
const WEBPKI_ROOTS_PEM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/webpki-roots.pem"));

/// The TLS trust of [`https_client`]: the compiled-in roots only, not the system's.
fn compiled_in_roots() -> TlsContext {
    let trust = TrustStore::empty().with_native_roots(false).with_pem_certificate(WEBPKI_ROOTS_PEM);
    TlsContext::builder().with_trust_store(trust).build().expect("a TLS context takes any trust store")
}

/// The HTTPS client of the functions and of every SDK client built from their configuration:
/// hyper with rustls on ring, trusting the [`compiled_in_roots`] ([`FirstCallHttpsClient`]).
pub fn https_client() -> SharedHttpClient {
    SharedHttpClient::new(FirstCallHttpsClient::default())
}

/// The HTTPS client of the tools people run ([`sdk_config`]): the system's trust store, so
/// `SSL_CERT_FILE` or a company's own root on the machine still counts.
fn system_roots_https_client() -> SharedHttpClient {
    https_client_trusting(TlsContext::default())
}

fn https_client_trusting(tls: TlsContext) -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https()
}

/// aws-smithy-http-client's hyper client trusting the [`compiled_in_roots`], made by the first
/// call that needs a connector rather than at init. Its own way would build a connector, and
/// so parse every root, as each SDK client is created (`validate_base_client_config`, there to
/// read the system's roots early), then drop it: DynamoDB's and SES's, in every function. Here
/// the first call copies and parses the roots once, and keeps its connector; it does so for
/// http as for https, so the first answer's time holds that work, locally too.
#[derive(Debug, Default)]
struct FirstCallHttpsClient(OnceLock<SharedHttpClient>);

impl HttpClient for FirstCallHttpsClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.get_or_init(|| https_client_trusting(compiled_in_roots())).http_connector(settings, components)
    }

    /// What the hyper client says of itself (the SDK's user agent), without making it.
    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("hyper", Some(Cow::Borrowed("1.x"))))
    }
}

/// The AWS configuration of the environment (region, credentials, `AWS_ENDPOINT_URL`), with
/// [`system_roots_https_client`].
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(system_roots_https_client()).load().await
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

#[cfg(test)]
mod trust_tests {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    use super::{WEBPKI_ROOTS_PEM, compiled_in_roots};

    /// The functions' trust store, without the network: every compiled-in root reads as rustls
    /// reads it (aws-smithy-http-client hands them to rustls), among them the roots AWS's
    /// endpoints chain to and a well-known root of the web, and the system's files are off.
    #[test]
    fn the_compiled_in_roots_hold_amazons_roots_and_the_webs() {
        let certs: Vec<CertificateDer> =
            CertificateDer::pem_slice_iter(WEBPKI_ROOTS_PEM).collect::<Result<_, _>>().expect("PEM");
        let mut roots = rustls::RootCertStore::empty();
        let (trusted, unreadable) = roots.add_parsable_certificates(certs);
        assert_eq!(unreadable, 0);
        assert!(trusted >= 100, "{trusted} roots");
        let subjects: Vec<String> =
            roots.roots.iter().map(|a| String::from_utf8_lossy(a.subject.as_ref()).into_owned()).collect();
        for name in [
            "Amazon Root CA 1",
            "Amazon Root CA 2",
            "Amazon Root CA 3",
            "Amazon Root CA 4",
            "Starfield Services Root Certificate Authority - G2",
            "ISRG Root X1",
        ] {
            assert!(subjects.iter().any(|s| s.contains(name)), "{name} is not trusted");
        }
        let context = format!("{:?}", compiled_in_roots());
        assert!(context.contains("enable_native_roots: false"), "{}", &context[..200.min(context.len())]);
    }
}
