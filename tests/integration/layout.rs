//! The shape of the code (docs/architecture.md), checked on the sources: the core and the
//! store import no wire format, no library file is over 500 lines, and no function outside
//! tests and the benchmark is over 60 lines (from its `fn` to its closing brace, by syn's
//! spans; doc comments and attributes not counted).

use std::path::{Path, PathBuf};

use syn::visit::Visit;

use crate::support::repo_root;

const MAX_FILE_LINES: usize = 500;
const MAX_FN_LINES: usize = 60;

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The non-test code: the library, the tools and every function crate.
fn production_files() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files = rust_files(&root.join("shared/src"));
    files.extend(rust_files(&root.join("cli/src")));
    files.extend(rust_files(&root.join("functions")));
    files
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("test")
            || (a.path().is_ident("cfg") && a.meta.require_list().is_ok_and(|l| l.tokens.to_string() == "test"))
    })
}

/// Functions over [`MAX_FN_LINES`], as `name (lines)`, skipping `#[test]` and `#[cfg(test)]` items.
#[derive(Default)]
struct LongFunctions(Vec<String>);

impl LongFunctions {
    fn check(&mut self, name: &syn::Ident, fn_token: &syn::token::Fn, block: &syn::Block) {
        let lines = block.brace_token.span.close().end().line - fn_token.span.start().line + 1;
        if lines > MAX_FN_LINES {
            self.0.push(format!("{name} ({lines} lines, from line {})", fn_token.span.start().line));
        }
    }
}

impl<'ast> Visit<'ast> for LongFunctions {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_test(&f.attrs) {
            self.check(&f.sig.ident, &f.sig.fn_token, &f.block);
            syn::visit::visit_item_fn(self, f);
        }
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test(&f.attrs) {
            self.check(&f.sig.ident, &f.sig.fn_token, &f.block);
            syn::visit::visit_impl_item_fn(self, f);
        }
    }
    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let (false, Some(block)) = (is_test(&f.attrs), &f.default) {
            self.check(&f.sig.ident, &f.sig.fn_token, block);
        }
        syn::visit::visit_trait_item_fn(self, f);
    }
}

#[test]
fn no_function_outside_tests_is_over_sixty_lines() {
    let mut long = Vec::new();
    for path in production_files() {
        let text = std::fs::read_to_string(&path).expect("a source file");
        let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut found = LongFunctions::default();
        found.visit_file(&file);
        long.extend(found.0.into_iter().map(|f| format!("{}: {f}", path.display())));
    }
    assert!(long.is_empty(), "functions over {MAX_FN_LINES} lines:\n{}", long.join("\n"));
}

#[test]
fn no_library_file_is_over_five_hundred_lines() {
    let files = rust_files(&repo_root().join("shared/src"));
    assert!(files.len() > 40, "the library's files were found");
    let long: Vec<String> = files
        .iter()
        .map(|p| (p, std::fs::read_to_string(p).expect("a source file").lines().count()))
        .filter(|(_, lines)| *lines > MAX_FILE_LINES)
        .map(|(p, lines)| format!("{} ({lines} lines)", p.display()))
        .collect();
    assert!(long.is_empty(), "files over {MAX_FILE_LINES} lines:\n{}", long.join("\n"));
}

#[test]
fn the_core_and_the_store_import_no_wire_format() {
    let root = repo_root().join("shared/src");
    let mut files = rust_files(&root.join("core"));
    files.extend(rust_files(&root.join("store")));
    assert!(files.len() > 20, "the core's and the store's files were found");
    let mut offending = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("a source file");
        for (i, line) in text.lines().enumerate() {
            let dialect = ["rocketchat", "monocloud", "routes", "app::", "response", "request"]
                .iter()
                .any(|m| line.contains(&format!("crate::{m}")) || line.contains(&format!("super::super::{m}")));
            if dialect {
                offending.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(offending.is_empty(), "the core and the store must not import a dialect:\n{}", offending.join("\n"));
}
