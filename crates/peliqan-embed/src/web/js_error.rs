//! Turning an [`EmbedError`] into a JavaScript `PeliqanError`.

use super::js;
use crate::error::{EmbedError, ErrorCode};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/peliqan-error.js")]
extern "C" {
    type PeliqanError;
    #[wasm_bindgen(constructor)]
    fn new(code: &str, message: &str, details: JsValue) -> PeliqanError;
}

/// The JavaScript error object for `e`; `details` holds `status`,
/// `fields`, `connectionId` and `problemCode` when set.
pub fn to_js(e: &EmbedError) -> JsValue {
    // A `validation` error always has its per-field messages (the types
    // promise them), even when Peliqan named no field.
    let fields = if e.fields.is_empty() && e.code != ErrorCode::Validation {
        JsValue::UNDEFINED
    } else {
        let pairs: Vec<(&str, JsValue)> = e
            .fields
            .iter()
            .map(|(k, m)| (k.as_str(), JsValue::from_str(m)))
            .collect();
        js::object(&pairs)
    };
    let opt = |n: Option<f64>| n.map_or(JsValue::UNDEFINED, JsValue::from_f64);
    let details = js::object(&[
        ("status", opt(e.status.map(f64::from))),
        ("fields", fields),
        ("connectionId", opt(e.connection_id.map(|id| id as f64))),
        (
            "problemCode",
            e.problem_code
                .as_deref()
                .map_or(JsValue::UNDEFINED, JsValue::from_str),
        ),
    ]);
    PeliqanError::new(e.code.as_str(), &e.message, details).into()
}
