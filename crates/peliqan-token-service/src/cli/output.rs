//! How the CLI speaks: human tables or one JSON document, errors with a
//! stable code, and the exit code.

use crate::settings::ConfigError;
use crate::upstream::Credential;
use peliqan_client::Error;
use serde_json::{Value, json};
use std::io::Write;
use std::process::ExitCode;

/// A command's failure.
#[derive(Debug)]
pub struct CliError {
    /// Stable, machine-readable.
    pub code: &'static str,
    /// For people; never a secret.
    pub message: String,
    /// 1 (failed) or 2 (configuration or usage).
    pub exit: u8,
}

impl CliError {
    pub fn new(code: &'static str, message: impl Into<String>, exit: u8) -> Self {
        Self {
            code,
            message: message.into(),
            exit,
        }
    }

    pub fn config(e: impl std::fmt::Display) -> Self {
        Self::new("configuration", e.to_string(), 2)
    }

    /// A Peliqan error while doing `what`, with the partner credential's
    /// kind for a refusal.
    pub fn peliqan(what: &str, e: &Error, credential: &Credential) -> Self {
        match e.status() {
            Some(401 | 403) => Self::new(
                "partner_unauthorized",
                format!(
                    "Peliqan refused the {} ({}) while {what}: check {}",
                    credential.noun(),
                    e.status().unwrap_or_default(),
                    credential.keys()
                ),
                2,
            ),
            _ if matches!(e, Error::ClientCredentials { .. }) => Self::new(
                "partner_unauthorized",
                format!("{what}: {e}; check {}", credential.keys()),
                2,
            ),
            _ if matches!(e, Error::Route { .. }) => {
                Self::new("unsupported", format!("{what}: {e}"), 2)
            }
            _ => Self::new("peliqan_error", format!("{what}: {e}"), 1),
        }
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        Self::config(e)
    }
}

/// Where output goes, and in which form.
pub struct Out {
    pub json: bool,
}

impl Out {
    /// Writes `human` or `json` to stdout. Not `print!`: that panics when
    /// the reader has gone (`tenants list | head`).
    pub fn emit(&self, human: &str, json: &Value) {
        let text = if self.json {
            format!("{json:#}\n")
        } else {
            human.to_owned()
        };
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }

    /// The exit code of `result`, after printing its error.
    pub fn finish(&self, result: Result<ExitCode, CliError>) -> ExitCode {
        match result {
            Ok(code) => code,
            Err(e) => {
                if self.json {
                    let body = json!({"error": {"code": e.code, "message": e.message}});
                    let _ = std::io::stdout()
                        .lock()
                        .write_all(format!("{body:#}\n").as_bytes());
                } else {
                    let _ = writeln!(
                        std::io::stderr().lock(),
                        "peliqan-token-service: error: {}",
                        e.message
                    );
                }
                ExitCode::from(e.exit)
            }
        }
    }
}

/// `1 tenant\n`, `3 tenants\n`.
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}\n", if n == 1 { "" } else { "s" })
}

/// A plain text table: a header row and aligned columns.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_align_their_columns() {
        let t = super::table(
            &["ID", "NAME"],
            &[
                vec!["1".into(), "a".into()],
                vec!["100".into(), "bb".into()],
            ],
        );
        assert_eq!(t, "ID   NAME\n1    a\n100  bb\n");
    }
}
