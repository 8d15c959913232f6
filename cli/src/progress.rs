//! Progress bars for admin commands that write many items. They draw on stderr and only
//! when it is a terminal, so scripts, tests and CI logs stay clean.

use indicatif::ProgressStyle;

pub use indicatif::ProgressBar;

/// A bar labelled `what`; its length is set by the code that does the work.
pub fn bar(what: &str) -> ProgressBar {
    let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
        .expect("the template is valid")
        .progress_chars("=> ");
    ProgressBar::new(0).with_style(style).with_prefix(what.to_string())
}
