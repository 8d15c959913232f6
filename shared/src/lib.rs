//! Sessions API: the library every Lambda function links.
//!
//! A reader finds each rule in one module: [`request`] (the `http::Request` lambda_http
//! builds, and the guard before it), [`auth`] (who is calling), [`query`]
//! (offset/count/filter/sort), [`store`] (DynamoDB, a file per aggregate), [`errors`]
//! (why a request failed), [`handlers`] (what each endpoint does), [`dialects`]
//! (Rocket.Chat and MonoCloud wire shapes), [`endpoints`] (the route table) and
//! [`runner`] (the Lambda entry point every `main.rs` calls).

pub mod auth;
pub mod clock;
pub mod config;
pub mod device;
pub mod dialects;
pub mod endpoints;
pub mod errors;
pub mod expiry;
pub mod handlers;
pub mod ids;
pub mod mailer;
pub mod model;
pub mod permissions;
pub mod query;
pub mod redact;
pub mod request;
pub mod runner;
pub mod store;
pub mod totp;
pub mod two_factor;

pub use config::Config;
pub use endpoints::{App, Endpoint};
