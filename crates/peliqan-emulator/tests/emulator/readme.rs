//! The README lists every route of every dialect, exactly as the tables in
//! `peliqan-api` have them, so the documentation cannot drift from what
//! the emulator serves.

use peliqan_api::dialect::Side;
use peliqan_api::{Dialect, Operation, Route};

const README: &str = include_str!("../../README.md");

fn side(op: Operation) -> &'static str {
    match op.side() {
        Side::Partner => "partner",
        Side::Subaccount => "sub-account",
        Side::Credentials => "client credentials",
    }
}

/// The start of a row: `| \`op\` | \`route\` | token |`.
fn row(op: Operation, route: &Route) -> String {
    format!("| `{op}` | `{route}` | {} |", side(op))
}

/// The README's section for `dialect`: from its `### \`name\`` heading to
/// the next heading.
fn section(dialect: Dialect) -> &'static str {
    let heading = format!("### `{}`", dialect.name());
    let start = README
        .find(&heading)
        .unwrap_or_else(|| panic!("README has no `{heading}` section"));
    let rest = &README[start + heading.len()..];
    &rest[..rest.find("\n#").unwrap_or(rest.len())]
}

#[test]
fn the_readme_lists_every_route_of_every_dialect_and_no_other() {
    for &dialect in Dialect::ALL {
        let text = section(dialect);
        let routes = dialect.routes();
        let expected: Vec<String> = routes.iter().map(|(op, r)| row(op, r)).collect();
        let listed: Vec<&str> = text.lines().filter(|l| l.starts_with("| `")).collect();
        let missing: Vec<&String> = expected
            .iter()
            .filter(|row| !listed.iter().any(|l| l.starts_with(row.as_str())))
            .collect();
        let extra: Vec<&&str> = listed
            .iter()
            .filter(|l| !expected.iter().any(|row| l.starts_with(row.as_str())))
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "README section `{dialect}` is out of date.\nmissing: {missing:#?}\nextra: \
             {extra:#?}\nthe rows should start with:\n{}",
            expected.join("\n")
        );
    }
}
