//! MonoCloud's audit log (`GET /api/logs`, the management SDK's `LogsClient.getAllLogs`):
//! sign-ins, refusals and session ends, by API key (docs/audit-log.md).

use super::LogPage;
use crate::core::audit::LogEntry;
use crate::core::audit_query::MAX_LOG_ROWS;
use crate::core::clock::Millis;
use crate::core::config::Config;
use crate::core::scopes::Scope;
use crate::monocloud::auth::authorize;
use crate::monocloud::errors::McError;
use crate::monocloud::query::parse_log_params;
use crate::request::{ApiRequest, RequestView};
use crate::store::{ApiKeyStore, AuditLogReader, LogRange};

/// GET /api/logs: the key first (401), then the parameters (400/422); entries kept
/// `HISTORY_DAYS`, matching the filter, in the asked order, one page of them.
pub async fn list<S: ApiKeyStore + AuditLogReader>(
    store: &S,
    config: &Config,
    req: &ApiRequest,
    now: Millis,
) -> Result<LogPage, McError> {
    authorize(store, req, Scope::ReadLogs).await?;
    let params = parse_log_params(&req.query_pairs())?;
    let now_secs = now.div_euclid(1000);
    let max_rows = config.list_scan_max_rows.min(MAX_LOG_ROWS);
    let range = LogRange {
        user_id: params.filter.user().map(str::to_string),
        from: params.filter.from.unwrap_or(0).max(now_secs - config.history_days * 86_400),
        to: params.filter.to.unwrap_or(now_secs).min(now_secs),
        max_rows,
    };
    let Some(read) = read_range(store, range).await? else {
        return Err(too_many(max_rows));
    };
    let mut entries: Vec<LogEntry> = read.into_iter().filter(|e| params.filter.matches(e)).collect();
    let (key, direction) = params.sort;
    entries.sort_by(|a, b| key.compare((a, b), direction));
    let total = entries.len();
    let start = (params.page - 1).saturating_mul(params.size);
    let entries = entries.into_iter().skip(start).take(params.size).collect();
    Ok(LogPage { entries, total, page: params.page, size: params.size })
}

/// The entries of `range`: a range wholly before what is kept (or inverted) holds nothing and
/// is not read; `targets.id` reads that user's partitions, and, when they hold nothing (the id
/// was a session's, say), everyone's.
async fn read_range(store: &impl AuditLogReader, range: LogRange) -> Result<Option<Vec<LogEntry>>, McError> {
    if range.from > range.to {
        return Ok(Some(Vec::new()));
    }
    let read = store.logs(&range).await?;
    if range.user_id.is_some() && read.as_ref().is_some_and(Vec::is_empty) {
        return Ok(store.logs(&LogRange { user_id: None, ..range }).await?);
    }
    Ok(read)
}

/// More entries in the range than one request may read.
fn too_many(max: usize) -> McError {
    let message = format!(
        "More than {max} log entries are in range: narrow the filter with targets.id:<user id> or time_stamp:[from TO to]."
    );
    McError::Validation([("filter".to_string(), vec![message])].into())
}
