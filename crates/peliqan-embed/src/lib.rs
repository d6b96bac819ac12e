//! peliqan-embed: the browser SDK that lets a partner's end-customers connect
//! their data sources to Peliqan from inside the partner's web app.
//!
//! Layout: the decisions live in plain Rust modules that build and are
//! unit-tested natively ([`config`], [`answers`], [`routing`], [`safe_url`],
//! [`token`], [`form`], [`poll`], [`error`]); `web` (wasm32 only) exports
//! them to JavaScript as synchronous calls (`Core`, `Tok`, `Poll`). The
//! I/O and its sequencing (fetch, the token cache, events, the OAuth
//! popup, polling, cancellation) are `js/sdk.js`'s: as Rust async code
//! they were most of the bundle. The npm package `peliqan-embed` is built
//! from this crate and `js/` by `cargo xtask npm`.
#![deny(missing_docs)]

pub mod answers;
pub mod config;
pub mod error;
pub mod event_names;
pub mod form;
pub mod poll;
pub mod routing;
pub mod safe_url;
pub mod token;

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
pub use web::{Core, Poll, Tok};

pub use error::{EmbedError, ErrorCode};

/// The allocator of the wasm build: talc (`talc::wasm`), a drop-in for the
/// standard library's dlmalloc that is 2.6 KB gzipped smaller in the
/// bundle (and faster). Single-threaded wasm only, as the SDK is.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// The reason to show for a failed connection: Peliqan's `status_message`,
/// else the newest error line of its logs.
pub fn failure_reason(
    status_message: Option<String>,
    logs: &[peliqan_api::ConnectionLogEntry],
) -> Option<String> {
    status_message.filter(|m| !m.trim().is_empty()).or_else(|| {
        let errors = logs
            .iter()
            .filter(|l| l.level == peliqan_api::LogLevel::Error);
        errors
            .max_by(|a, b| a.timestamp.cmp(&b.timestamp))
            .map(|l| l.message.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use peliqan_api::{ConnectionLogEntry, LogLevel};

    fn log(ts: &str, level: LogLevel, msg: &str) -> ConnectionLogEntry {
        ConnectionLogEntry {
            timestamp: ts.into(),
            level,
            message: msg.into(),
        }
    }

    #[test]
    fn failure_reason_prefers_the_status_message_then_the_newest_error_log() {
        let logs = [
            log("2026-01-01T00:00:02Z", LogLevel::Error, "invalid api token"),
            log("2026-01-01T00:00:01Z", LogLevel::Error, "old"),
            log("2026-01-01T00:00:03Z", LogLevel::Info, "retrying"),
        ];
        assert_eq!(
            failure_reason(Some("denied".into()), &logs).as_deref(),
            Some("denied")
        );
        assert_eq!(
            failure_reason(Some(" ".into()), &logs).as_deref(),
            Some("invalid api token")
        );
        assert_eq!(failure_reason(None, &logs[2..]), None);
    }
}
