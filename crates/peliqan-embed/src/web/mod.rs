//! The wasm-bindgen layer: JavaScript in, plain Rust decisions, fetch and
//! timers out. Nothing here decides policy; see the crate's plain modules.

mod connect;
mod embed;
mod events;
mod http;
mod js;
mod js_error;
mod popup;
mod token_source;

use wasm_bindgen::prelude::*;

pub use embed::PeliqanEmbed;

/// Runs once when the module is instantiated. Debug builds route Rust
/// panics to `console.error` with a message instead of a bare `unreachable`.
#[wasm_bindgen(start)]
pub fn start() {
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
}

#[wasm_bindgen]
extern "C" {
    // The global `setTimeout`, so sleeping works in windows and workers alike.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &js_sys::Function, ms: i32) -> JsValue;
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Resolves after `ms` milliseconds.
pub(crate) async fn sleep(ms: f64) {
    let p = js_sys::Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, ms.clamp(0.0, 2_147_483_647.0) as i32);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}
