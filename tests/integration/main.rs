//! Integration tests: handlers against a real DynamoDB API (Amazon's DynamoDB Local), driven by
//! built events, by the files in events/, and over HTTP through the local server.

mod account;
mod accounts;
mod activity;
mod admin;
mod admin_tool;
mod audit_log;
mod authorizer;
mod bad_input;
mod event_sources;
mod events;
mod faults;
mod history;
mod iam;
mod lambda_processes;
mod layout;
mod limits;
mod list_bounds;
mod local_http;
mod login;
mod login_blocks;
mod login_emails;
mod metering;
mod monocloud;
mod openapi;
mod order_shards;
mod redaction;
mod risk;
mod sessions_info;
mod sessions_list;
mod sessions_logout_me;
mod storm;
mod stream_events;
mod support;
mod template;
mod two_factor;
