//! A local Lambda Runtime API (the 2018-06-01 interface every custom runtime polls), so a
//! function's compiled binary runs here exactly as Lambda runs it: started with
//! `AWS_LAMBDA_RUNTIME_API` and the documented environment, it polls `next`, gets an event
//! with its request id, deadline and function ARN headers, and posts a response or error.
//! Tests feed it events/ files; the cold-start benchmark times its first poll and answer.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{Notify, oneshot};

const PREFIX: &str = "/2018-06-01/runtime";
/// Largest payload Lambda accepts for a synchronous invocation (6 MB).
const MAX_PAYLOAD: usize = 6 * 1024 * 1024;

/// What a function answered for one invocation.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Posted to `/invocation/{id}/response`.
    Response(Value),
    /// Posted to `/invocation/{id}/error` (the function's error object).
    Error(Value),
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, Vec<u8>)>,
    waiting: std::collections::HashMap<String, oneshot::Sender<Outcome>>,
    first_poll: Option<Instant>,
    init_error: Option<Value>,
    next_id: u64,
}

/// A running Runtime API on a loopback port.
#[derive(Clone)]
pub struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    queued: Arc<Notify>,
    function_arn: String,
}

impl RuntimeApi {
    /// Serves the Runtime API on a free loopback port until the returned value is dropped
    /// with its process (the server task ends with the tokio runtime).
    pub async fn start(function_name: &str) -> std::io::Result<RuntimeApi> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let api = RuntimeApi {
            addr: listener.local_addr()?,
            state: Arc::default(),
            queued: Arc::new(Notify::new()),
            function_arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{function_name}"),
        };
        let server = api.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let api = server.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let api = api.clone();
                        async move { Ok::<_, Infallible>(api.answer(req).await) }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(api)
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// When the function first asked for an invocation (its init was done).
    pub fn first_poll(&self) -> Option<Instant> {
        self.state.lock().unwrap().first_poll
    }

    /// What the function posted to `/init/error`, if it failed to start.
    pub fn init_error(&self) -> Option<Value> {
        self.state.lock().unwrap().init_error.clone()
    }

    /// Queues `event` and waits up to `timeout` for the function's answer.
    pub async fn invoke(&self, event: &Value, timeout: Duration) -> Result<Outcome, String> {
        let (tx, rx) = oneshot::channel();
        {
            let mut s = self.state.lock().unwrap();
            s.next_id += 1;
            let id = format!("00000000-0000-4000-8000-{:012}", s.next_id);
            s.waiting.insert(id.clone(), tx);
            s.queue.push_back((id, serde_json::to_vec(event).map_err(|e| e.to_string())?));
        }
        self.queued.notify_one();
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) => Err("the invocation was dropped".into()),
            Err(_) => Err(format!("no answer within {timeout:?}")),
        }
    }

    async fn answer(&self, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
        let path = req.uri().path().to_string();
        let method = req.method().clone();
        let Some(rest) = path.strip_prefix(PREFIX) else { return reply(404, "unknown path") };
        if method == hyper::Method::GET && rest == "/invocation/next" {
            return self.next().await;
        }
        let Ok(body) = Limited::new(req.into_body(), MAX_PAYLOAD).collect().await.map(|b| b.to_bytes()) else {
            return reply(413, "payload too large");
        };
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if method == hyper::Method::POST && rest == "/init/error" {
            self.state.lock().unwrap().init_error = Some(json);
            return reply(202, "");
        }
        let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        if let (true, ["invocation", id, kind @ ("response" | "error")]) =
            (method == hyper::Method::POST, parts.as_slice())
        {
            let sender = self.state.lock().unwrap().waiting.remove(*id);
            let Some(sender) = sender else { return reply(400, "unknown request id") };
            let outcome = if *kind == "response" { Outcome::Response(json) } else { Outcome::Error(json) };
            let _ = sender.send(outcome);
            return reply(202, "");
        }
        reply(404, "unknown path")
    }

    /// Long-polls until an event is queued, then hands it over with Lambda's headers.
    async fn next(&self) -> hyper::Response<Full<Bytes>> {
        loop {
            let notified = self.queued.notified();
            {
                let mut s = self.state.lock().unwrap();
                s.first_poll.get_or_insert_with(Instant::now);
                if let Some((id, event)) = s.queue.pop_front() {
                    let deadline = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() + 10_000)
                        .unwrap_or(0);
                    return hyper::Response::builder()
                        .status(200)
                        .header("content-type", "application/json")
                        .header("lambda-runtime-aws-request-id", id)
                        .header("lambda-runtime-deadline-ms", deadline.to_string())
                        .header("lambda-runtime-invoked-function-arn", self.function_arn.as_str())
                        .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0")
                        .body(Full::new(Bytes::from(event)))
                        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())));
                }
            }
            notified.await;
        }
    }
}

fn reply(status: u16, message: &str) -> hyper::Response<Full<Bytes>> {
    let mut r = hyper::Response::new(Full::new(Bytes::from(message.to_string())));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    r
}

/// A function binary running against a [`RuntimeApi`]; killed when dropped.
pub struct FunctionProcess {
    child: Child,
    logs: Arc<Mutex<String>>,
    pub started: Instant,
}

impl FunctionProcess {
    /// Starts `binary` with the environment Lambda documents for a custom runtime, plus `extra`
    /// (the table, the DynamoDB endpoint, credentials, configuration).
    pub fn spawn(
        binary: &Path,
        function_name: &str,
        api: &RuntimeApi,
        extra: &[(String, String)],
    ) -> std::io::Result<FunctionProcess> {
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", function_name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function_name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/23/[$LATEST]local")
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
            .env("LAMBDA_TASK_ROOT", binary.parent().unwrap_or(Path::new("/")))
            .env("LAMBDA_RUNTIME_DIR", "/var/runtime")
            .env("_HANDLER", "bootstrap")
            .env("TZ", ":UTC")
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .envs(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = cmd.spawn()?;
        // Both streams (Lambda's log lines go to stdout) drained as they come, so a chatty
        // function never blocks on a full pipe.
        let logs = Arc::new(Mutex::new(String::new()));
        if let Some(out) = child.stdout.take() {
            drain(out, Arc::clone(&logs));
        }
        if let Some(err) = child.stderr.take() {
            drain(err, Arc::clone(&logs));
        }
        Ok(FunctionProcess { child, logs, started })
    }

    /// `None` while running; the exit status once it has stopped.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// What the process wrote to stderr (its logs) so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// Stops the process and returns its logs.
    pub async fn stop(mut self) -> String {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.logs()
    }
}

/// Appends everything `pipe` yields to `logs`, until it closes.
fn drain(mut pipe: impl tokio::io::AsyncRead + Unpin + Send + 'static, logs: Arc<Mutex<String>>) {
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            logs.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
}
