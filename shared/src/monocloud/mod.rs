//! MonoCloud's user-sessions management API (`/api/users/{user_id}/sessions`), for back-end
//! services with an API key: request parsing ([`query`]), authentication ([`auth`]), errors
//! ([`errors`]), what each route does ([`handlers`]) and the wire shapes ([`wire`]). The
//! same parts, in the same files, as [`crate::rocketchat`]. Contract: docs/monocloud.md.

pub mod auth;
pub mod errors;
pub mod handlers;
pub mod query;
pub mod wire;
