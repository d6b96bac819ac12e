//! The soak's steady load: a fixed number of keep-alive connections, each
//! a thread sending `POST /v1/token` at an even pace for the users in turn,
//! and a book of every answer. Threads of their own ask, at a lower rate,
//! for *cold* tenants, once each: tenants the service has never seen (their
//! sub-accounts exist in the emulator), so that misses meet the faults too.
//!
//! The book knows, per tenant, until when its last token is served (the
//! answer's `expires_at` minus the service's safety margin). When a phase
//! begins, the tenants whose token is still good then are its *cached*
//! tenants: the service holds a token it may hand out, so any non-2xx (or
//! no answer) for them during the phase is an error the cache should have
//! absorbed. Each answer is booked to the phase in which it was sent.

use super::client::{Answer, Conn};
use crate::bench::setup::SECRET;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// One user: the tenant it belongs to (an index into the steady tenants,
/// or into the cold ones) and its `Authorization` value.
pub struct User {
    pub tenant: usize,
    pub auth: String,
}

/// `per_tenant` distinct user JWTs (own `sub`) for each of the tenants
/// `{prefix}-0 .. {prefix}-{tenants - 1}`, valid for three hours, HS256.
pub fn users(prefix: &str, tenants: usize, per_tenant: usize) -> Vec<User> {
    let exp = unix_now() + 3 * 3600;
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let mut out = Vec::with_capacity(tenants * per_tenant);
    // User-major order: consecutive requests go to different tenants.
    for u in 0..per_tenant {
        for t in 0..tenants {
            let claims = json!({
                "sub": format!("{prefix}-user-{t}-{u}"),
                "external_id": format!("{prefix}-{t}"),
                "exp": exp,
            });
            let jwt = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key)
                .expect("HS256 signs");
            out.push(User {
                tenant: t,
                auth: format!("Bearer {jwt}"),
            });
        }
    }
    out
}

/// Who the load asks for: the steady users, and the cold tenants' users
/// (one request each, `cold_rate` per second while they last).
pub struct Population {
    pub steady: Vec<User>,
    pub tenants: usize,
    pub cold: Vec<User>,
    pub cold_rate: u32,
}

/// What one phase saw.
#[derive(Default)]
pub struct Tally {
    pub requests: u64,
    /// Non-2xx answers by `"<status> <code>"`, plus `"no answer: ..."`.
    pub by_code: BTreeMap<String, u64>,
    /// One answer body per key of `by_code`, for the report.
    pub samples: BTreeMap<String, String>,
    /// Tenants with a servable token when the phase began.
    pub cached: BTreeSet<usize>,
    /// Of those, the ones that got a non-2xx or no answer.
    pub cached_failed: BTreeSet<usize>,
    /// Requests resent because a kept-alive connection was found closed.
    pub resent: u64,
    /// Cold tenants asked for (their first request ever), and how many
    /// of those got a non-2xx or no answer.
    pub cold: u64,
    pub cold_failed: u64,
    /// Answer times of the steady users, in microseconds.
    pub micros: Vec<u32>,
    /// Longest answer time for a cold tenant.
    pub cold_max: Duration,
}

impl Tally {
    /// The `q` quantile of answer times, in ms.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let mut v = self.micros.clone();
        v.sort_unstable();
        let at = ((v.len() as f64 * q) as usize).min(v.len().saturating_sub(1));
        v.get(at).map_or(0.0, |&us| f64::from(us) / 1000.0)
    }
}

struct Book {
    /// Per tenant: unix second until which its last token is served.
    good_until: Vec<i64>,
    tallies: Vec<Tally>,
}

struct Shared {
    url: String,
    people: Population,
    /// The service's safety margin, in seconds.
    margin: i64,
    /// Index into `tallies` of the phase now running.
    phase: AtomicUsize,
    stop: AtomicBool,
    next_steady: AtomicUsize,
    next_cold: AtomicUsize,
    book: Mutex<Book>,
}

