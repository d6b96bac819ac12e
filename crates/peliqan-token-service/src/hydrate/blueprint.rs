//! The blueprint file: what every new tenant gets (query tables and
//! scheduled Python scripts), read and checked once, with every mistake
//! reported as `FILE:LINE: FIELD: what is wrong`.
//!
//! ```toml
//! version = 3                      # the blueprint's revision (recorded per step)
//!
//! [[tables]]
//! name = "orders"
//! query = "SELECT * FROM orders WHERE customer = '{{external_id}}'"
//! database = 12                    # optional: the database (connection) id
//!
//! [[scripts]]
//! name = "Nightly sync for {{company_name}}"
//! file = "sync.py"                 # next to the blueprint; or `code = """..."""`
//! schedule = 86400                 # seconds between runs
//! ```
//!
//! Placeholders are `{{external_id}}` and `{{company_name}}` (the tenant's
//! company name, its external id when it has none). A table or script is
//! known by its rendered name: that is what "already applied" is checked
//! against, so renaming one applies it again, and changing only its query
//! or code does not touch tenants that have it.
//!
//! Parsing goes through `serde_path_to_error` over toml's deserializer: the
//! path names the field, toml's span gives the line.

use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The placeholders a blueprint may use.
pub const PLACEHOLDERS: &[&str] = &["external_id", "company_name"];

/// Longest name accepted (Peliqan's table and script names are short).
const MAX_NAME: usize = 200;

/// A blueprint mistake: where, which field, what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {field}: {message}", file.display())]
pub struct BlueprintError {
    /// The blueprint file.
    pub file: PathBuf,
    /// 1-based line of the field (of the file's start when unknown).
    pub line: usize,
    /// The field, e.g. `scripts[1].schedule`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// A checked blueprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blueprint {
    /// Where it was read from.
    pub file: PathBuf,
    /// Its revision, recorded in the ledger with each step applied.
    pub version: u32,
    /// Query tables, in file order.
    pub tables: Vec<TableSpec>,
    /// Scheduled scripts, in file order.
    pub scripts: Vec<ScriptSpec>,
}

/// A query table to create (name and query may hold placeholders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    /// The table's name.
    pub name: String,
    /// Its SQL.
    pub query: String,
    /// The database (connection) id, when not the default.
    pub database: Option<u64>,
}

/// A scheduled Python script to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptSpec {
    /// The script's name.
    pub name: String,
    /// Its Python source (read from `file` when given so).
    pub code: String,
    /// Seconds between runs.
    pub schedule: u64,
}

/// What one kind of step is called, in the ledger and in output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A query table.
    Table,
    /// A scheduled script.
    Script,
}

impl Kind {
    /// `table` or `script`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Script => "script",
        }
    }

    /// The inverse of [`Kind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "table" => Some(Self::Table),
            "script" => Some(Self::Script),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What fills the placeholders for one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vars<'a> {
    /// The tenant's external id.
    pub external_id: &'a str,
    /// Its company name, if known.
    pub company_name: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlueprint {
    version: Spanned<i64>,
    #[serde(default)]
    tables: Vec<RawTable>,
    #[serde(default)]
    scripts: Vec<RawScript>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    name: Spanned<String>,
    query: Spanned<String>,
    #[serde(default)]
    database: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    name: Spanned<String>,
    #[serde(default)]
    code: Option<Spanned<String>>,
    #[serde(default)]
    file: Option<Spanned<String>>,
    schedule: Spanned<i64>,
}

