//! sessions-soak (run by `scripts/soak`, docs/soak.md): N concurrent clients (default 50)
//! for M minutes (default 5) against the local server over HTTP, mixing logins, lists,
//! info and me (which record activity), list.all, logouts, logout.me, admin ends, MonoCloud
//! revokes and lists, wrong passwords and wrong 2FA codes. Then it checks the invariants (no
//! 5xx, no ended token works, the session counter equals the sessions in the table, no limit
//! exceeded, every end has its history record) and writes soak.md with the throughput and
//! each route's p50/p99. Exits 1 if an invariant fails, 2 if the soak could not run.

mod checks;
mod client;
mod cpu;
mod fixture;
mod http;
mod limits;
mod ops;
mod record;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use sessions_api::App;
use sessions_api::core::clock::{iso_millis, now_ms};
use sessions_cli::demo;

use crate::client::{Client, Shared, admin_headers, step_up_code};
use crate::fixture::{Admin, Fixture};
use crate::http::{Call, Http};
use crate::record::Recorder;

#[derive(Parser)]
#[command(name = "sessions-soak", about = "Soak the local run: concurrent clients, then the invariants")]
struct Args {
    /// The local server, e.g. http://127.0.0.1:9000 (scripts/soak starts one and passes it).
    #[arg(long)]
    base: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// How long the clients run, in minutes.
    #[arg(long, default_value_t = 5.0)]
    minutes: f64,
    /// Clients (devices) per user: they share the user's sessions, and so its cap.
    #[arg(long, default_value_t = 5)]
    clients_per_user: usize,
    /// Seconds over which the clients start, one after another (0: all at once). A soak
    /// measures sustained load; on 2 cores fifty logins at the same instant are a spike of
    /// their own (docs/soak.md).
    #[arg(long, default_value_t = 10.0)]
    ramp_up_secs: f64,
    /// Pause of each client after each call, in ms (0: the next call as soon as an answer comes).
    #[arg(long, default_value_t = 0)]
    think_ms: u64,
    /// Where soak.md goes (scripts/soak puts it into docs/soak.md).
    #[arg(long, default_value = "target/soak")]
    out: PathBuf,
    /// Processes whose CPU the report shows, `name=pid,...` (scripts/soak passes the local
    /// server's and DynamoDB Local's); the soak's own is always shown.
    #[arg(long, default_value = "")]
    watch: String,
    /// The commit the report names (scripts/soak passes `git describe --always --dirty`).
    #[arg(long, default_value = "an unnamed commit")]
    commit: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("sessions-soak: {e}");
            ExitCode::from(2)
        }
    }
}

/// Prepares, soaks, checks and reports; `Ok(false)` when an invariant failed.
async fn run(args: Args) -> Result<bool, String> {
    if args.clients == 0 || args.minutes <= 0.0 {
        return Err("--clients and --minutes must be above 0".into());
    }
    let app = App::from_env().await.map_err(|e| format!("configuration: {e}"))?;
    // The soak writes accounts with passwords it knows: local tables only, as seed-demo.
    let endpoint = demo::local_endpoint(|name| std::env::var(name).ok()).map_err(|e| e.to_string())?;
    let store = app.store.pinned_to(&endpoint);
    let started = iso_millis(now_ms());
    eprintln!("sessions-soak: creating the soak's accounts in {}", store.table());
    let fixture = fixture::prepare(&store, &app.config, args.clients, args.clients_per_user)
        .await
        .map_err(|e| format!("preparing: {e}"))?;
    let http = Http::new(&args.base, Instant::now());
    let mut last_step = 0;
    step_up(&http, &fixture.admin, &mut last_step).await?;
    let shared = Arc::new(Shared {
        http,
        fixture,
        deadline: Instant::now() + Duration::from_secs_f64(args.minutes * 60.0),
        think: Duration::from_millis(args.think_ms),
        // At most half the run, so every client runs for at least the other half.
        ramp_up: Duration::from_secs_f64(args.ramp_up_secs.clamp(0.0, args.minutes * 30.0)),
        clients: args.clients,
        per_user: args.clients_per_user.max(1),
        step_up: tokio::sync::Mutex::new(last_step),
        calls: AtomicU64::new(0),
        bad: AtomicU64::new(0),
    });
    eprintln!("sessions-soak: {} clients for {} minutes against {}", args.clients, args.minutes, args.base);
    let watch = cpu::Watch::parse(&args.watch);
    let before = watch.sample();
    let mut rec = drive(&shared, args.clients).await?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpu = before.zip(watch.sample()).and_then(|(a, b)| watch.shares(&a, &b, cores));
    keep_admin_tokens(&mut rec, &shared.fixture);
    eprintln!("sessions-soak: checking the invariants ({} tokens to try)", rec.issued.len());
    let state = checks::read_table(&store).await?;
    let limits = limits::Limits::from(&app.config);
    let verdicts = checks::run_checks(&rec, &state, &shared.http, &limits, args.clients).await;
    let run = report::RunInfo {
        command: command_line(&args),
        commit: args.commit.clone(),
        started,
        clients: args.clients,
        minutes: args.minutes,
        cpu,
    };
    publish(&args.out, &report::render(&run, &rec, &app.config, &limits, &verdicts))?;
    Ok(verdicts.iter().all(|v| v.pass))
}

