//! Events of a `PeliqanEmbed` instance: `embed.on(type, listener)` and
//! `embed.off(type, listener)`.
//!
//! A listener gets one plain object, `{type, ...detail}`. A small list of
//! `(type, function)` pairs instead of a DOM `EventTarget`: the instance is
//! a wasm-bindgen class (it cannot extend `EventTarget`), and plain objects
//! are what partner code destructures anyway. A throwing listener never
//! breaks the SDK's own flow, nor the other listeners.

use super::js::{self, invalid_config};
use crate::error::EmbedError;
pub use crate::event_names::*;
use std::cell::{Cell, RefCell};
use wasm_bindgen::JsValue;

/// Which side a request went to, for [`UNREACHABLE`].
#[derive(Clone, Copy)]
pub enum Service {
    TokenService,
    Peliqan,
}

impl Service {
    fn as_str(self) -> &'static str {
        match self {
            Self::TokenService => "token_service",
            Self::Peliqan => "peliqan",
        }
    }
}

/// The listeners of one instance, and which services are known down.
#[derive(Default)]
pub struct Events {
    listeners: RefCell<Vec<(&'static str, js_sys::Function)>>,
    down: [Cell<bool>; 2],
}

/// The known event type `ty`, or `invalid_config` naming the known ones.
fn known(ty: &str) -> Result<&'static str, EmbedError> {
    TYPES.iter().copied().find(|t| *t == ty).ok_or_else(|| {
        invalid_config(
            &[
                "unknown event type `",
                ty,
                "`; known types: ",
                &TYPES.join(", "),
            ]
            .concat(),
        )
    })
}

/// Whether two functions are the same object (`===`).
fn same(a: &js_sys::Function, b: &js_sys::Function) -> bool {
    let (a, b): (&JsValue, &JsValue) = (a.as_ref(), b.as_ref());
    a == b
}

impl Events {
    /// Adds `listener` for `ty` (once: adding it again changes nothing).
    pub fn on(&self, ty: &str, listener: js_sys::Function) -> Result<(), EmbedError> {
        let ty = known(ty)?;
        let mut list = self.listeners.borrow_mut();
        if !list.iter().any(|(t, f)| *t == ty && same(f, &listener)) {
            list.push((ty, listener));
        }
        Ok(())
    }

    /// Removes `listener` for `ty`.
    pub fn off(&self, ty: &str, listener: &js_sys::Function) -> Result<(), EmbedError> {
        let ty = known(ty)?;
        self.listeners
            .borrow_mut()
            .retain(|(t, f)| !(*t == ty && same(f, listener)));
        Ok(())
    }

    /// Calls the listeners of `ty` with `{type, ...detail}`.
    pub fn emit(&self, ty: &'static str, detail: &[(&str, JsValue)]) {
        // A copy, so a listener may call on/off while being called.
        let targets: Vec<js_sys::Function> = self
            .listeners
            .borrow()
            .iter()
            .filter(|(t, _)| *t == ty)
            .map(|(_, f)| f.clone())
            .collect();
        if targets.is_empty() {
            return;
        }
        let mut pairs = vec![("type", JsValue::from_str(ty))];
        pairs.extend(detail.iter().cloned());
        let event = js::object(&pairs);
        for f in targets {
            let _ = f.call1(&JsValue::NULL, &event);
        }
    }

    /// Notes how a request to `service` went: a transport failure
    /// (`network`, `cors`) sends [`UNREACHABLE`] once until an answer.
    pub fn observe<T>(&self, service: Service, result: &Result<T, EmbedError>) {
        let down = &self.down[service as usize];
        match result {
            Err(e) if e.is_transport() => {
                if !down.replace(true) {
                    self.emit(
                        UNREACHABLE,
                        &[
                            ("service", service.as_str().into()),
                            ("error", super::js_error::to_js(e)),
                        ],
                    );
                }
            }
            _ => down.set(false),
        }
    }
}
