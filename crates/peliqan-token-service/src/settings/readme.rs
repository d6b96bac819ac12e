//! The README documents every setting and the built-in route tables as
//! they are: a key or route changed here and not there fails this test.

use super::KEYS;
use peliqan_client::{Dialect, Operation};

const README: &str = include_str!("../../README.md");

#[test]
fn every_setting_is_in_the_readme_and_every_documented_route_key_exists() {
    for key in KEYS {
        assert!(
            README.contains(&format!("`{key}`")),
            "{key} is not documented"
        );
    }
    for word in README.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if let Some(op) = word.strip_prefix("PELIQAN_API_ROUTE_")
            && !op.is_empty()
            && op != "OPERATION"
        {
            assert!(
                super::is_key(word),
                "the README names {word}, not a setting"
            );
        }
    }
}

#[test]
fn the_readmes_route_table_is_the_built_in_one() {
    for &op in Operation::ALL {
        let row = README
            .lines()
            .find(|l| l.starts_with(&format!("| `{op}` |")))
            .unwrap_or_else(|| panic!("no README row for `{op}`"));
        let cells: Vec<&str> = row.split(" | ").skip(2).collect();
        for (d, cell) in Dialect::ALL.iter().zip(cells) {
            let cell = cell.trim_end_matches(" |").trim_end_matches(" *");
            match d.routes().route(op) {
                Ok(route) => assert_eq!(cell, format!("`{route}`"), "{d} {op}"),
                Err(_) => assert_eq!(cell, "-", "{d} {op}"),
            }
        }
    }
}
