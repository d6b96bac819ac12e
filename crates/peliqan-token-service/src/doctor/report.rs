//! The doctor's result: an ordered list of checks, printed one line each
//! for people or as one JSON document for machines.

use serde::Serialize;
use std::fmt::Write as _;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Works as the service needs it.
    Pass,
    /// Works, but something is worth changing; does not fail the run.
    Warn,
    /// Will not work (or is unsafe) as configured.
    Fail,
}

impl Status {
    /// The mark printed before the check's line.
    pub fn mark(self) -> &'static str {
        match self {
            Self::Pass => "✔",
            Self::Warn => "!",
            Self::Fail => "✘",
        }
    }
}

/// One check: what was looked at, how it came out, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// A stable, machine-readable name, e.g. `dialect` or `cors`.
    pub name: &'static str,
    /// The outcome.
    pub status: Status,
    /// What was found, in one line (never a secret).
    pub detail: String,
    /// For a warning or a failure: the fix, in one sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    /// A passed check.
    pub fn pass(name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Pass,
            detail: detail.into(),
            fix: None,
        }
    }

    /// A warning with its fix.
    pub fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// A failure with its fix.
    pub fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Every check of one run, in the order they ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// True when no check failed (warnings allowed).
    pub ok: bool,
    /// The checks, in order.
    pub checks: Vec<Check>,
}

impl Default for Report {
    fn default() -> Self {
        Self::new()
    }
}

impl Report {
    /// An empty report (ok until a failure is pushed).
    pub fn new() -> Self {
        Self {
            ok: true,
            checks: Vec::new(),
        }
    }

    /// Adds a check; a failure makes the report fail.
    pub fn push(&mut self, check: Check) {
        self.ok &= check.status != Status::Fail;
        self.checks.push(check);
    }

    /// Whether any check failed (what makes the exit code non-zero).
    pub fn failed(&self) -> bool {
        !self.ok
    }

    /// The first check called `name`.
    pub fn get(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// One line per check (`✔ name: detail`), the fix of a warning or
    /// failure on the next line, and a closing summary line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            // Writing into a String cannot fail.
            let _ = writeln!(out, "{} {}: {}", c.status.mark(), c.name, c.detail);
            if let Some(fix) = &c.fix {
                let _ = writeln!(out, "  fix: {fix}");
            }
        }
        let count = |s| self.checks.iter().filter(|c| c.status == s).count();
        let _ = writeln!(
            out,
            "{}: {} passed, {} warning(s), {} failed",
            if self.ok { "ok" } else { "FAILED" },
            count(Status::Pass),
            count(Status::Warn),
            count(Status::Fail),
        );
        out
    }

    /// The report as one JSON document:
    /// `{"ok": bool, "checks": [{"name", "status", "detail", "fix"?}]}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{\"ok\":false}".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_fails_the_report_and_prints_its_fix_on_the_next_line() {
        let mut r = Report::new();
        r.push(Check::pass("url", "answers over TLS"));
        r.push(Check::warn("clock", "6 s ahead", "sync the clock"));
        assert!(!r.failed(), "warnings do not fail");
        r.push(Check::fail(
            "dialect",
            "wrong",
            "set PELIQAN_API_DIALECT=partner",
        ));
        assert!(r.failed());
        let text = r.to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "✔ url: answers over TLS");
        assert_eq!(lines[1], "! clock: 6 s ahead");
        assert_eq!(lines[3], "✘ dialect: wrong");
        assert_eq!(lines[4], "  fix: set PELIQAN_API_DIALECT=partner");
        assert_eq!(lines[5], "FAILED: 1 passed, 1 warning(s), 1 failed");
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(json["ok"], false);
        assert_eq!(json["checks"][2]["status"], "fail");
        assert!(json["checks"][0].get("fix").is_none());
    }
}
