//! The console at /console: one document whose policy allows exactly its inline script and
//! style (by the SHA-256 the browser computes of each element's text), cached by ETag, served
//! from this origin without CORS; its function reaches no table.

use base64::Engine;
use sessions_api::Endpoint::Console;
use sha2::{Digest, Sha256};

use crate::support::*;

/// The text of the one `<tag>` element of `html`.
fn element_text<'a>(html: &'a str, tag: &str) -> &'a str {
    let open = html.find(&format!("<{tag}")).unwrap_or_else(|| panic!("no <{tag}>"));
    let start = open + html[open..].find('>').unwrap() + 1;
    let end = start + html[start..].find(&format!("</{tag}>")).unwrap();
    assert_eq!(html.matches(&format!("<{tag}")).count(), 1, "one <{tag}> element");
    &html[start..end]
}

fn sha256_b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn the_page_is_one_document_whose_policy_allows_only_its_own_script_and_style() {
    let env = TestEnv::seeded().await;
    let (endpoint, resp) = env.send_event(&repo_root().join("events/console-page.json")).await;
    assert_eq!((endpoint, resp.status), (Console, 200), "{}", resp.body);
    assert_eq!(resp.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = resp.header("content-security-policy").expect("a policy");
    let script = sha256_b64(element_text(&resp.body, "script"));
    let style = sha256_b64(element_text(&resp.body, "style"));
    assert_eq!(
        csp,
        format!(
            "default-src 'none'; script-src 'sha256-{script}'; style-src 'sha256-{style}'; img-src 'self' data:; \
             connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
    );
    assert!(!resp.body.contains("{{script}}") && !resp.body.contains("{{style}}"));
    let markup =
        resp.body.replace(element_text(&resp.body, "script"), "").replace(element_text(&resp.body, "style"), "");
    assert!(!inline_handler_or_style(&markup), "no inline event handler or style attribute (the policy refuses them)");
    assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(resp.header("access-control-allow-origin"), None, "same origin: no CORS");
}

/// Whether the markup has an inline event handler (`onclick="…"`) or `style="…"` attribute.
fn inline_handler_or_style(markup: &str) -> bool {
    markup.split('<').skip(1).filter_map(|t| t.split('>').next()).any(|tag| {
        tag.split_whitespace()
            .skip(1)
            .any(|attr| (attr.starts_with("on") || attr.starts_with("style")) && attr.contains('='))
    })
}

#[tokio::test]
async fn a_reload_with_the_etag_is_a_304_and_any_other_gets_the_page() {
    let env = TestEnv::seeded().await;
    let first = env.send(Console, Req::new()).await;
    assert_eq!(first.header("cache-control"), Some("no-cache"));
    let etag = first.header("etag").expect("an ETag").to_string();
    let again = env.send(Console, Req::new().header("if-none-match", &etag)).await;
    assert_eq!((again.status, again.body.as_str()), (304, ""));
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let listed = env.send(Console, Req::new().header("if-none-match", &format!("\"old\", {etag}"))).await;
    assert_eq!(listed.status, 304);
    let stale = env.send(Console, Req::new().header("if-none-match", "\"old\"")).await;
    assert_eq!((stale.status, stale.body), (200, first.body));
}

#[test]
fn the_template_serves_it_at_slash_console_from_a_function_with_no_grant() {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    let t: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let f = &t["Resources"]["ConsoleFunction"];
    assert_eq!(f["Metadata"]["BuildProperties"]["Binary"], "console-page");
    let api = &f["Properties"]["Events"]["Api"]["Properties"];
    assert_eq!((api["Method"].as_str(), api["Path"].as_str()), (Some("GET"), Some("/console")));
    assert!(f["Properties"]["Policies"].is_null(), "the page's function reaches no table: no policy");
    assert!(f["Properties"]["Role"].is_null());
}
