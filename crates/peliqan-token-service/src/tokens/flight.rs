//! In-flight fetches ("flights"): at most one per tenant, shared by every
//! request that needs it.
//!
//! [`Flights::join_or_start`] hands out the tenant's flight, starting it as a
//! spawned task when there is none. The task owns a [`FlightGuard`] that takes
//! the flight out of the map however the task ends: normally, by a panic, or
//! by being dropped (cancelled, or never run because its runtime is shutting
//! down). Without that, a flight whose task died would stay in the map and
//! every later miss for the tenant would join it and get its error, with no
//! upstream call, until a restart; a refresh flight that died would leave its
//! entry marked "refreshing" for good.
//!
//! Waiters hear the result through a oneshot channel. The guard leaves the
//! map *before* the result is sent, so a request arriving after a flight
//! ended never joins it; if the task dies, the sender is dropped and the
//! waiters get an internal error, once.

use super::CachedToken;
use crate::error::ServiceError;
use futures::FutureExt;
use futures::channel::oneshot;
use futures::future::{BoxFuture, Shared};
use parking_lot::Mutex;
use peliqan_api::ExternalId;
use peliqan_api::clock::SharedClock;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// What every waiter of a flight gets.
pub type FlightResult = Result<Arc<CachedToken>, ServiceError>;

/// A flight, as its waiters hold it.
pub type Flight = Shared<BoxFuture<'static, FlightResult>>;

/// The running flights, by tenant. Each has a number, so a guard only ever
/// removes its own flight.
pub struct Flights {
    map: Mutex<Map>,
    /// The service's clock, for a dead refresh's retry time.
    clock: SharedClock,
}

#[derive(Default)]
struct Map {
    flights: HashMap<ExternalId, (u64, Flight)>,
    next: u64,
}

impl Flights {
    /// No flights yet; time is read from `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            map: Mutex::default(),
            clock,
        }
    }

    /// The tenant's flight: the running one, or `run` started in a new task.
    /// `refreshing` is the entry whose refresh this flight is, if it is one:
    /// its "refreshing" mark is cleared if the task dies.
    pub fn join_or_start<F>(
        self: &Arc<Self>,
        tenant: &ExternalId,
        refreshing: Option<Arc<CachedToken>>,
        run: impl FnOnce() -> F,
    ) -> Flight
    where
        F: Future<Output = FlightResult> + Send + 'static,
    {
        let (tx, guard, flight) = {
            let mut map = self.map.lock();
            if let Some((_, flight)) = map.flights.get(tenant) {
                return flight.clone();
            }
            let id = map.next;
            map.next += 1;
            let (tx, rx) = oneshot::channel();
            let flight = rx
                // `Err(Canceled)`: the task died before answering; its guard logged why.
                .map(|sent| sent.unwrap_or(Err(ServiceError::Internal)))
                .boxed()
                .shared();
            map.flights.insert(tenant.clone(), (id, flight.clone()));
            let guard = FlightGuard {
                flights: self.clone(),
                tenant: tenant.clone(),
                id,
                refreshing,
                finished: false,
            };
            (tx, guard, flight)
        };
        // Spawned outside the lock: if the runtime is shutting down, `spawn`
        // drops the task at once, and its guard takes the lock to leave.
        let fut = run();
        tokio::spawn(async move {
            let mut guard = guard;
            let result = fut.await;
            guard.finished = true;
            drop(guard);
            // Every waiter may have gone; the result is then not needed.
            let _ = tx.send(result);
        });
        flight
    }

    /// Whether a flight is running for `tenant`.
    #[cfg(test)]
    pub fn is_running(&self, tenant: &ExternalId) -> bool {
        self.map.lock().flights.contains_key(tenant)
    }
}

