//! The docs page of the local run (`/docs`): Swagger UI, from npm's swagger-ui-dist on disk
//! (no CDN), over openapi.yaml, with "try it" pointed at the server that serves the page.

use std::path::PathBuf;

use serde_json::{Value, json};

/// Where the page's files are.
#[derive(Clone, Debug)]
pub struct Docs {
    /// swagger-ui-dist's folder (`LOCAL_API_DOCS_DIR`).
    pub ui_dir: PathBuf,
    /// The description (`OPENAPI_FILE`, default openapi.yaml).
    pub spec: PathBuf,
}

/// The only files of swagger-ui-dist the page loads; nothing else is read from disk.
const UI_FILES: [(&str, &str); 4] = [
    ("swagger-ui.css", "text/css; charset=utf-8"),
    ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    ("swagger-ui-standalone-preset.js", "text/javascript; charset=utf-8"),
    ("favicon-32x32.png", "image/png"),
];

const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Sessions API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/docs/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout"
    });
  </script>
</body>
</html>
"##;

/// An answer of the docs page: status, content type, body.
pub type Page = (u16, &'static str, Vec<u8>);

impl Docs {
    /// The docs answer for `path` (under /docs), or `None` for any other path. `host` is the
    /// request's Host, the server "try it" calls.
    pub fn answer(&self, method: &str, path: &str, host: Option<&str>) -> Option<Page> {
        let rest = path.strip_prefix("/docs")?;
        if !rest.is_empty() && !rest.starts_with('/') {
            return None;
        }
        if method != "GET" && method != "HEAD" {
            return Some(not_found());
        }
        Some(match rest.trim_start_matches('/') {
            "" | "index.html" => (200, "text/html; charset=utf-8", PAGE.as_bytes().to_vec()),
            "openapi.json" => match self.spec_json(host) {
                Ok(spec) => (200, "application/json", spec.to_string().into_bytes()),
                Err(e) => (500, "application/json", json!({"message": e}).to_string().into_bytes()),
            },
            file => match UI_FILES.iter().find(|(name, _)| *name == file) {
                Some((name, content_type)) => match std::fs::read(self.ui_dir.join(name)) {
                    Ok(bytes) => (200, content_type, bytes),
                    Err(_) => not_found(),
                },
                None => not_found(),
            },
        })
    }

    /// openapi.yaml as JSON, its servers replaced by the one serving the page.
    fn spec_json(&self, host: Option<&str>) -> Result<Value, String> {
        let text = std::fs::read_to_string(&self.spec).map_err(|e| format!("{}: {e}", self.spec.display()))?;
        let mut spec: Value = serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", self.spec.display()))?;
        if let Some(host) =
            host.filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
        {
            spec["servers"] = json!([{"url": format!("http://{host}"), "description": "this local run"}]);
        }
        Ok(spec)
    }
}

fn not_found() -> Page {
    (404, "application/json", br#"{"message":"Not Found"}"#.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs() -> Docs {
        // One folder per call: the tests run at once, and a file rewritten under another's
        // read reads empty.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("docs-test-{}-{call}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("swagger-ui.css"), "body{}").unwrap();
        std::fs::write(dir.join("secret.txt"), "no").unwrap();
        let spec = dir.join("openapi.yaml");
        std::fs::write(&spec, "openapi: 3.0.3\nservers:\n- url: http://127.0.0.1:9000\npaths: {}\n").unwrap();
        Docs { ui_dir: dir, spec }
    }

    #[test]
    fn serves_the_page_the_spec_and_only_the_listed_files() {
        let d = docs();
        let (status, kind, body) = d.answer("GET", "/docs", None).unwrap();
        assert_eq!((status, kind), (200, "text/html; charset=utf-8"));
        assert!(String::from_utf8(body).unwrap().contains("/docs/swagger-ui-bundle.js"));
        assert_eq!(d.answer("GET", "/docs/swagger-ui.css", None).unwrap().2, b"body{}");
        for path in ["/docs/secret.txt", "/docs/../Cargo.toml", "/docs/openapi.yaml", "/docs/swagger-ui-bundle.js"] {
            assert_eq!(d.answer("GET", path, None).unwrap().0, 404, "{path}");
        }
        assert_eq!(d.answer("POST", "/docs", None).unwrap().0, 404);
        assert!(d.answer("GET", "/docsx", None).is_none());
        assert!(d.answer("GET", "/api/v1/login", None).is_none());
    }

    #[test]
    fn try_it_points_at_the_server_that_serves_the_page() {
        let d = docs();
        let spec: Value =
            serde_json::from_slice(&d.answer("GET", "/docs/openapi.json", Some("127.0.0.1:4321")).unwrap().2).unwrap();
        assert_eq!(spec["servers"][0]["url"], "http://127.0.0.1:4321");
        let spec: Value =
            serde_json::from_slice(&d.answer("GET", "/docs/openapi.json", Some("a b")).unwrap().2).unwrap();
        assert_eq!(spec["servers"][0]["url"], "http://127.0.0.1:9000");
    }
}