impl Shared {
    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running load.
pub struct Load {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    /// Gets each tenant's first token, the requests spread evenly over
    /// `spread` so that the tenants' refreshes do not all fall together,
    /// then every user's once. Fails on any non-2xx: the phases need every
    /// tenant cached.
    pub fn warm(
        url: &str,
        people: Population,
        margin: i64,
        spread: Duration,
    ) -> anyhow::Result<Self> {
        let tenants = people.tenants;
        let shared = Arc::new(Shared {
            url: url.to_owned(),
            people,
            margin,
            phase: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            next_steady: AtomicUsize::new(0),
            next_cold: AtomicUsize::new(0),
            book: Mutex::new(Book {
                good_until: vec![0; tenants],
                tallies: vec![Tally::default()],
            }),
        });
        let mut conn = Conn::new(url)?;
        let started = Instant::now();
        let step = spread / tenants.max(1) as u32;
        for (i, user) in shared.people.steady.iter().enumerate() {
            if i < tenants {
                let at = started + step * i as u32;
                std::thread::sleep(at.saturating_duration_since(Instant::now()));
            }
            let answer = send(&mut conn, user)?;
            anyhow::ensure!(
                answer.status == 200,
                "warm-up: tenant {} answered {}: {}",
                user.tenant,
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
            shared.record(0, Some(user.tenant), Ok(&answer), Duration::ZERO);
        }
        Ok(Self {
            shared,
            threads: Vec::new(),
        })
    }

    /// Starts `connections` threads sending `rate` requests per second in
    /// all to the steady users, less the cold tenants' share, which has
    /// threads of its own: a miss may wait seconds on Peliqan, and must
    /// not slow the steady load.
    pub fn start(&mut self, connections: usize, rate: u32) -> anyhow::Result<()> {
        let cold_rate = self.shared.people.cold_rate.min(rate / 2);
        let steady = Arc::new(Pacer::new(rate - cold_rate));
        let cold = Arc::new(Pacer::new(cold_rate));
        // Enough for a few seconds of misses in flight.
        let cold_threads = (cold_rate as usize * 2).clamp(1, 32);
        let pools = [(connections, steady, false), (cold_threads, cold, true)];
        for (threads, pacer, is_cold) in pools {
            if is_cold && cold_rate == 0 {
                continue;
            }
            for _ in 0..threads {
                let (shared, pacer) = (self.shared.clone(), pacer.clone());
                let mut conn = Conn::new(&shared.url)?;
                self.threads.push(std::thread::spawn(move || {
                    shared.run(&mut conn, &pacer, is_cold)
                }));
            }
        }
        Ok(())
    }

    /// Begins a new phase: notes the cached tenants, then books answers
    /// to it. Returns its index for [`Load::finish`]'s tallies.
    pub fn begin(&self) -> usize {
        let mut book = self.shared.book();
        let now = unix_now();
        let cached = (0..book.good_until.len())
            .filter(|&t| book.good_until[t] > now)
            .collect();
        book.tallies.push(Tally {
            cached,
            ..Tally::default()
        });
        let index = book.tallies.len() - 1;
        self.shared.phase.store(index, Ordering::SeqCst);
        index
    }

    /// `(requests, non-2xx, cached tenants with an error)` of phase
    /// `index` so far, for the line printed when a phase ends.
    pub fn progress(&self, index: usize) -> (u64, u64, usize) {
        let book = self.shared.book();
        let t = &book.tallies[index];
        (t.requests, t.by_code.values().sum(), t.cached_failed.len())
    }

    /// Stops the threads (each finishes its request) and returns every
    /// phase's tally; index 0 is the warm-up.
    pub fn finish(mut self) -> Vec<Tally> {
        self.shared.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        std::mem::take(&mut self.shared.book().tallies)
    }
}

impl Shared {
    fn run(&self, conn: &mut Conn, pacer: &Pacer, cold: bool) {
        while !self.stop.load(Ordering::SeqCst) {
            pacer.wait();
            if self.stop.load(Ordering::SeqCst) {
                // A slot claimed before the stop (up to a second ahead)
                // must not add requests to the last phase.
                return;
            }
            let user = if cold {
                let c = self.next_cold.fetch_add(1, Ordering::Relaxed);
                match self.people.cold.get(c) {
                    Some(user) => user,
                    None => return,
                }
            } else {
                let s = self.next_steady.fetch_add(1, Ordering::Relaxed);
                &self.people.steady[s % self.people.steady.len()]
            };
            let phase = self.phase.load(Ordering::SeqCst);
            let (resent, started) = (conn.resent, Instant::now());
            let answer = send(conn, user);
            let took = started.elapsed();
            if conn.resent > resent {
                self.book().tallies[phase].resent += 1;
            }
            let tenant = (!cold).then_some(user.tenant);
            self.record(phase, tenant, answer.as_ref(), took);
        }
    }