/// Owned by a flight's task; takes the flight out of the map when dropped.
struct FlightGuard {
    flights: Arc<Flights>,
    tenant: ExternalId,
    id: u64,
    refreshing: Option<Arc<CachedToken>>,
    finished: bool,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        if !self.finished {
            tracing::error!(
                tenant = %self.tenant,
                "a token fetch task ended without a result (a panic, or its runtime stopped); \
                 the next request for this tenant starts a new fetch"
            );
            if let Some(entry) = &self.refreshing {
                entry.refresh_failed(self.flights.clock.instant());
            }
        }
        let mut map = self.flights.map.lock();
        if map
            .flights
            .get(&self.tenant)
            .is_some_and(|(id, _)| *id == self.id)
        {
            map.flights.remove(&self.tenant);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::CacheSettings;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use peliqan_api::SubaccountToken;
    use peliqan_api::clock::SystemClock;
    use std::time::{Duration, Instant, SystemTime};

    fn entry() -> Arc<CachedToken> {
        let exp = SystemTime::now() + Duration::from_secs(600);
        let secs = exp
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"exp": {secs}}}"#));
        let answer = SubaccountToken {
            token: format!("e30.{payload}.c2ln"),
            subaccount_id: None,
            external_id: None,
        };
        let settings = CacheSettings {
            capacity: 10,
            safety_margin: Duration::from_secs(60),
            refresh_ahead: Duration::from_secs(300),
            connectors_ttl: Duration::from_secs(1),
            max_token_lifetime: Duration::from_secs(86_400),
            unknown_tenant_ttl: Duration::from_secs(30),
            forced_refresh_interval: Duration::from_secs(5),
        };
        Arc::new(
            CachedToken::new(&answer, &ExternalId::from("t"), &settings, &SystemClock).unwrap(),
        )
    }

    /// A refresh is due for the entry and claimed, as a hit would do.
    fn claimed(entry: &CachedToken) -> Instant {
        let due = Instant::now() + Duration::from_secs(590);
        assert!(entry.claim_refresh(due));
        assert!(!entry.claim_refresh(due), "claimed once");
        due
    }

    #[tokio::test]
    async fn a_panicking_flight_leaves_the_map_and_its_entry_refreshable() {
        let flights = Arc::new(Flights::new(SystemClock::shared()));
        let tenant = ExternalId::from("t");
        let old = entry();
        let due = claimed(&old);
        let flight = flights.join_or_start(&tenant, Some(old.clone()), || async {
            panic!("a bug while fetching");
        });
        assert_eq!(flight.await.unwrap_err(), ServiceError::Internal);
        assert!(!flights.is_running(&tenant));
        assert!(old.claim_refresh(due), "the refresh can be claimed again");
        // The next miss starts a new flight, which answers.
        let fresh = entry();
        let answer = fresh.clone();
        let got = flights
            .join_or_start(&tenant, None, move || async move { Ok(answer) })
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&got, &fresh));
        assert!(!flights.is_running(&tenant));
    }

    #[test]
    fn a_cancelled_flight_leaves_the_map_and_its_entry_refreshable() {
        let flights = Arc::new(Flights::new(SystemClock::shared()));
        let tenant = ExternalId::from("t");
        let old = entry();
        let due = claimed(&old);
        let runtime = || {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
        };
        // Dropping a runtime drops its tasks, as a worker shutting down does.
        let rt = runtime();
        let (flight, joined) = rt.block_on(async {
            let flight = flights.join_or_start(&tenant, Some(old.clone()), || {
                std::future::pending::<FlightResult>()
            });
            // A second request joins the running flight rather than starting one.
            let joined = flights.join_or_start(&tenant, None, || async { unreachable!() });
            tokio::task::yield_now().await;
            (flight, joined)
        });
        assert!(flights.is_running(&tenant));
        drop(rt);
        assert!(!flights.is_running(&tenant));
        for f in [flight, joined] {
            assert_eq!(runtime().block_on(f).unwrap_err(), ServiceError::Internal);
        }
        assert!(old.claim_refresh(due), "the refresh can be claimed again");
    }
}
