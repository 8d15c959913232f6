//! The device a session comes from, parsed from its User-Agent the way Rocket.Chat
//! reports it: browsers through the woothee parser, Rocket.Chat's own desktop and
//! mobile apps (which browser parsers do not know) by their documented UA forms.

use std::sync::OnceLock;

use regex::Regex;

use crate::core::model::{Device, Os};

/// Rocket.Chat keeps `version` as the first three parts of the long version
/// ("113.0.0.0" → "113.0.0", "112.0" → "112.0").
fn short_version(long: &str) -> String {
    long.split('.').take(3).collect::<Vec<_>>().join(".")
}

/// Longest value kept for any device field; real ones are a few characters.
pub const MAX_FIELD_CHARS: usize = 64;
/// Only the start of a User-Agent is parsed; real ones are a few hundred characters.
const MAX_UA_CHARS: usize = 1024;

fn clip(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(MAX_FIELD_CHARS).collect()
}

fn device(kind: &str, name: &str, long_version: &str, os: (&str, &str)) -> Device {
    Device {
        kind: clip(kind),
        name: clip(name),
        long_version: clip(long_version),
        version: clip(&short_version(long_version)),
        os: Os { name: clip(os.0), version: clip(os.1) },
    }
}

fn rules() -> &'static [Regex; 3] {
    static RULES: OnceLock<[Regex; 3]> = OnceLock::new();
    RULES.get_or_init(|| {
        [
            // Desktop app (Electron): "... Rocket.Chat/3.9.3 Chrome/... Electron/24.3.0 ..."
            Regex::new(r"Rocket\.Chat/([0-9][0-9A-Za-z.\-]*)").expect("valid"),
            // Mobile app: "RC Mobile; ios 16.4; v4.39.0 (2024)"
            Regex::new(r"(?i)^RC Mobile; (ios|android) ([0-9][0-9.]*); v([0-9][0-9.]*)(?: \(([0-9]+)\))?")
                .expect("valid"),
            // Command-line HTTP clients: "curl/8.5.0"
            Regex::new(r"^(curl|Wget|HTTPie|PostmanRuntime|python-requests|okhttp)/([0-9][0-9A-Za-z.\-]*)")
                .expect("valid"),
        ]
    })
}

/// (name, version) of the OS as Rocket.Chat shows it, from woothee's os and os_version.
fn os_of(os: &str, os_version: &str) -> (String, String) {
    let known = |v: &str| if v == "UNKNOWN" { String::new() } else { v.to_string() };
    if let Some(v) = os.strip_prefix("Windows ") {
        return ("Windows".into(), v.to_string());
    }
    match os {
        "Mac OSX" | "Mac OS" => ("Mac OS".into(), known(os_version)),
        "iPhone" | "iPad" | "iPod" | "iOS" => ("iOS".into(), known(os_version)),
        "UNKNOWN" => (String::new(), String::new()),
        other => (other.to_string(), known(os_version)),
    }
}

