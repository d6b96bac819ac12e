//! `PeliqanEmbed` as the package builds it (`js/index.js`): `js/sdk.js`'s
//! `Sdk` over the wasm [`Core`] of the same options, bound here so the
//! tests drive the SDK's JavaScript and its Rust half together, as
//! partners do. (wasm-bindgen copies `/js/sdk.js` next to the library's
//! `/js/peliqan-error.js`: one folder per package, so its import of the
//! error class resolves.)

use js_sys::{Function, Promise};
use peliqan_embed::Core;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/sdk.js")]
extern "C" {
    type Sdk;
    #[wasm_bindgen(constructor)]
    fn new(options: &JsValue, core: Core) -> Sdk;
    #[wasm_bindgen(method, catch)]
    fn on(this: &Sdk, event_type: &str, listener: &Function) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn off(this: &Sdk, event_type: &str, listener: &Function) -> Result<(), JsValue>;
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

/// The SDK instance the tests drive (methods as in `index.d.ts`).
pub struct PeliqanEmbed(Sdk);

impl PeliqanEmbed {
    /// `new PeliqanEmbed(options)`: throws `invalid_config` for wrong options.
    pub fn new(options: JsValue) -> Result<Self, JsValue> {
        let core = Core::new(&options)?;
        Ok(Self(Sdk::new(&options, core)))
    }
    pub fn on(&self, event_type: &str, listener: Function) -> Result<(), JsValue> {
        self.0.on(event_type, &listener)
    }
    pub fn off(&self, event_type: &str, listener: Function) -> Result<(), JsValue> {
        self.0.off(event_type, &listener)
    }
    pub fn destroy(&self) {
        self.0.destroy();
    }
    pub fn connectors(&self) -> Promise {
        self.0.connectors()
    }
    pub fn connections(&self) -> Promise {
        self.0.connections()
    }
    pub fn connection(&self, id: JsValue) -> Promise {
        self.0.connection(&id)
    }
    pub fn connection_logs(&self, id: JsValue) -> Promise {
        self.0.connection_logs(&id)
    }
    pub fn create_table(&self, input: JsValue) -> Promise {
        self.0.create_table(&input)
    }
    pub fn add_scheduled_script(&self, input: JsValue) -> Promise {
        self.0.add_scheduled_script(&input)
    }
    pub fn connect(&self, connector: JsValue, fields: JsValue, options: JsValue) -> Promise {
        self.0.connect(&connector, &fields, &options)
    }
}
