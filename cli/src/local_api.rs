//! Serves every route on one local port with the same `http` service the functions run
//! ([`sessions_api::endpoints::dispatch`]): each hyper request becomes the `http::Request`
//! lambda_http would build, with API Gateway's request context (client address, request id).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use sessions_api::dialects::json;
use sessions_api::endpoints::{App, dispatch};
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
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = match to_request(peer, req).await {
        Ok(req) => dispatch(app, req).await,
        Err(()) => json(413, "application/json", r#"{"message":"Request Entity Too Large"}"#.into()),
    };
    tracing::info!(%method, %path, status = resp.status().as_u16(), ms = started.elapsed().as_millis() as u64, "local request");
    let (parts, body) = resp.into_parts();
    hyper::Response::from_parts(parts, Full::new(Bytes::from(body.to_vec())))
}

/// The request lambda_http would hand the function for this HTTP request.
async fn to_request(peer: SocketAddr, req: hyper::Request<Incoming>) -> Result<ApiRequest, ()> {
    let (parts, body) = req.into_parts();
    let body = Limited::new(body, MAX_BODY_BYTES).collect().await.map_err(|_| ())?.to_bytes();
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http.method = parts.method.clone();
    context.http.path = Some(parts.uri.path().to_string());
    context.http.source_ip = Some(peer.ip().to_string());
    context.request_id = Some(sessions_api::ids::new_id());
    context.stage = Some("$default".into());
    context.domain_name = Some("localhost".into());
    let raw_path = parts.uri.path().to_string();
    let body = match String::from_utf8(body.to_vec()) {
        Ok(text) if text.is_empty() => lambda_http::Body::Empty,
        Ok(text) => lambda_http::Body::Text(text),
        Err(e) => lambda_http::Body::Binary(e.into_bytes()),
    };
    Ok(http::Request::from_parts(parts, body)
        .with_raw_http_path(raw_path)
        .with_request_context(RequestContext::ApiGatewayV2(context)))
}
