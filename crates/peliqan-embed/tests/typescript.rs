//! `js/index.d.ts` is written by hand; these tests hold its lists to the
//! Rust side, so a code or an option added on one side only fails here.
#![cfg(not(target_arch = "wasm32"))]

use peliqan_embed::ErrorCode;
use peliqan_embed::config::OPTION_KEYS;
use std::collections::BTreeSet;

const INDEX_D_TS: &str = include_str!("../js/index.d.ts");

/// The text from `start` up to the next `end` after it.
fn between<'a>(start: &str, end: &str) -> &'a str {
    let from = INDEX_D_TS
        .find(start)
        .unwrap_or_else(|| panic!("index.d.ts has no `{start}`"))
        + start.len();
    let len = INDEX_D_TS[from..]
        .find(end)
        .unwrap_or_else(|| panic!("index.d.ts has no `{end}` after `{start}`"));
    &INDEX_D_TS[from..from + len]
}

#[test]
fn the_error_code_union_lists_every_rust_code_in_order() {
    let union = between("export type PeliqanErrorCode =", ";");
    let ts: Vec<&str> = union
        .split('|')
        .map(|part| part.trim().trim_matches('\''))
        .filter(|part| !part.is_empty())
        .collect();
    let rust: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(ts, rust);
}

#[test]
fn the_typed_options_are_the_keys_the_config_reader_reads() {
    // `CommonOptions` and the token-source variants of `PeliqanEmbedOptions`.
    let options = between("interface CommonOptions {", "export type AuthKind");
    let ts: BTreeSet<&str> = options
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let name_len = line.find(|c: char| !c.is_ascii_alphanumeric() && c != '_')?;
            let rest = &line[name_len..];
            (name_len > 0 && (rest.starts_with(':') || rest.starts_with("?:")))
                .then(|| &line[..name_len])
        })
        .collect();
    let rust: BTreeSet<&str> = OPTION_KEYS.iter().copied().collect();
    assert_eq!(ts, rust);
}
