//! The in-memory token cache: one token, one refresh at a time.
//!
//! Data flow: every Peliqan call asks [`TokenCache::get`] for a token. A
//! fresh cached token is returned at once; otherwise the first caller starts
//! the fetch (token service or partner callback) and every caller that
//! arrives meanwhile awaits that same shared future, so a page that fires
//! five calls at start-up makes one token request. A 401 from Peliqan calls
//! [`TokenCache::invalidate`] with the token it used, then `get` again: if
//! another caller already replaced that token, no second refresh happens;
//! otherwise the refresh is told which token Peliqan rejected, so the token
//! source can replace a token it has cached instead of answering it again.
//!
//! Errors are never cached: the next `get` tries again. The fetch function
//! and the clock are injected, so this is tested natively.

use crate::error::EmbedError;
use crate::token::Token;
use futures::future::LocalBoxFuture;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

type Outcome = Result<Token, EmbedError>;
type Fetch = Rc<dyn Fn(Option<String>) -> LocalBoxFuture<'static, Outcome>>;

#[derive(Default)]
struct State {
    current: Option<Token>,
    inflight: Option<Rc<Refresh>>,
    /// The token Peliqan rejected, for the next refresh to name.
    rejected: Option<String>,
}

/// One refresh in flight, awaited by every caller that needs a token
/// meanwhile. A single-threaded stand-in for `futures`' `Shared` (whose
/// `Arc`, mutex and waker slab cost the bundle about 1.3 KB gzipped): any
/// waiter may drive the fetch; when it completes, every waiter is woken
/// and gets a clone of the outcome.
struct Refresh {
    /// The fetch, until it completes.
    fetch: RefCell<Option<LocalBoxFuture<'static, Outcome>>>,
    outcome: RefCell<Option<Outcome>>,
    /// The wakers of the callers waiting for `outcome`.
    waiting: RefCell<Vec<Waker>>,
}