/// Reports against one file's text.
struct Checker<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Checker<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn error(&self, offset: usize, field: String, message: impl Into<String>) -> BlueprintError {
        BlueprintError {
            file: self.file.to_owned(),
            line: self.line(offset),
            field,
            message: message.into(),
        }
    }

    fn name(&self, field: String, name: &Spanned<String>) -> Result<String, BlueprintError> {
        let value = name.get_ref().trim();
        if value.is_empty() {
            return Err(self.error(name.span().start, field, "must not be empty"));
        }
        if value.chars().count() > MAX_NAME {
            let msg = format!("is longer than {MAX_NAME} characters");
            return Err(self.error(name.span().start, field, msg));
        }
        self.placeholders(field, name.span().start, value)?;
        Ok(value.to_owned())
    }

    fn placeholders(&self, field: String, offset: usize, text: &str) -> Result<(), BlueprintError> {
        match unknown_placeholder(text) {
            None => Ok(()),
            Some(p) => Err(self.error(
                offset,
                field,
                format!(
                    "unknown placeholder `{{{{{p}}}}}`; the placeholders are {}",
                    PLACEHOLDERS
                        .iter()
                        .map(|p| format!("`{{{{{p}}}}}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
}

/// The first `{{name}}` in `text` that is not a known placeholder (an
/// unclosed `{{` counts as one, named by what follows it).
fn unknown_placeholder(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Some(after.chars().take(20).collect::<String>() + " (no closing `}}`)");
        };
        let name = after[..end].trim();
        if !PLACEHOLDERS.contains(&name) {
            return Some(name.to_owned());
        }
        rest = &after[end + 2..];
    }
    None
}

/// `text` with each `{{placeholder}}` filled from `vars`.
pub fn render(text: &str, vars: &Vars<'_>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            break;
        };
        match after[..end].trim() {
            "external_id" => out.push_str(vars.external_id),
            "company_name" => out.push_str(
                vars.company_name
                    .filter(|c| !c.trim().is_empty())
                    .unwrap_or(vars.external_id),
            ),
            // Refused on load; kept verbatim should one ever get here.
            _ => out.push_str(&rest[start..start + 4 + end]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

impl Blueprint {
    /// Reads and checks the blueprint at `file`.
    pub fn load(file: &Path) -> Result<Self, BlueprintError> {
        let text = std::fs::read_to_string(file).map_err(|e| BlueprintError {
            file: file.to_owned(),
            line: 1,
            field: "(file)".into(),
            message: format!("cannot be read: {e}"),
        })?;
        Self::parse(file, &text)
    }

    /// Checks `text`, read from `file` (script files are looked up next to it).
    pub fn parse(file: &Path, text: &str) -> Result<Self, BlueprintError> {
        let c = Checker { file, text };
        let de = toml::Deserializer::new(text);
        let raw: RawBlueprint = serde_path_to_error::deserialize(de).map_err(|e| {
            let offset = e.inner().span().map_or(0, |s| s.start);
            let message = e.inner().message().trim().to_owned();
            // `Spanned` shows in the path as a private field: not the user's.
            let mut field = e
                .path()
                .to_string()
                .split(".$__")
                .next()
                .unwrap_or(".")
                .to_owned();
            // Serde names a missing or unknown field in the message only.
            for prefix in ["missing field `", "unknown field `"] {
                if let Some(rest) = message.strip_prefix(prefix)
                    && let Some(name) = rest.split('`').next()
                    && field != name
                    && !field.ends_with(&format!(".{name}"))
                {
                    field = if field == "." {
                        name.to_owned()
                    } else {
                        format!("{field}.{name}")
                    };
                }
            }
            if field == "." {
                field = "(file)".into();
            }
            c.error(offset, field, message)
        })?;
        let version = match u32::try_from(*raw.version.get_ref()) {
            Ok(v) if v >= 1 => v,
            _ => {
                return Err(c.error(
                    raw.version.span().start,
                    "version".into(),
                    "must be a whole number from 1 (the blueprint's revision)",
                ));
            }
        };
        let mut tables = Vec::new();
        let mut names = BTreeSet::new();
        for (i, t) in raw.tables.iter().enumerate() {
            let at = |f: &str| format!("tables[{i}].{f}");
            let name = c.name(at("name"), &t.name)?;
            if !names.insert(name.clone()) {
                let msg = format!("`{name}` is used by another table");
                return Err(c.error(t.name.span().start, at("name"), msg));
            }
            let query = t.query.get_ref().trim();
            if query.is_empty() {
                return Err(c.error(t.query.span().start, at("query"), "must not be empty"));
            }
            c.placeholders(at("query"), t.query.span().start, query)?;
            let database = match &t.database {
                None => None,
                Some(d) => Some(
                    u64::try_from(*d.get_ref())
                        .ok()
                        .filter(|&d| d > 0)
                        .ok_or_else(|| {
                            c.error(
                                d.span().start,
                                at("database"),
                                "must be a positive database id",
                            )
                        })?,
                ),
            };
            tables.push(TableSpec {
                name,
                query: query.to_owned(),
                database,
            });
        }
        let mut scripts = Vec::new();
        let mut names = BTreeSet::new();
        for (i, s) in raw.scripts.iter().enumerate() {
            let at = |f: &str| format!("scripts[{i}].{f}");
            let name = c.name(at("name"), &s.name)?;
            if !names.insert(name.clone()) {
                let msg = format!("`{name}` is used by another script");
                return Err(c.error(s.name.span().start, at("name"), msg));
            }
            let code = match (&s.code, &s.file) {
                (Some(code), None) => {
                    c.placeholders(at("code"), code.span().start, code.get_ref())?;
                    code.get_ref().clone()
                }
                (None, Some(f)) => {
                    let path = file.parent().unwrap_or(Path::new(".")).join(f.get_ref());
                    let code = std::fs::read_to_string(&path).map_err(|e| {
                        let msg = format!("`{}` cannot be read: {e}", path.display());
                        c.error(f.span().start, at("file"), msg)
                    })?;
                    c.placeholders(at("file"), f.span().start, &code)?;
                    code
                }
                (Some(_), Some(f)) => {
                    return Err(c.error(
                        f.span().start,
                        at("file"),
                        "give either `code` or `file`, not both",
                    ));
                }
                (None, None) => {
                    return Err(c.error(
                        s.name.span().start,
                        at("code"),
                        "missing: give the script's `code`, or a `file` next to the blueprint",
                    ));
                }
            };
            if code.trim().is_empty() {
                return Err(c.error(s.name.span().start, at("code"), "is empty"));
            }
            let schedule = u64::try_from(*s.schedule.get_ref())
                .ok()
                .filter(|&s| s > 0)
                .ok_or_else(|| {
                    c.error(
                        s.schedule.span().start,
                        at("schedule"),
                        "must be a positive number of seconds between runs",
                    )
                })?;
            scripts.push(ScriptSpec {
                name,
                code,
                schedule,
            });
        }
        if tables.is_empty() && scripts.is_empty() {
            return Err(c.error(0, "(file)".into(), "has no [[tables]] and no [[scripts]]"));
        }
        Ok(Self {
            file: file.to_owned(),
            version,
            tables,
            scripts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Blueprint, BlueprintError> {
        Blueprint::parse(Path::new("bp.toml"), text)
    }

    #[test]
    fn a_good_blueprint_reads() {
        let bp = parse(
            "version = 2\n[[tables]]\nname = \"orders\"\nquery = \"SELECT 1\"\ndatabase = 4\n\
             [[scripts]]\nname = \"sync {{company_name}}\"\ncode = \"print(1)\"\nschedule = 60\n",
        )
        .unwrap();
        assert_eq!(bp.version, 2);
        assert_eq!(bp.tables[0].database, Some(4));
        assert_eq!(bp.scripts[0].schedule, 60);
    }

    #[test]
    fn mistakes_name_line_and_field() {
        let cases = [
            (
                "version = 1\n[[tables]]\nname = \"a\"\n",
                2,
                "tables[0].query",
                "missing field",
            ),
            (
                "version = 1\n[[scripts]]\nname = \"a\"\ncode = \"x\"\nschedule = -5\n",
                5,
                "scripts[0].schedule",
                "positive",
            ),
            (
                "version = 1\n[[tables]]\nname = \"a\"\nquery = \"q\"\nqeury = \"x\"\n",
                5,
                "tables[0].qeury",
                "unknown field",
            ),
            (
                "version = 1\n[[tables]]\nname = \"t_{{tenant}}\"\nquery = \"q\"\n",
                3,
                "tables[0].name",
                "unknown placeholder `{{tenant}}`",
            ),
            (
                "version = 1\n[[tables]]\nname = \"a\"\nquery = \"q\"\n[[tables]]\nname = \"a\"\nquery = \"r\"\n",
                6,
                "tables[1].name",
                "another table",
            ),
            ("version = \"one\"\n", 1, "version", "invalid type"),
            (
                "version = 0\n[[tables]]\nname=\"a\"\nquery=\"q\"\n",
                1,
                "version",
                "from 1",
            ),
        ];
        for (text, line, field, message) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!((e.line, e.field.as_str()), (line, field), "{e}");
            assert!(e.message.contains(message), "{e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("bp.toml:{line}: {field}: ")),
                "{e}"
            );
        }
    }

    #[test]
    fn placeholders_render_with_company_falling_back_to_the_id() {
        let vars = Vars {
            external_id: "acme",
            company_name: None,
        };
        assert_eq!(
            render("a {{ external_id }} {{company_name}} }}", &vars),
            "a acme acme }}"
        );
        let vars = Vars {
            company_name: Some("Acme Ltd"),
            ..vars
        };
        assert_eq!(render("{{company_name}}", &vars), "Acme Ltd");
    }
}
