//! Serves every route on one local port by turning each HTTP request into the same
//! API Gateway (HTTP API, payload 2.0) event Lambda would receive, and running the
//! same handler the function runs.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use base64::Engine;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use sessions_api::clock::now_ms;
use sessions_api::dialects::ApiResponse;
use sessions_api::endpoints::{App, Endpoint, RouteError, handle};
use sessions_api::request::ApiRequest;
use tokio::net::TcpListener;

/// API Gateway's payload limit for HTTP APIs is 10 MB; locally 1 MiB is plenty.
const MAX_BODY_BYTES: usize = 1 << 20;

/// Accepts connections until the task is dropped.
pub async fn serve(app: Arc<App>, listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let app = Arc::clone(&app);
                async move { Ok::<_, Infallible>(answer(&app, peer, req).await) }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn answer(app: &App, peer: SocketAddr, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let resp = match Endpoint::route(&method, &path) {
        Err(RouteError::NotFound) => not_routed(404, "Not Found"),
        Err(RouteError::MethodNotAllowed) => not_routed(405, "Method Not Allowed"),
        Ok((endpoint, params)) => match to_event(peer, req, endpoint, params).await {
            Ok(event) => handle(app, endpoint, &ApiRequest::from_event(event)).await,
            Err(status) => not_routed(status, "Request body too large or unreadable"),
        },
    };
    tracing::info!(%method, %path, status = resp.status, ms = started.elapsed().as_millis() as u64, "local request");
    let mut out = hyper::Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        out = out.header(k, v);
    }
    out.body(Full::new(Bytes::from(resp.body))).unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}

/// API Gateway's own answer for a route it does not have.
fn not_routed(status: u16, message: &str) -> ApiResponse {
    ApiResponse::json(status, "application/json", json!({ "message": message }).to_string())
}

/// The payload-2.0 event API Gateway would send for this request.
async fn to_event(
    peer: SocketAddr,
    req: hyper::Request<Incoming>,
    endpoint: Endpoint,
    path_params: std::collections::HashMap<String, String>,
) -> Result<ApiGatewayV2httpRequest, u16> {
    let (parts, body) = req.into_parts();
    let body = Limited::new(body, MAX_BODY_BYTES).collect().await.map_err(|_| 413u16)?.to_bytes();
    let mut headers = Map::new();
    for name in parts.headers.keys() {
        let joined: Vec<&str> = parts.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        headers.insert(name.as_str().to_string(), Value::String(joined.join(",")));
    }
    let (body, is_base64) = match std::str::from_utf8(&body) {
        Ok(text) => (text.to_string(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(&body), true),
    };
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let user_agent = parts.headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("");
    let route_key = format!("{} {}", endpoint.method(), endpoint.path());
    let event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": parts.uri.query().unwrap_or(""),
        "headers": headers,
        "pathParameters": path_params,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": user_agent
            },
            "requestId": sessions_api::ids::new_id(),
            "routeKey": route_key,
            "stage": "$default",
            "timeEpoch": now_ms()
        },
        "body": if body.is_empty() { Value::Null } else { Value::String(body) },
        "isBase64Encoded": is_base64
    });
    serde_json::from_value(event).map_err(|_| 400u16)
}