impl Refresh {
    fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<Outcome> {
        if let Some(done) = &*self.outcome.borrow() {
            return Poll::Ready(done.clone());
        }
        // Busy only if polled from inside its own fetch: wait to be woken.
        if let Ok(mut slot) = self.fetch.try_borrow_mut()
            && let Some(fetch) = slot.as_mut()
            && let Poll::Ready(done) = fetch.as_mut().poll(cx)
        {
            *slot = None;
            *self.outcome.borrow_mut() = Some(done.clone());
            for w in self.waiting.take() {
                w.wake();
            }
            return Poll::Ready(done);
        }
        let mut waiting = self.waiting.borrow_mut();
        if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
            waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// What [`TokenCache::get`] answers: a token at hand or a shared refresh.
enum Waiter {
    Ready(Option<Outcome>),
    Waiting(Rc<Refresh>),
}

impl Future for Waiter {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        match self.get_mut() {
            Self::Ready(token) => token.take().map_or(Poll::Pending, Poll::Ready),
            Self::Waiting(refresh) => refresh.poll_outcome(cx),
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        // The fetch may have registered this caller's waker only: wake the
        // others, so one of them drives it on.
        if let Self::Waiting(refresh) = self
            && refresh.outcome.borrow().is_none()
        {
            for w in refresh.waiting.borrow().iter() {
                w.wake_by_ref();
            }
        }
    }
}

/// Shared, clonable handle to the token cache of one `PeliqanEmbed`.
#[derive(Clone)]
pub struct TokenCache {
    state: Rc<RefCell<State>>,
    fetch: Fetch,
    clock: Rc<dyn Fn() -> f64>,
}

impl TokenCache {
    /// A cache that gets new tokens from `fetch` and reads time (ms since
    /// epoch) from `clock`. `fetch` gets the value of the token Peliqan
    /// rejected when that is why a new one is needed.
    pub fn new(
        fetch: impl Fn(Option<String>) -> LocalBoxFuture<'static, Outcome> + 'static,
        clock: impl Fn() -> f64 + 'static,
    ) -> Self {
        Self {
            state: Rc::default(),
            fetch: Rc::new(fetch),
            clock: Rc::new(clock),
        }
    }

    /// A token good to use now, fetching one if needed.
    pub fn get(&self) -> impl Future<Output = Outcome> + use<> {
        let mut st = self.state.borrow_mut();
        if let Some(t) = &st.current
            && !t.needs_refresh((self.clock)())
        {
            return Waiter::Ready(Some(Ok(t.clone())));
        }
        let refresh = match &st.inflight {
            Some(r) => Rc::clone(r),
            None => {
                let r = self.start_refresh(st.rejected.take());
                st.inflight = Some(Rc::clone(&r));
                r
            }
        };
        Waiter::Waiting(refresh)
    }

    /// Forgets `used` after Peliqan refused it, unless it was already replaced.
    pub fn invalidate(&self, used: &Token) {
        let mut st = self.state.borrow_mut();
        if st.current.as_ref().is_some_and(|t| t.value == used.value) {
            st.current = None;
            st.rejected = Some(used.value.clone());
        }
    }

    /// The refresh; its fetch stores its own result so the state is
    /// updated exactly once, whoever drives it.
    fn start_refresh(&self, rejected: Option<String>) -> Rc<Refresh> {
        let fut = (self.fetch)(rejected);
        let state = Rc::clone(&self.state);
        let fetch: LocalBoxFuture<'static, Outcome> = Box::pin(async move {
            let result = fut.await;
            let mut st = state.borrow_mut();
            st.inflight = None;
            if let Ok(t) = &result {
                st.current = Some(t.clone());
            }
            result
        });
        Rc::new(Refresh {
            fetch: RefCell::new(Some(fetch)),
            outcome: RefCell::default(),
            waiting: RefCell::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use futures::FutureExt;
    use futures::channel::oneshot;
    use futures::executor::block_on;
    use futures::future::join_all;
    use std::cell::Cell;

    /// A cache whose fetch counts calls and hands out `tok-N` valid for `ttl`.
    fn counting(ttl: f64, now: Rc<Cell<f64>>) -> (TokenCache, Rc<Cell<u32>>) {
        let calls = Rc::new(Cell::new(0));
        let (c, n) = (Rc::clone(&calls), Rc::clone(&now));
        let cache = TokenCache::new(
            move |_| {
                c.set(c.get() + 1);
                let t = Token::new(format!("tok-{}", c.get()), Some(n.get() + ttl), n.get());
                async move { Ok(t) }.boxed_local()
            },
            move || now.get(),
        );
        (cache, calls)
    }

    #[test]
    fn concurrent_callers_share_one_refresh() {
        let (tx, rx) = oneshot::channel::<()>();
        let rx = Rc::new(RefCell::new(Some(rx)));
        let calls = Rc::new(Cell::new(0));
        let c = Rc::clone(&calls);
        let cache = TokenCache::new(
            move |_| {
                c.set(c.get() + 1);
                let rx = rx.borrow_mut().take().expect("fetched twice");
                async move {
                    rx.await.ok();
                    Ok(Token::new("shared".into(), Some(1e12), 0.0))
                }
                .boxed_local()
            },
            || 0.0,
        );
        let waiters = join_all((0..5).map(|_| cache.get()));
        tx.send(()).unwrap();
        let got = block_on(waiters);
        assert_eq!(calls.get(), 1);
        assert!(got.iter().all(|r| r.as_ref().unwrap().value == "shared"));
    }

    /// A waker that counts its wakes.
    struct Count(std::sync::atomic::AtomicUsize);

    impl futures::task::ArcWake for Count {
        fn wake_by_ref(me: &std::sync::Arc<Self>) {
            me.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_caller_dropped_while_driving_the_refresh_wakes_the_others() {
        use std::sync::Arc;
        use std::sync::atomic::Ordering::SeqCst;
        use std::task::{Context, Poll};
        let (tx, rx) = oneshot::channel::<()>();
        let rx = Rc::new(RefCell::new(Some(rx)));
        let cache = TokenCache::new(
            move |_| {
                let rx = rx.borrow_mut().take().expect("fetched twice");
                async move {
                    rx.await.ok();
                    Ok(Token::new("late".into(), Some(1e12), 0.0))
                }
                .boxed_local()
            },
            || 0.0,
        );
        let (wa, wb) = (Arc::new(Count(0.into())), Arc::new(Count(0.into())));
        let (a_waker, b_waker) = (
            futures::task::waker(wa),
            futures::task::waker(Arc::clone(&wb)),
        );
        let (mut a, mut b) = (Box::pin(cache.get()), Box::pin(cache.get()));
        assert!(
            b.as_mut()
                .poll(&mut Context::from_waker(&b_waker))
                .is_pending()
        );
        // `a` polls last: the fetch now holds only `a`'s waker.
        assert!(
            a.as_mut()
                .poll(&mut Context::from_waker(&a_waker))
                .is_pending()
        );
        drop(a);
        assert!(wb.0.load(SeqCst) > 0, "b was not woken to drive the fetch");
        tx.send(()).unwrap();
        match b.as_mut().poll(&mut Context::from_waker(&b_waker)) {
            Poll::Ready(Ok(t)) => assert_eq!(t.value, "late"),
            _ => panic!("b did not get the token"),
        }
    }

    #[test]
    fn a_fresh_token_is_reused_and_a_stale_one_refreshed() {
        let now = Rc::new(Cell::new(0.0));
        let (cache, calls) = counting(1_800_000.0, Rc::clone(&now));
        assert_eq!(block_on(cache.get()).unwrap().value, "tok-1");
        now.set(1_000_000.0);
        assert_eq!(block_on(cache.get()).unwrap().value, "tok-1");
        now.set(1_780_000.0); // inside the 30 s margin
        assert_eq!(block_on(cache.get()).unwrap().value, "tok-2");
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn invalidating_a_replaced_token_does_not_refresh_twice() {
        let (cache, calls) = counting(1e9, Rc::new(Cell::new(0.0)));
        let old = block_on(cache.get()).unwrap();
        cache.invalidate(&old);
        let new = block_on(cache.get()).unwrap();
        assert_eq!(new.value, "tok-2");
        cache.invalidate(&old); // a second caller's late 401 with the old token
        assert_eq!(block_on(cache.get()).unwrap().value, "tok-2");
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn the_refresh_after_a_401_names_the_rejected_token_once() {
        let asked = Rc::new(RefCell::new(Vec::new()));
        let (a, n) = (Rc::clone(&asked), Rc::new(Cell::new(0)));
        let cache = TokenCache::new(
            move |rejected| {
                a.borrow_mut().push(rejected);
                n.set(n.get() + 1);
                let t = Token::new(format!("tok-{}", n.get()), Some(1e12), 0.0);
                async move { Ok(t) }.boxed_local()
            },
            || 0.0,
        );
        let first = block_on(cache.get()).unwrap();
        cache.invalidate(&first);
        cache.invalidate(&first); // a second caller's 401 with the same token
        assert_eq!(block_on(cache.get()).unwrap().value, "tok-2");
        cache.invalidate(&first); // late, already replaced: no refresh, nothing named
        assert_eq!(block_on(cache.get()).unwrap().value, "tok-2");
        assert_eq!(*asked.borrow(), [None, Some("tok-1".to_owned())]);
    }

    #[test]
    fn errors_are_not_cached() {
        let calls = Rc::new(Cell::new(0));
        let c = Rc::clone(&calls);
        let cache = TokenCache::new(
            move |_| {
                c.set(c.get() + 1);
                let n = c.get();
                async move {
                    if n == 1 {
                        Err(EmbedError::new(ErrorCode::TokenService, "down"))
                    } else {
                        Ok(Token::new("ok".into(), None, 0.0))
                    }
                }
                .boxed_local()
            },
            || 0.0,
        );
        assert_eq!(
            block_on(cache.get()).unwrap_err().code,
            ErrorCode::TokenService
        );
        assert_eq!(block_on(cache.get()).unwrap().value, "ok");
        assert_eq!(calls.get(), 2);
    }
}
