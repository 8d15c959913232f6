//! Serves every route on one local port with the same `http` service the functions run
//! ([`sessions_api::routes::dispatch`]): each hyper request becomes the `http::Request`
//! lambda_http would build, with API Gateway's request context (client address, request id).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use sessions_api::response::json;

use crate::docs::Docs;
use sessions_api::App;
use sessions_api::request::escape_request_target;
use sessions_api::routes::dispatch;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// API Gateway's payload limit for HTTP APIs is 10 MB; locally 1 MiB is plenty.
const MAX_BODY_BYTES: usize = 1 << 20;

/// Longest request line read; API Gateway's own limit for a URL is about 8 KB.
const MAX_REQUEST_LINE: usize = 16 * 1024;

/// Accepts connections until the task is dropped. One request per connection: its request
/// line is escaped first ([`escape_request_target`]), as API Gateway accepts what curl sends
/// unencoded and hyper's stricter parser would refuse.
pub async fn serve(app: Arc<App>, listener: TcpListener) -> std::io::Result<()> {
    serve_with_docs(app, listener, None).await
}

/// [`serve`], and the docs page at `/docs` when `docs` is given.
pub async fn serve_with_docs(app: Arc<App>, listener: TcpListener, docs: Option<Docs>) -> std::io::Result<()> {
    let docs = Arc::new(docs);
    loop {
        let (stream, peer) = listener.accept().await?;
        let (app, docs) = (Arc::clone(&app), Arc::clone(&docs));
        tokio::spawn(async move {
            let Ok(stream) = escape_request_line(stream).await else { return };
            let service = service_fn(move |req| {
                let (app, docs) = (Arc::clone(&app), Arc::clone(&docs));
                async move {
                    let host = req.headers().get("host").and_then(|h| h.to_str().ok()).map(str::to_string);
                    let page = docs
                        .as_ref()
                        .as_ref()
                        .and_then(|d| d.answer(req.method().as_str(), req.uri().path(), host.as_deref()));
                    Ok::<_, Infallible>(match page {
                        Some((status, content_type, body)) => hyper::Response::builder()
                            .status(status)
                            .header("content-type", content_type)
                            .header("cache-control", "no-store")
                            .body(Full::new(Bytes::from(body)))
                            .unwrap_or_default(),
                        None => answer(&app, peer, req).await,
                    })
                }
            });
            let _ = http1::Builder::new().keep_alive(false).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// Reads the request line, escapes its target, and hands back a stream that replays it.
async fn escape_request_line(mut stream: TcpStream) -> std::io::Result<Replayed> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    let line_end = loop {
        if let Some(i) = head.windows(2).position(|w| w == b"\r\n") {
            break Some(i);
        }
        if head.len() > MAX_REQUEST_LINE {
            break None; // hyper answers an over-long line itself
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break None;
        }
        head.extend_from_slice(&buf[..n]);
    };
    if let Some(end) = line_end
        && let Ok(line) = std::str::from_utf8(&head[..end])
        && let [method, target, version] = line.splitn(3, ' ').collect::<Vec<_>>()[..]
    {
        let escaped = format!("{method} {} {version}", escape_request_target(target));
        head.splice(..end, escaped.into_bytes());
    }
    Ok(Replayed { prefix: head, pos: 0, inner: stream })
}

/// A stream that first yields bytes already read from it.
struct Replayed {
    prefix: Vec<u8>,
    pos: usize,
    inner: TcpStream,
}

impl AsyncRead for Replayed {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if self.pos < self.prefix.len() {
            let n = buf.remaining().min(self.prefix.len() - self.pos);
            buf.put_slice(&self.prefix[self.pos..self.pos + n]);
            self.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Replayed {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
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
async fn to_request(peer: SocketAddr, req: hyper::Request<Incoming>) -> Result<lambda_http::Request, ()> {
    let (parts, body) = req.into_parts();
    let body = Limited::new(body, MAX_BODY_BYTES).collect().await.map_err(|_| ())?.to_bytes();
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http.method = parts.method.clone();
    context.http.path = Some(parts.uri.path().to_string());
    context.http.source_ip = Some(peer.ip().to_string());
    context.request_id = Some(sessions_api::core::ids::new_id());
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
