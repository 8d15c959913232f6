//! CloudWatch metrics as Embedded Metric Format lines on stdout: Lambda sends stdout to
//! CloudWatch Logs, which turns each such line into a metric (namespace `SessionsApi`), with
//! no API call on the request's path.

use serde_json::json;

/// The namespace every metric here is published under.
pub const NAMESPACE: &str = "SessionsApi";

/// The EMF line that counts one `name`.
pub fn count_line(name: &str, timestamp_ms: i64) -> String {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [[]], "Metrics": [{"Name": name, "Unit": "Count"}]}]
        },
        name: 1
    })
    .to_string()
}

/// Counts one `name` now.
pub fn emit_count(name: &str) {
    println!("{}", count_line(name, crate::core::clock::now_ms()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_is_one_emf_line() {
        let line: serde_json::Value = serde_json::from_str(&count_line("ActivityWritesDropped", 5)).unwrap();
        assert_eq!(line["ActivityWritesDropped"], 1);
        assert_eq!(line["_aws"]["Timestamp"], 5);
        let metric = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(
            (metric["Namespace"].as_str(), metric["Metrics"][0]["Name"].as_str()),
            (Some(NAMESPACE), Some("ActivityWritesDropped"))
        );
    }
}
