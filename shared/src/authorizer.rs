//! The Lambda authorizer another HTTP API of the operator's attaches (API Gateway HTTP API,
//! payload format 2.0, simple responses): it reads the user id and token headers (names
//! configurable), authenticates them exactly as every Rocket.Chat route does, records the
//! session's activity, and answers `isAuthorized` with the caller's user id, username, roles
//! and session id as context (docs/authorizer.md).

use aws_lambda_events::apigw::{ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use serde_json::{Value, json};

use crate::app::App;
use crate::core::clock::Millis;
use crate::request::ApiRequest;
use crate::rocketchat::auth::{AUTH_TOKEN_HEADER, AuthError, USER_ID_HEADER, authenticate, record_activity};
use crate::store::StoreError;

/// The answer to API Gateway: allowed with the caller as context, or denied with none.
pub type Decision = ApiGatewayV2CustomAuthorizerSimpleResponse<Value>;

/// Decides one request. A token that is unknown, ended, expired, idle or of a deactivated
/// user is denied (API Gateway answers 403); a store that stays unavailable is an error, not
/// a denial (API Gateway answers 500, which clients retry), since the token may be good.
pub async fn authorize(
    app: &App,
    event: ApiGatewayV2CustomAuthorizerV2Request,
    now: Millis,
) -> Result<Decision, StoreError> {
    let req = request_of(app, event);
    let decision = match authenticate(&app.store, &req, now).await {
        Ok(caller) => {
            record_activity(&app.store, &req, &caller);
            let context = json!({
                "userId": caller.user_id,
                "username": caller.user.username,
                "roles": caller.user.roles.join(","),
                "sessionId": caller.session_id,
            });
            allowed(true, context)
        }
        Err(AuthError::Unauthorized) => allowed(false, json!({})),
        Err(AuthError::Store(e)) => return Err(e),
    };
    req.settle().await;
    Ok(decision)
}

fn allowed(is_authorized: bool, context: Value) -> Decision {
    let mut decision = Decision::default();
    decision.is_authorized = is_authorized;
    decision.context = context;
    decision
}

/// The request authentication reads: the configured identity headers under the names the
/// Rocket.Chat routes use, the User-Agent, and API Gateway's request context (the source
/// address). No other header or the body is carried.
fn request_of(app: &App, event: ApiGatewayV2CustomAuthorizerV2Request) -> ApiRequest {
    let header = |name: &str| event.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mut builder = http::Request::builder().method("GET").uri("/");
    for (ours, theirs) in [
        (USER_ID_HEADER, app.config.authorizer_user_id_header.as_str()),
        (AUTH_TOKEN_HEADER, app.config.authorizer_token_header.as_str()),
        ("user-agent", "user-agent"),
    ] {
        if let Ok(value) = http::HeaderValue::try_from(header(theirs)) {
            builder = builder.header(ours, value);
        }
    }
    let req = builder.body(lambda_http::Body::Empty).unwrap_or_default();
    ApiRequest::new(req.with_request_context(RequestContext::ApiGatewayV2(event.request_context)))
}
