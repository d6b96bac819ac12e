//! Turning an [`EmbedError`] into a JavaScript `PeliqanError`.

use super::js;
use crate::error::EmbedError;
use serde::Serialize;
use std::collections::BTreeMap;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/peliqan-error.js")]
extern "C" {
    type PeliqanError;
    #[wasm_bindgen(constructor)]
    fn new(code: &str, message: &str, details: JsValue) -> PeliqanError;
}

/// `PeliqanError.details`, camelCase for JavaScript; absent parts omitted.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Details<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    fields: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connection_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem_code: Option<&'a str>,
}

/// The JavaScript error object for `e`.
pub fn to_js(e: &EmbedError) -> JsValue {
    let details = Details {
        status: e.status,
        fields: &e.fields,
        connection_id: e.connection_id,
        problem_code: e.problem_code.as_deref(),
    };
    let details = js::to_value(&details).unwrap_or(JsValue::UNDEFINED);
    PeliqanError::new(e.code.as_str(), &e.message, details).into()
}

/// A short text for a JavaScript exception value (callback failures).
pub fn describe(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return e.message().into();
    }
    v.as_string().unwrap_or_else(|| "unknown error".to_owned())
}
