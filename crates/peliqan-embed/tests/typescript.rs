//! `js/index.d.ts` is written by hand; these tests hold its lists to the
//! Rust side (error codes, option keys, dialects, browser operations, the
//! token service's answer), so a name added on one side only fails here.
#![cfg(not(target_arch = "wasm32"))]

use peliqan_api::dialect::Side;
use peliqan_api::{BrowserRouting, Dialect, ExternalId, Operation, SubaccountId, TokenAnswer};
use peliqan_embed::ErrorCode;
use peliqan_embed::config::OPTION_KEYS;
use std::collections::BTreeSet;

const INDEX_D_TS: &str = include_str!("../js/index.d.ts");

/// The text from `start` up to the next `end` after it.
fn between(start: &str, end: &str) -> &'static str {
    let from = INDEX_D_TS
        .find(start)
        .unwrap_or_else(|| panic!("index.d.ts has no `{start}`"))
        + start.len();
    let len = INDEX_D_TS[from..]
        .find(end)
        .unwrap_or_else(|| panic!("index.d.ts has no `{end}` after `{start}`"));
    &INDEX_D_TS[from..from + len]
}

/// The string literals of the union type `name`, in order.
fn union(name: &str) -> Vec<&'static str> {
    between(&["export type ", name, " ="].concat(), ";")
        .split('|')
        .map(|part| part.trim().trim_matches('\''))
        .filter(|part| !part.is_empty())
        .collect()
}

/// The property names of the interface `name` (one per line).
fn interface_keys(name: &str) -> BTreeSet<&'static str> {
    property_names(between(&["export interface ", name, " {"].concat(), "\n}"))
}

/// Names written `name:` or `name?:` at the start of a line of `block`.
fn property_names(block: &str) -> BTreeSet<&str> {
    block
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let name_len = line.find(|c: char| !c.is_ascii_alphanumeric() && c != '_')?;
            let rest = &line[name_len..];
            (name_len > 0 && (rest.starts_with(':') || rest.starts_with("?:")))
                .then(|| &line[..name_len])
        })
        .collect()
}

#[test]
fn the_error_code_union_lists_every_rust_code_in_order() {
    let rust: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(union("PeliqanErrorCode"), rust);
}

#[test]
fn the_dialect_and_operation_unions_are_peliqan_apis() {
    let dialects: Vec<&str> = Dialect::ALL.iter().map(|d| d.name()).collect();
    assert_eq!(union("ApiDialect"), dialects);
    let browser_side: Vec<&str> = Operation::ALL
        .iter()
        .filter(|op| op.side() == Side::Subaccount)
        .map(|op| op.name())
        .collect();
    assert_eq!(union("BrowserOperation"), browser_side);
}

#[test]
fn the_token_service_answer_has_the_token_answer_types_fields() {
    let answer = TokenAnswer {
        token: "t".into(),
        expires_at: "2026-01-01T00:00:00Z".into(),
        subaccount_id: Some(SubaccountId(1)),
        external_id: ExternalId("a".into()),
        routing: BrowserRouting {
            peliqan_url: Some("https://p".into()),
            dialect: Some("seed".into()),
            routes: [("get_connection".to_owned(), "GET /x/{id}/".to_owned())].into(),
        },
    };
    let json = serde_json::to_value(&answer).unwrap();
    let rust: BTreeSet<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(interface_keys("TokenServiceAnswer"), rust);
}

#[test]
fn the_typed_options_are_the_keys_the_config_reader_reads() {
    // `CommonOptions` and the token-source variants of `PeliqanEmbedOptions`.
    let options = between("interface CommonOptions {", "export type AuthKind");
    let ts = property_names(options);
    let rust: BTreeSet<&str> = OPTION_KEYS.iter().copied().collect();
    assert_eq!(ts, rust);
}

#[test]
fn the_event_map_types_every_event_the_sdk_sends() {
    let block = between("export interface PeliqanEmbedEventMap {", "\n}");
    // Its own keys are the lines indented once: `name:` or `'a-name':`.
    let typed: BTreeSet<&str> = block
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(name, _)| name.trim_matches('\''))
        .filter(|name| !name.starts_with("/*") && !name.starts_with('*'))
        .collect();
    let rust: BTreeSet<&str> = peliqan_embed::event_names::TYPES.iter().copied().collect();
    assert_eq!(typed, rust);
}
