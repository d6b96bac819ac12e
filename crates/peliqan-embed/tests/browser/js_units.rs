//! `js-tests/sdk-units.js`, the unit tests of `js/sdk.js`'s own logic (the
//! token cache, transient and transport errors), run here so they run in
//! Chromium and Firefox with the other browser tests. No emulator needed.

use js_sys::Promise;
use peliqan_embed::Core;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

#[wasm_bindgen(module = "/js-tests/sdk-units.js")]
extern "C" {
    #[wasm_bindgen(js_name = concurrentCallersShareOneRefresh)]
    fn concurrent_callers_share_one_refresh() -> Promise;
    #[wasm_bindgen(js_name = aFreshTokenIsReusedAndAStaleOneRefreshed)]
    fn a_fresh_token_is_reused_and_a_stale_one_refreshed() -> Promise;
    #[wasm_bindgen(js_name = invalidatingAReplacedTokenDoesNotRefreshTwice)]
    fn invalidating_a_replaced_token_does_not_refresh_twice() -> Promise;
    #[wasm_bindgen(js_name = theRefreshAfterA401NamesTheRejectedTokenOnce)]
    fn the_refresh_after_a_401_names_the_rejected_token_once() -> Promise;
    #[wasm_bindgen(js_name = errorsAreNotCached)]
    fn errors_are_not_cached() -> Promise;
    #[wasm_bindgen(js_name = aFetchThatThrowsAtOnceRejectsEveryCallerAndIsNotCached)]
    fn a_fetch_that_throws_at_once_rejects_every_caller_and_is_not_cached() -> Promise;
    #[wasm_bindgen(js_name = transientAndTransportErrors, catch)]
    fn transient_and_transport_errors(core: Core) -> Result<(), JsValue>;
}

/// Awaits one JS test; its rejection fails the test with its message.
async fn pass(test: Promise) {
    if let Err(e) = JsFuture::from(test).await {
        panic!("{e:?}");
    }
}

#[wasm_bindgen_test]
async fn token_cache_concurrent_callers_share_one_refresh() {
    pass(concurrent_callers_share_one_refresh()).await;
}

#[wasm_bindgen_test]
async fn token_cache_a_fresh_token_is_reused_and_a_stale_one_refreshed() {
    pass(a_fresh_token_is_reused_and_a_stale_one_refreshed()).await;
}

#[wasm_bindgen_test]
async fn token_cache_invalidating_a_replaced_token_does_not_refresh_twice() {
    pass(invalidating_a_replaced_token_does_not_refresh_twice()).await;
}

#[wasm_bindgen_test]
async fn token_cache_the_refresh_after_a_401_names_the_rejected_token_once() {
    pass(the_refresh_after_a_401_names_the_rejected_token_once()).await;
}

#[wasm_bindgen_test]
async fn token_cache_errors_are_not_cached() {
    pass(errors_are_not_cached()).await;
}

#[wasm_bindgen_test]
async fn token_cache_a_fetch_that_throws_at_once_rejects_every_caller() {
    pass(a_fetch_that_throws_at_once_rejects_every_caller_and_is_not_cached()).await;
}

#[wasm_bindgen_test]
fn transient_and_transport_errors_are_told_apart() {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"tokenUrl".into(), &"/v1/token".into()).unwrap();
    let core = Core::new(&options.into()).unwrap();
    if let Err(e) = transient_and_transport_errors(core) {
        panic!("{e:?}");
    }
}
