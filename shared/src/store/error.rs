//! How a failed DynamoDB call is read: [`StoreError`], the one classification of SDK
//! errors after the SDK's own retries, and conditional writes' outcomes.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// A storage failure. Messages never contain item contents.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB request failed: {0}")]
    Dynamo(String),
    /// Throttled, conflicting, timed out or a DynamoDB 5xx after every retry: worth
    /// retrying later (503), and nothing is known to be written.
    #[error("DynamoDB unavailable: {0}")]
    Unavailable(String),
    #[error("stored item is malformed: {0}")]
    Corrupt(String),
    #[error("{0} already exists")]
    Conflict(String),
    /// A session was not created: the account was deactivated (or removed) meanwhile.
    #[error("the account is not active")]
    Inactive,
    /// A session was not created: the account's failed logins block it.
    #[error("the account's failed logins block it")]
    LoginBlocked,
}

/// Error codes of DynamoDB calls that fail for load or a passing fault, not for the request.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    // A single-item write that met a running transaction on the same item.
    "TransactionConflictException",
];

/// The one place a failed DynamoDB call is classified (after the SDK's own retries):
/// throttling, 5xx, timeouts and broken connections are [`StoreError::Unavailable`];
/// everything else is [`StoreError::Dynamo`] (a 500).
pub(super) fn store_error<E>(e: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = match &e {
        SdkError::TimeoutError(_) => true,
        SdkError::DispatchFailure(d) => d.is_timeout() || d.is_io(),
        SdkError::ResponseError(r) => r.raw().status().is_server_error(),
        SdkError::ServiceError(s) => {
            s.raw().status().is_server_error() || s.err().code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
        }
        _ => false,
    };
    let message = DisplayErrorContext(e).to_string();
    if transient { StoreError::Unavailable(message) } else { StoreError::Dynamo(message) }
}

pub(super) fn condition_failed<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

/// The outcome of a conditional write: `Ok(true)` done, `Ok(false)` its condition failed.
pub(super) fn conditional_write<T, E>(result: Result<T, SdkError<E>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(condition_failed) => Ok(false),
        Err(e) => Err(store_error(e)),
    }
}