/// Writes the report to `out`/soak.md and prints it.
fn publish(out: &std::path::Path, md: &str) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let file = out.join("soak.md");
    std::fs::write(&file, md).map_err(|e| format!("{}: {e}", file.display()))?;
    println!("{md}");
    eprintln!("sessions-soak: report in {}", file.display());
    Ok(())
}

/// The shared administrator's first step-up, before the clients start: one list.all with
/// the current code, after which the token is trusted for this agent and address.
async fn step_up(http: &Http, admin: &Admin, last_step: &mut i64) -> Result<(), String> {
    let code = step_up_code(admin, last_step).await;
    let call = Call::get("/api/v1/sessions/list.all?count=1").headers(admin_headers(admin)).header("x-2fa-code", code);
    let answer = http.send(call).await;
    if answer.status != 200 {
        return Err(format!("the administrator's step-up was answered {}", answer.label()));
    }
    Ok(())
}

/// Runs every client to the deadline, with a progress line every 30 seconds.
async fn drive(shared: &Arc<Shared>, clients: usize) -> Result<Recorder, String> {
    let ticker = tokio::spawn(progress(Arc::clone(shared)));
    let tasks: Vec<_> = (0..clients).map(|i| tokio::spawn(Client::new(Arc::clone(shared), i).run(i))).collect();
    let mut rec = Recorder::default();
    let mut panicked = 0;
    for task in tasks {
        match task.await {
            Ok(r) => rec.merge(r),
            Err(_) => panicked += 1,
        }
    }
    ticker.abort();
    if panicked > 0 {
        return Err(format!("{panicked} clients panicked; their calls are not in any report"));
    }
    Ok(rec)
}

/// Prints a progress line every 30 seconds.
async fn progress(shared: Arc<Shared>) {
    let start = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(30)).await;
        let secs = start.elapsed().as_secs_f64();
        let calls = shared.calls.load(Ordering::Relaxed);
        eprintln!(
            "sessions-soak: {secs:.0} s, {calls} calls ({:.0}/s), {} answered 5xx or not at all",
            calls as f64 / secs,
            shared.bad.load(Ordering::Relaxed)
        );
    }
}

/// The administrators' tokens join the token check: they must still work.
fn keep_admin_tokens(rec: &mut Recorder, fixture: &Fixture) {
    for admin in std::iter::once(&fixture.admin).chain(&fixture.wrong_code) {
        rec.issue(&admin.account.user_id, &admin.token);
    }
}

/// The command as the report shows it.
fn command_line(args: &Args) -> String {
    let mut line = format!("scripts/soak --clients {} --minutes {}", args.clients, args.minutes);
    if args.clients_per_user != 5 {
        line += &format!(" --clients-per-user {}", args.clients_per_user);
    }
    if args.ramp_up_secs != 10.0 {
        line += &format!(" --ramp-up-secs {}", args.ramp_up_secs);
    }
    if args.think_ms != 0 {
        line += &format!(" --think-ms {}", args.think_ms);
    }
    line
}
