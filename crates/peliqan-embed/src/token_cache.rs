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
use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};
use std::cell::RefCell;
use std::rc::Rc;

type Fetch = Rc<dyn Fn(Option<String>) -> LocalBoxFuture<'static, Result<Token, EmbedError>>>;
type Inflight = Shared<LocalBoxFuture<'static, Result<Token, EmbedError>>>;

#[derive(Default)]
struct State {
    current: Option<Token>,
    inflight: Option<Inflight>,
    /// The token Peliqan rejected, for the next refresh to name.
    rejected: Option<String>,
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
        fetch: impl Fn(Option<String>) -> LocalBoxFuture<'static, Result<Token, EmbedError>> + 'static,
        clock: impl Fn() -> f64 + 'static,
    ) -> Self {
        Self {
            state: Rc::default(),
            fetch: Rc::new(fetch),
            clock: Rc::new(clock),
        }
    }

    /// A token good to use now, fetching one if needed.
    pub async fn get(&self) -> Result<Token, EmbedError> {
        let shared = {
            let mut st = self.state.borrow_mut();
            if let Some(t) = &st.current
                && !t.needs_refresh((self.clock)())
            {
                return Ok(t.clone());
            }
            match &st.inflight {
                Some(f) => f.clone(),
                None => {
                    let f = self.start_refresh(st.rejected.take());
                    st.inflight = Some(f.clone());
                    f
                }
            }
        };
        shared.await
    }

    /// Forgets `used` after Peliqan refused it, unless it was already replaced.
    pub fn invalidate(&self, used: &Token) {
        let mut st = self.state.borrow_mut();
        if st.current.as_ref().is_some_and(|t| t.value == used.value) {
            st.current = None;
            st.rejected = Some(used.value.clone());
        }
    }

    /// The refresh future; it stores its own result so the state is updated
    /// exactly once, whoever awaits it first.
    fn start_refresh(&self, rejected: Option<String>) -> Inflight {
        let fut = (self.fetch)(rejected);
        let state = Rc::clone(&self.state);
        async move {
            let result = fut.await;
            let mut st = state.borrow_mut();
            st.inflight = None;
            if let Ok(t) = &result {
                st.current = Some(t.clone());
            }
            result
        }
        .boxed_local()
        .shared()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
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