/// The device of a User-Agent; an unknown one is `type: "other"` with empty fields.
pub fn parse_user_agent(ua: &str) -> Device {
    let ua = match ua.char_indices().nth(MAX_UA_CHARS) {
        Some((end, _)) => &ua[..end],
        None => ua,
    }
    .trim();
    let [desktop, mobile, cli] = rules();
    let parsed = woothee::parser::Parser::new().parse(ua);
    let os = parsed.as_ref().map(|r| os_of(r.os, &r.os_version)).unwrap_or_default();
    if let Some(c) = desktop.captures(ua) {
        return device("desktop-app", "Rocket.Chat", &c[1], (&os.0, &os.1));
    }
    if let Some(c) = mobile.captures(ua) {
        let os_name = if c[1].eq_ignore_ascii_case("ios") { "iOS" } else { "Android" };
        let long = match c.get(4) {
            Some(build) => format!("{} ({})", &c[3], build.as_str()),
            None => c[3].to_string(),
        };
        let mut d = device("mobile-app", "Rocket.Chat", &long, (os_name, &c[2]));
        d.version = clip(&short_version(&c[3]));
        return d;
    }
    if let Some(c) = cli.captures(ua) {
        return device("other", &c[1], &c[2], ("", ""));
    }
    match parsed {
        Some(r) if r.browser_type == "browser" => {
            let kind = match (r.category, r.os) {
                (_, "iPad") => "tablet",
                ("smartphone" | "mobilephone", _) => "mobile",
                _ => "browser",
            };
            let long = if r.version == "UNKNOWN" { "" } else { r.version };
            device(kind, r.name, long, (&os.0, &os.1))
        }
        _ => device("other", "", "", (&os.0, &os.1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real user agents and what Rocket.Chat's device management shows for them.
    #[test]
    fn real_user_agents() {
        let cases: [(&str, [&str; 6]); 13] = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Safari/537.36",
                ["browser", "Chrome", "113.0.0.0", "113.0.0", "Windows", "10"],
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/112.0",
                ["browser", "Firefox", "112.0", "112.0", "Windows", "10"],
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.4 Safari/605.1.15",
                ["browser", "Safari", "16.4", "16.4", "Mac OS", "10.15.7"],
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Safari/537.36 Edg/113.0.1774.42",
                ["browser", "Edge", "113.0.1774.42", "113.0.1774", "Windows", "10"],
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/113.0",
                ["browser", "Firefox", "113.0", "113.0", "Linux", ""],
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Mobile Safari/537.36",
                ["mobile", "Chrome", "112.0.0.0", "112.0.0", "Android", "10"],
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 16_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.4 Mobile/15E148 Safari/604.1",
                ["mobile", "Safari", "16.4", "16.4", "iOS", "16.4"],
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 16_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/113.0.5672.69 Mobile/15E148 Safari/604.1",
                ["tablet", "Chrome", "113.0.5672.69", "113.0.5672", "iOS", "16.4"],
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Rocket.Chat/3.9.3 Chrome/112.0.5615.165 Electron/24.3.0 Safari/537.36",
                ["desktop-app", "Rocket.Chat", "3.9.3", "3.9.3", "Mac OS", "10.15.7"],
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Rocket.Chat/3.9.14 Chrome/108.0.5359.215 Electron/22.3.27 Safari/537.36",
                ["desktop-app", "Rocket.Chat", "3.9.14", "3.9.14", "Windows", "10"],
            ),
            (
                "RC Mobile; ios 16.4; v4.39.0 (2024)",
                ["mobile-app", "Rocket.Chat", "4.39.0 (2024)", "4.39.0", "iOS", "16.4"],
            ),
            (
                "RC Mobile; android 13; v4.39.0 (51234)",
                ["mobile-app", "Rocket.Chat", "4.39.0 (51234)", "4.39.0", "Android", "13"],
            ),
            ("curl/8.5.0", ["other", "curl", "8.5.0", "8.5.0", "", ""]),
        ];
        for (ua, [kind, name, long, version, os, os_version]) in cases {
            let d = parse_user_agent(ua);
            assert_eq!(
                (
                    d.kind.as_str(),
                    d.name.as_str(),
                    d.long_version.as_str(),
                    d.version.as_str(),
                    d.os.name.as_str(),
                    d.os.version.as_str()
                ),
                (kind, name, long, version, os, os_version),
                "{ua}"
            );
        }
    }

    #[test]
    fn long_fields_are_clipped() {
        let d = parse_user_agent(&format!("curl/{}", "9".repeat(100_000)));
        assert_eq!((d.name.as_str(), d.long_version.len()), ("curl", MAX_FIELD_CHARS));
        let d = parse_user_agent(&format!("Mozilla/5.0 (Windows NT 10.0) Rocket.Chat/{}", "1.".repeat(5000)));
        assert!(d.long_version.len() <= MAX_FIELD_CHARS && d.version.len() <= MAX_FIELD_CHARS);
    }

    #[test]
    fn junk_is_other() {
        for ua in ["", "x", "\u{0}\u{1}", &"A".repeat(10_000)] {
            assert_eq!(parse_user_agent(ua).kind, "other");
        }
    }
}