    /// Books one answer; `tenant` is `None` for a cold tenant.
    fn record(
        &self,
        phase: usize,
        tenant: Option<usize>,
        answer: Result<&Answer, &anyhow::Error>,
        took: Duration,
    ) {
        let ok = answer.is_ok_and(|a| (200..300).contains(&a.status));
        let good_until = match (answer, tenant) {
            (Ok(a), Some(t)) if ok => expires_at(&a.body).map(|exp| (t, exp - self.margin)),
            _ => None,
        };
        let failure = match answer {
            Ok(_) if ok => None,
            Ok(a) => Some((key(a), String::from_utf8_lossy(&a.body).into_owned())),
            Err(e) => Some((format!("no answer: {}", root_cause(e)), format!("{e:#}"))),
        };
        let mut book = self.book();
        if let Some((t, until)) = good_until {
            book.good_until[t] = book.good_until[t].max(until);
        }
        let tally = &mut book.tallies[phase];
        tally.requests += 1;
        if tenant.is_none() {
            tally.cold += 1;
            tally.cold_failed += u64::from(failure.is_some());
            tally.cold_max = tally.cold_max.max(took);
        } else {
            let micros = took.as_micros().min(u128::from(u32::MAX)) as u32;
            tally.micros.push(micros);
        }
        if let Some((key, sample)) = failure {
            *tally.by_code.entry(key.clone()).or_insert(0) += 1;
            tally.samples.entry(key).or_insert(sample);
            if let Some(t) = tenant.filter(|t| tally.cached.contains(t)) {
                tally.cached_failed.insert(t);
            }
        }
    }
}

/// Send times at a fixed rate, shared by a pool of threads: a thread
/// waiting on a slow answer does not hold the others back, and a slot more
/// than a second late is dropped rather than sent in a burst.
struct Pacer {
    start: Instant,
    interval: Duration,
    next: AtomicU64,
}

impl Pacer {
    fn new(rate: u32) -> Self {
        Self {
            start: Instant::now(),
            interval: Duration::from_secs_f64(1.0 / f64::from(rate.max(1))),
            next: AtomicU64::new(0),
        }
    }

    /// Waits for the next free slot.
    fn wait(&self) {
        loop {
            let k = self.next.fetch_add(1, Ordering::Relaxed);
            let at = self.start + self.interval.mul_f64(k as f64);
            let now = Instant::now();
            if at > now {
                std::thread::sleep(at - now);
                return;
            }
            if now - at <= Duration::from_secs(1) {
                return;
            }
        }
    }
}

fn send(conn: &mut Conn, user: &User) -> anyhow::Result<Answer> {
    conn.request("POST", "/v1/token", &[("Authorization", &user.auth)], "")
}

/// `"<status> <problem code>"`, marking a 429/503 without `Retry-After`
/// (the README promises one on both).
fn key(a: &Answer) -> String {
    let code = serde_json::from_slice::<Value>(&a.body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "(no problem code)".into());
    let missing = matches!(a.status, 429 | 503) && a.retry_after.is_none();
    format!(
        "{} {code}{}",
        a.status,
        if missing { " without Retry-After" } else { "" }
    )
}

fn root_cause(e: &anyhow::Error) -> String {
    let text = e.root_cause().to_string();
    // Short and stable enough to group by.
    text.split(" (os error").next().unwrap_or(&text).to_owned()
}

/// The answer's `expires_at` as unix seconds.
fn expires_at(body: &[u8]) -> Option<i64> {
    let v: Value = serde_json::from_slice(body).ok()?;
    unix_secs(v["expires_at"].as_str()?)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `YYYY-MM-DDTHH:MM:SSZ` (the service's form) as unix seconds.
fn unix_secs(text: &str) -> Option<i64> {
    if text.len() != 20 || !text.ends_with('Z') {
        return None;
    }
    let n = |from: usize, to: usize| text.get(from..to)?.parse::<i64>().ok();
    let (y, m, d) = (n(0, 4)?, n(5, 7)?, n(8, 10)?);
    let secs = n(11, 13)? * 3600 + n(14, 16)? * 60 + n(17, 19)?;
    // Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400 + secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_seconds_become_unix_seconds() {
        assert_eq!(unix_secs("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_secs("2000-03-01T00:00:01Z"), Some(951_868_801));
        assert_eq!(unix_secs("2026-11-28T02:43:00Z"), Some(1_795_833_780));
        assert_eq!(unix_secs("2026-11-28T02:43:00+01:00"), None);
    }

    #[test]
    fn failures_are_grouped_by_status_and_problem_code() {
        let a = Answer {
            status: 503,
            retry_after: None,
            body: br#"{"code":"upstream_unavailable"}"#.to_vec(),
        };
        assert_eq!(key(&a), "503 upstream_unavailable without Retry-After");
        let a = Answer {
            status: 500,
            retry_after: None,
            body: b"oops".to_vec(),
        };
        assert_eq!(key(&a), "500 (no problem code)");
    }
}
