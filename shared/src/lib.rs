//! Sessions API: the library every Lambda function links.
//!
//! One core, two wire formats over it (docs/architecture.md):
//! - [`core`]: model, list order and filter, permissions, configuration, clock, ids;
//! - [`store`]: DynamoDB, a file per aggregate; depends on the core only;
//! - [`rocketchat`] and [`monocloud`]: each wire format with the same parts (`query`,
//!   `auth`, `errors`, `handlers`, `wire`);
//! - [`routes`]: the one route table; [`app`]: what a function builds at init;
//!   [`request`] and [`response`]: the HTTP request and response both dialects share;
//!   [`console`]: the device-management page at /console, over the Rocket.Chat routes;
//!   [`runner`]: the Lambda entry point every `main.rs` calls; [`mailer`] and [`expiry`].

pub mod app;
pub mod authorizer;
pub mod console;
pub mod core;
pub mod mailer;
pub mod metrics;
pub mod monocloud;
pub mod request;
pub mod response;
pub mod rocketchat;
pub mod routes;
pub mod runner;
pub mod store;
pub mod stream;

pub use app::App;
pub use core::config::Config;
pub use routes::Endpoint;
