//! Rocket.Chat's Device Management REST API (`/api/v1/sessions/*`), its login and logout,
//! and the `users.*` routes that end sessions: request parsing ([`query`], [`login_body`]), authentication
//! ([`auth`]), errors ([`errors`]), what each route does ([`handlers`]) and the wire shapes
//! ([`wire`]); the same parts, in the same files, as [`crate::monocloud`]. Step-up
//! two-factor authentication ([`two_factor`]) is Rocket.Chat's alone. Contract:
//! docs/rocketchat.md and docs/login-and-2fa.md.

pub mod active_status_body;
pub mod ajv;
pub mod auth;
pub mod errors;
pub mod handlers;
pub mod login_body;
pub mod preferences_body;
pub mod query;
pub mod two_factor;
pub mod wire;
