//! `PeliqanEmbed`, the class partners construct. It checks the options in
//! Rust ([`Config::read`]), then hands each call to the JavaScript `Sdk`
//! of `js/sdk.js`, which does the I/O (fetch, the token cache, events, the
//! OAuth popup, polling, cancellation) and asks the instance's [`Core`]
//! for every decision.
//!
//! Lifecycle: `on`/`off` (event types checked here against
//! [`crate::event_names::TYPES`]), and `destroy()`, which cancels every
//! `connect()` in flight (closing its popup, stopping its polling) and
//! makes later calls reject with `invalid_config`.

use super::core::Core;
use super::js::{self, invalid_config};
use super::js_error::to_js;
use crate::config::{Config, Credentials};
use crate::error::EmbedError;
use crate::event_names::TYPES;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/sdk.js")]
extern "C" {
    /// The orchestration of one instance (see `js/sdk.js`).
    type Sdk;
    #[wasm_bindgen(constructor)]
    fn new(core: Core, options: &JsValue, config: JsValue) -> Sdk;
    #[wasm_bindgen(method)]
    fn on(this: &Sdk, event_type: &str, listener: &Function);
    #[wasm_bindgen(method)]
    fn off(this: &Sdk, event_type: &str, listener: &Function);
    #[wasm_bindgen(method)]
    fn destroy(this: &Sdk);
    #[wasm_bindgen(method)]
    fn connectors(this: &Sdk) -> Promise;
    #[wasm_bindgen(method)]
    fn connections(this: &Sdk) -> Promise;
    #[wasm_bindgen(method)]
    fn connection(this: &Sdk, id: &JsValue) -> Promise;
    #[wasm_bindgen(method, js_name = connectionLogs)]
    fn connection_logs(this: &Sdk, id: &JsValue) -> Promise;
    #[wasm_bindgen(method, js_name = createTable)]
    fn create_table(this: &Sdk, input: &JsValue) -> Promise;
    #[wasm_bindgen(method, js_name = addScheduledScript)]
    fn add_scheduled_script(this: &Sdk, input: &JsValue) -> Promise;
    #[wasm_bindgen(method)]
    fn connect(this: &Sdk, connector: &JsValue, fields: &JsValue, options: &JsValue) -> Promise;
}

/// The known event type `ty`, or `invalid_config` naming the known ones.
fn known(ty: &str) -> Result<(), JsValue> {
    if TYPES.contains(&ty) {
        return Ok(());
    }
    let e: EmbedError = invalid_config(
        &[
            "unknown event type `",
            ty,
            "`; known types: ",
            &TYPES.join(", "),
        ]
        .concat(),
    );
    Err(to_js(&e))
}

/// What `Sdk` needs of the checked options.
fn config_for_js(config: &Config) -> JsValue {
    let headers = js::object(
        &config
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), JsValue::from_str(v)))
            .collect::<Vec<_>>(),
    );
    let credentials = match config.credentials {
        Credentials::Omit => "omit",
        Credentials::SameOrigin => "same-origin",
        Credentials::Include => "include",
    };
    let url = |u: &Option<String>| u.as_deref().map_or(JsValue::UNDEFINED, JsValue::from_str);
    js::object(&[
        ("tokenUrl", url(&config.token_url)),
        ("connectorsUrl", url(&config.connectors_url)),
        ("credentials", credentials.into()),
        ("headers", headers),
        ("poweredByNotice", config.powered_by_notice.into()),
    ])
}

/// The Peliqan Embed SDK. One instance per signed-in end-customer.
#[wasm_bindgen]
pub struct PeliqanEmbed {
    sdk: Sdk,
}

#[wasm_bindgen]
impl PeliqanEmbed {
    /// Checks the options; throws a `PeliqanError` (`invalid_config`) if wrong.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<PeliqanEmbed, JsValue> {
        let config = Config::read(&options).map_err(|e| to_js(&e))?;
        let for_js = config_for_js(&config);
        Ok(Self {
            sdk: Sdk::new(Core::new(config), &options, for_js),
        })
    }

    /// Adds an event listener: `on('connected', ({connection}) => ...)`.
    /// Throws `invalid_config` for an unknown event type.
    pub fn on(&self, event_type: &str, listener: Function) -> Result<(), JsValue> {
        known(event_type)?;
        self.sdk.on(event_type, &listener);
        Ok(())
    }

    /// Removes an event listener added with `on`.
    pub fn off(&self, event_type: &str, listener: Function) -> Result<(), JsValue> {
        known(event_type)?;
        self.sdk.off(event_type, &listener);
        Ok(())
    }

    /// Cancels every `connect()` in flight (its popup closes, its polling
    /// stops, it rejects with `cancelled` and sends its `cancelled` event),
    /// and makes later calls reject with `invalid_config`. Safe to call
    /// twice.
    pub fn destroy(&self) {
        self.sdk.destroy();
    }

    /// The connectors (servertypes with connect forms), via the token service.
    pub fn connectors(&self) -> Promise {
        self.sdk.connectors()
    }

    /// The end-customer's connections.
    pub fn connections(&self) -> Promise {
        self.sdk.connections()
    }

    /// One connection with its current status.
    pub fn connection(&self, id: JsValue) -> Promise {
        self.sdk.connection(&id)
    }

    /// The log lines of one connection.
    #[wasm_bindgen(js_name = connectionLogs)]
    pub fn connection_logs(&self, id: JsValue) -> Promise {
        self.sdk.connection_logs(&id)
    }

    /// Creates a query table: `{name, query, databaseId?, schemaId?}`.
    #[wasm_bindgen(js_name = createTable)]
    pub fn create_table(&self, input: JsValue) -> Promise {
        self.sdk.create_table(&input)
    }

    /// Adds a scheduled Python script: `{name, rawCode, schedule}` (seconds),
    /// and `groupId` or `groupName` in dialects that put scripts in groups.
    #[wasm_bindgen(js_name = addScheduledScript)]
    pub fn add_scheduled_script(&self, input: JsValue) -> Promise {
        self.sdk.add_scheduled_script(&input)
    }

    /// Adds a connection and waits until it is live. For connectors that are
    /// or may be OAuth it opens the popup synchronously (call it straight
    /// from a click handler).
    pub fn connect(&self, connector: JsValue, fields: JsValue, options: JsValue) -> Promise {
        self.sdk.connect(&connector, &fields, &options)
    }
}
