//! Tools around the API that are not Lambda functions: the admin tool's operations,
//! table creation from template.yaml, demo data, and the local HTTP server.

pub mod admin;
pub mod demo;
pub mod docs;
pub mod local_api;
pub mod progress;
pub mod runtime_api;
pub mod table;

use sessions_api::store::StoreError;

/// A failure of an admin operation, worded for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("AWS request failed: {0}")]
    Aws(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
