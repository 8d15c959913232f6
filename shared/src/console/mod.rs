//! The device-management console at `/console` (docs/console.md): one HTML document, its
//! script and style (the repository's `console/` folder) inlined at build time, so a phone
//! loads it in one round trip. The Content-Security-Policy allows exactly those two inline
//! elements by their SHA-256 and nothing else but calls to this origin. Its `wire` answers.

pub mod wire;

use std::sync::OnceLock;

use base64::Engine;
use sha2::{Digest, Sha256};

const TEMPLATE: &str = include_str!("../../../console/index.html");
const SCRIPT: &str = include_str!("../../../console/app.js");
const STYLE: &str = include_str!("../../../console/style.css");

/// The assembled page and the headers that go with it.
#[derive(Debug)]
pub struct Page {
    pub html: String,
    /// A strong validator of the document (`ETag`): a reload that has it gets a 304.
    pub etag: String,
    pub csp: String,
}

/// The page, assembled once per execution environment.
pub fn page() -> &'static Page {
    static PAGE: OnceLock<Page> = OnceLock::new();
    PAGE.get_or_init(|| assemble(TEMPLATE, SCRIPT, STYLE).expect("console/index.html has {{style}} and {{script}}"))
}

/// `template` with `style` and `script` in place of `{{style}}` and `{{script}}`, and the
/// policy allowing exactly the two elements' contents. `Err` names a placeholder missing or
/// an element the contents would close early.
pub fn assemble(template: &str, script: &str, style: &str) -> Result<Page, String> {
    let style_text = element_text(template, "{{style}}", "style", style)?;
    let script_text = element_text(template, "{{script}}", "script", script)?;
    let html = template.replacen("{{style}}", style, 1).replacen("{{script}}", script, 1);
    let csp = format!(
        "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; img-src 'self' data:; \
         connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        digest_b64(&script_text),
        digest_b64(&style_text)
    );
    let etag = format!("\"{}\"", &crate::core::ids::sha256_hex(&html)[..32]);
    Ok(Page { html, etag, csp })
}

/// The text the browser hashes: everything between the element's start tag and its end tag,
/// with `contents` in place of `placeholder`.
fn element_text(template: &str, placeholder: &str, tag: &str, contents: &str) -> Result<String, String> {
    let end_tag = format!("</{tag}");
    if contents.to_ascii_lowercase().contains(&end_tag) {
        return Err(format!("the {tag} contains {end_tag}, which would end its element early"));
    }
    let (before, after) = template.split_once(placeholder).ok_or(format!("no {placeholder}"))?;
    if after.contains(placeholder) {
        return Err(format!("{placeholder} twice"));
    }
    let start = before.rfind(&format!("<{tag}")).ok_or(format!("{placeholder} outside a <{tag}>"))?;
    let open_end = before[start..].find('>').map(|i| start + i + 1).ok_or(format!("an unclosed <{tag}"))?;
    let close = after.find(&end_tag).ok_or(format!("no {end_tag}> after {placeholder}"))?;
    Ok(format!("{}{contents}{}", &before[open_end..], &after[..close]))
}

fn digest_b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_hash_of_exactly_each_elements_text() {
        let page = assemble("<style>{{style}}</style><script>\n{{script}}\n</script>", "go()", "p{}").unwrap();
        assert_eq!(page.html, "<style>p{}</style><script>\ngo()\n</script>");
        assert!(page.csp.contains(&format!("script-src 'sha256-{}'", digest_b64("\ngo()\n"))), "{}", page.csp);
        assert!(page.csp.contains(&format!("style-src 'sha256-{}'", digest_b64("p{}"))), "{}", page.csp);
        assert!(page.csp.starts_with("default-src 'none';") && !page.csp.contains("unsafe"));
    }

    #[test]
    fn a_missing_placeholder_or_an_early_end_tag_is_refused() {
        assert!(assemble("<style>{{style}}</style>", "x", "y").unwrap_err().contains("{{script}}"));
        let early = assemble("<style>{{style}}</style><script>{{script}}</script>", "a('</SCRIPT>')", "y");
        assert!(early.unwrap_err().contains("end its element early"));
    }

    #[test]
    fn the_repositorys_console_assembles() {
        let page = page();
        assert!(page.html.starts_with("<!doctype html>"), "{}", &page.html[..40]);
        assert!(!page.html.contains("{{script}}") && !page.html.contains("{{style}}"));
        assert_eq!(page.etag.len(), 34);
    }
}
