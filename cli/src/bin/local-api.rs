//! Serves every API route on one local port (default 127.0.0.1:9000) against the
//! DynamoDB that `AWS_ENDPOINT_URL` points at. Stops on Ctrl-C.

use std::sync::Arc;

use sessions_api::App;
use sessions_cli::docs::Docs;
use sessions_cli::local_api::serve_with_docs;

#[tokio::main]
async fn main() {
    sessions_api::runner::init_tracing();
    let addr = std::env::var("LOCAL_API_ADDR").unwrap_or_else(|_| "127.0.0.1:9000".into());
    let app = match App::from_env().await {
        Ok(app) => Arc::new(app),
        Err(e) => {
            eprintln!("local-api: configuration error: {e}");
            std::process::exit(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("local-api: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("local-api: serving on http://{addr} (table {})", app.config.table_name);
    // The docs page needs swagger-ui-dist on disk (scripts/run-local installs it).
    let docs = std::env::var_os("LOCAL_API_DOCS_DIR").map(|dir| Docs {
        ui_dir: dir.into(),
        spec: std::env::var_os("OPENAPI_FILE").map_or_else(|| "openapi.yaml".into(), Into::into),
    });
    match &docs {
        Some(_) => eprintln!("local-api: docs on http://{addr}/docs"),
        None => eprintln!("local-api: no docs page (LOCAL_API_DOCS_DIR is not set)"),
    }
    // The table's stream, fed to the consumer as Lambda would: the events it publishes are
    // printed to the log (docs/events.md).
    tokio::spawn(sessions_api::stream::local::follow(Arc::clone(&app)));
    tokio::select! {
        r = serve_with_docs(app, listener, docs) => if let Err(e) = r { eprintln!("local-api: {e}"); std::process::exit(1) },
        _ = tokio::signal::ctrl_c() => eprintln!("local-api: stopped"),
    }
}
