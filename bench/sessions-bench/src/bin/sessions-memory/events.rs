//! Each function's events/ files (`<function>.json` and `<function>-<case>.json`, a file
//! going to the longest function name it starts with), plus the benchmark's deep list.all
//! page as a variant of list.all's event.

use std::path::Path;

use serde_json::{Value, json};
use sessions_api::Endpoint;
use sessions_api::routes::OTHER_FUNCTIONS;

/// list.all's deep page, as the benchmark calls it (offset 1 000, 50 rows, newest first).
pub const DEEP_PAGE: &str = "sessions-list-all-offset-1000";

/// Every function, as template.yaml and functions/ name them: the routes', then the others.
pub fn functions() -> Vec<&'static str> {
    Endpoint::ALL.iter().map(|e| e.function()).chain(OTHER_FUNCTIONS).collect()
}

/// The function an events/ file belongs to, by its stem.
fn owner(stem: &str) -> Option<&'static str> {
    functions().into_iter().filter(|f| stem == *f || stem.starts_with(&format!("{f}-"))).max_by_key(|f| f.len())
}

/// `function`'s events as (name, event), its own file first; list.all with its deep page.
pub fn of(root: &Path, function: &str) -> std::io::Result<Vec<(String, Value)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root.join("events"))? {
        let path = entry?.path();
        let Some(stem) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else { continue };
        if path.extension().is_some_and(|e| e == "json") && owner(&stem) == Some(function) {
            let event: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
            found.push((stem, event));
        }
    }
    found.sort_by_key(|(name, _)| (name != function, name.clone()));
    if function == "sessions-list-all"
        && let Some((_, event)) = found.first()
    {
        found.push((DEEP_PAGE.to_string(), deep_page(event.clone())));
    }
    Ok(found)
}

/// list.all's event asking for the page at offset 1 000.
fn deep_page(mut event: Value) -> Value {
    let sort = r#"{"loginAt":-1}"#;
    let encoded = percent_encoding::utf8_percent_encode(sort, percent_encoding::NON_ALPHANUMERIC);
    event["rawQueryString"] = json!(format!("offset=1000&count=50&sort={encoded}"));
    event["queryStringParameters"] = json!({"offset": "1000", "count": "50", "sort": sort});
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_go_to_the_longest_function_name() {
        assert_eq!(owner("sessions-list-all-filter"), Some("sessions-list-all"));
        assert_eq!(owner("sessions-list-alb"), Some("sessions-list"));
        assert_eq!(owner("users-logout-other-user"), Some("users-logout"));
        assert_eq!(owner("authorizer-unknown-token"), Some("authorizer"));
        assert_eq!(owner("nothing"), None);
    }

    #[test]
    fn every_function_has_its_own_event_first() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for function in functions() {
            let events = of(&root, function).unwrap();
            assert_eq!(events.first().map(|e| e.0.as_str()), Some(function), "{function}");
        }
        let list_all = of(&root, "sessions-list-all").unwrap();
        assert_eq!(list_all.last().map(|e| e.0.as_str()), Some(DEEP_PAGE));
        assert_eq!(list_all.last().unwrap().1["queryStringParameters"]["offset"], "1000");
    }
}
