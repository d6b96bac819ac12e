//! The wasm-bindgen layer: [`Core`], the Rust half of a `PeliqanEmbed`,
//! whose JavaScript half (`js/sdk.js`, the class partners construct) does
//! the I/O and asks `Core`'s synchronous functions for every decision.
//! Nothing here decides policy; see the crate's plain modules.

mod core;
mod js;
mod js_error;

use wasm_bindgen::prelude::*;

pub use self::core::{Core, Poll, Tok};

/// Runs once when the module is instantiated. Debug builds route Rust
/// panics to `console.error` with a message instead of a bare `unreachable`.
#[wasm_bindgen(start)]
pub fn start() {
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> f64 {
    js_sys::Date::now()
}
