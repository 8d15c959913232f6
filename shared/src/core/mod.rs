//! The core both dialects and the store build on: the model, the order and filter of
//! lists, permissions, configuration, time, ids, User-Agent parsing, TOTP and redaction.
//! Nothing here imports a dialect or the store.

pub mod admin_log;
pub mod audit;
pub mod audit_query;
pub mod clock;
pub mod config;
pub mod device;
pub mod geo;
pub mod history;
pub mod ids;
pub mod ip_access;
pub mod model;
pub mod order;
pub mod permissions;
pub mod preferences;
pub mod redact;
pub mod scopes;
pub mod sign_ins;
pub mod totp;
pub mod travel;
