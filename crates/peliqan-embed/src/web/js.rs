//! Reading plain JavaScript option objects and building result values.
//!
//! Options are read field by field with `Reflect` instead of through serde:
//! each serde-derived input struct costs kilobytes of wasm, a property read
//! a few bytes. For the same reason JSON text is parsed and written by the
//! browser (`JSON.parse`/`stringify`) and converted to and from
//! `serde_json::Value` here; Peliqan's answers reach JavaScript untouched.

use crate::config::OptionSource;
use crate::error::{EmbedError, ErrorCode};
use serde_json::Value;
use std::collections::BTreeMap;
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
pub fn string_entries(obj: &JsValue, key: &str) -> BTreeMap<String, String> {
    string_entries_of(&get(obj, key))
}

/// The string entries of an object (none for anything else).
pub fn string_entries_of(v: &JsValue) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    if v.is_object() {
        // Inserted one by one: collecting into a map sorts first, and each
        // sort instance costs kilobytes of wasm.
        for pair in js_sys::Object::entries(v.unchecked_ref()).iter() {
            let pair: js_sys::Array = pair.unchecked_into();
            if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                map.insert(k, v);
            }
        }
    }
    map
}

/// The options object of `new PeliqanEmbed({...})`, for [`crate::config::Config::read`].
impl OptionSource for JsValue {
    fn string(&self, key: &str) -> Option<String> {
        string(self, key)
    }
    fn boolean(&self, key: &str) -> Option<bool> {
        boolean(self, key)
    }
    fn string_entries(&self, key: &str) -> BTreeMap<String, String> {
        string_entries(self, key)
    }
    fn is_function(&self, key: &str) -> bool {
        function(self, key).is_some()
    }
}

/// JSON text to a `Value` (parsed by the browser); text that is not JSON
/// becomes a `Value::String` of itself, e.g. an HTML error page.
pub fn json_value(text: &str) -> Value {
    js_sys::JSON::parse(text).map_or_else(|_| Value::String(text.to_owned()), |v| to_json(&v))
}

/// A JavaScript value as a `serde_json::Value` (functions and `undefined`
/// become `null`). Converting by hand keeps serde's readers out of the
/// bundle; see [`crate::answers`].
pub fn to_json(v: &JsValue) -> Value {
    if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if let Some(n) = v.as_f64() {
        // Whole numbers stay integers, so ids compare and serialise as such.
        if n.fract() == 0.0 && n.abs() < 9.0e15 {
            Value::from(n as i64)
        } else {
            serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
        }
    } else if let Some(s) = v.as_string() {
        Value::String(s)
    } else if let Some(a) = v.dyn_ref::<js_sys::Array>() {
        Value::Array(a.iter().map(|x| to_json(&x)).collect())
    } else if v.is_object() && !v.is_function() {
        // Inserted one by one, not collected: see `string_entries`.
        let mut map = serde_json::Map::new();
        for pair in js_sys::Object::entries(v.unchecked_ref()).iter() {
            let pair: js_sys::Array = pair.unchecked_into();
            if let Some(k) = pair.get(0).as_string() {
                map.insert(k, to_json(&pair.get(1)));
            }
        }
        Value::Object(map)
    } else {
        Value::Null
    }
}

/// A `serde_json::Value` as a JavaScript value.
pub fn from_json(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => n.as_f64().unwrap_or_default().into(),
        Value::String(s) => s.into(),
        Value::Array(items) => items
            .iter()
            .map(from_json)
            .collect::<js_sys::Array>()
            .into(),
        Value::Object(map) => {
            let o = js_sys::Object::new();
            for (k, v) in map {
                let _ = js_sys::Reflect::set(&o, &k.into(), &from_json(v));
            }
            o.into()
        }
    }
}

/// JSON text of a JavaScript value (serialised by the browser).
pub fn stringify(v: &JsValue) -> String {
    js_sys::JSON::stringify(v)
        .map(Into::into)
        .unwrap_or_default()
}

/// A plain object from key/value pairs; `undefined` values are left out.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        if !v.is_undefined() {
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), v);
        }
    }
    o.into()
}

/// An `invalid_config` error.
pub fn invalid_config(msg: &str) -> EmbedError {
    EmbedError::new(ErrorCode::InvalidConfig, msg)
}
