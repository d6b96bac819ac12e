//! Request counting for `GET /__emulator/stats`.
//!
//! Tests and benchmarks assert on how many upstream calls a client made
//! (e.g. "the token cache called Peliqan once"), so every request except the
//! control endpoints is counted under `METHOD <path template>`: the
//! template of the dialect's route the request reaches (`GET /api/servers/{id}/`,
//! `POST /api/partner/sub-account/integrate/`), query dropped; a path that
//! reaches no route is counted as sent, numeric segments written `{id}`
//! (see [`crate::routing::RouteTable::stats_key`]). This middleware is the
//! outermost layer so preflights and faulted requests count too, and it
//! counts before the request is handled, so a test can wait on a count to
//! know a slow request has arrived. The fault rule that applies to the
//! request ([`crate::faults`]) is chosen here too, with the count.

use crate::faults;
use crate::state::EmulatorState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
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
    let emu = req.app_data::<web::Data<EmulatorState>>().cloned();
    let key = match &emu {
        Some(emu) => emu.routes.stats_key(req.method().as_str(), req.path()),
        None => format!("{} {}", req.method(), req.path()),
    };
    if !req.path().starts_with(CONTROL_PREFIX)
        && let Some(emu) = &emu
    {
        let mut state = emu.state.lock();
        let key = if state.stats.len() >= MAX_KEYS && !state.stats.contains_key(&key) {
            "other".to_owned()
        } else {
            key.clone()
        };
        *state.stats.entry(key).or_insert(0) += 1;
        // Decided with the count, under the same lock: see crate::faults.
        let fired = faults::pick(&state.faults, req.path());
        drop(state);
        if let Some(rule) = fired {
            req.extensions_mut().insert(faults::Fired(rule));
        }
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
