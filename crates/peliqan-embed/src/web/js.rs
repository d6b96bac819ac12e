//! Reading plain JavaScript option objects and building result values.
//!
//! Options are read field by field with `Reflect` instead of through serde:
//! each serde-derived input struct costs kilobytes of wasm, a property read
//! a few bytes. Peliqan's answers are handed to JavaScript with
//! `JSON.parse` of the response text, untouched, for the same reason.

use crate::error::{EmbedError, ErrorCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};

/// `obj[key]`, `undefined` if `obj` is not an object.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() {
        return JsValue::UNDEFINED;
    }
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A string property.
pub fn string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

/// A number property.
pub fn number(obj: &JsValue, key: &str) -> Option<f64> {
    get(obj, key).as_f64()
}

/// A boolean property.
pub fn boolean(obj: &JsValue, key: &str) -> Option<bool> {
    get(obj, key).as_bool()
}

/// A function property.
pub fn function(obj: &JsValue, key: &str) -> Option<js_sys::Function> {
    get(obj, key).dyn_into().ok()
}

/// The string entries of an object property such as `headers`.
pub fn string_entries(obj: &JsValue, key: &str) -> Vec<(String, String)> {
    let v = get(obj, key);
    if !v.is_object() {
        return Vec::new();
    }
    let entries = js_sys::Object::entries(v.unchecked_ref());
    entries
        .iter()
        .filter_map(|pair| {
            let pair: js_sys::Array = pair.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

/// JSON text to a JavaScript value.
pub fn parse_json(text: &str) -> Result<JsValue, EmbedError> {
    js_sys::JSON::parse(text)
        .map_err(|_| EmbedError::new(ErrorCode::Upstream, "the answer is not JSON"))
}

/// A serialisable Rust value to a JavaScript value.
pub fn to_value<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, EmbedError> {
    parse_json(&serde_json::to_string(v).unwrap_or_default())
}

/// A JavaScript value read as `T` through JSON; `invalid_config` naming
/// `what` if it does not fit. (No serde error text: formatting it would pull
/// float printing into the bundle.)
pub fn from_value<T: DeserializeOwned>(v: &JsValue, what: &str) -> Result<T, EmbedError> {
    let text: String = js_sys::JSON::stringify(v)
        .map(Into::into)
        .unwrap_or_default();
    serde_json::from_str(&text).map_err(|_| invalid(&[what, " has the wrong shape"].concat()))
}

/// An `invalid_config` error.
pub fn invalid(msg: &str) -> EmbedError {
    EmbedError::new(ErrorCode::InvalidConfig, msg)
}
