//! Request counting for `GET /__emulator/stats`.
//!
//! Tests and benchmarks assert on how many upstream calls a client made
//! (e.g. "the token cache called Peliqan once"), so every request except the
//! control endpoints is counted under `METHOD /path/template`: query
//! dropped, trailing slash dropped, numeric segments written `{id}`. This
//! middleware is the outermost layer so preflights and faulted requests
//! count too.

use crate::state::Emu;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use std::time::Instant;

/// Beyond this many distinct keys new paths are folded into one, so a
/// fuzzer cannot grow the map without bound.
const MAX_KEYS: usize = 1000;

/// Prefix of the control endpoints, which are neither counted nor faulted.
pub(crate) const CONTROL_PREFIX: &str = "/__emulator";

/// The middleware; registered with `middleware::from_fn`.
pub(crate) async fn count(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let key = format!("{} {}", req.method(), template(req.path()));
    if !req.path().starts_with(CONTROL_PREFIX)
        && let Some(emu) = req.app_data::<web::Data<Emu>>()
    {
        let mut state = emu.state.lock();
        let key = if state.stats.len() >= MAX_KEYS && !state.stats.contains_key(&key) {
            "other".to_owned()
        } else {
            key.clone()
        };
        *state.stats.entry(key).or_insert(0) += 1;
    }
    let started = Instant::now();
    let res = next.call(req).await?;
    // Templated path only: ids are fine to log, query strings may hold tokens.
    tracing::info!(
        request = %key,
        status = res.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "handled"
    );
    Ok(res)
}

/// `/api/server/12/` -> `/api/server/{id}`.
pub(crate) fn template(path: &str) -> String {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                s
            }
        })
        .collect();
    format!("/{}", segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::template;

    #[test]
    fn templates_drop_trailing_slashes_and_hide_numeric_ids() {
        assert_eq!(template("/api/server/12/"), "/api/server/{id}");
        assert_eq!(
            template("/api/subaccount/3/token"),
            "/api/subaccount/{id}/token"
        );
        assert_eq!(template("/api/subaccount/token/"), "/api/subaccount/token");
        assert_eq!(template("/"), "/");
        assert_eq!(template(""), "/");
    }
}
