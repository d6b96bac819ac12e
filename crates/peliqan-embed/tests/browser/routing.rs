//! Where the SDK learns which Peliqan to call and in which API dialect:
//! from the token answer when the options do not say, with clear errors
//! when neither does or the answer names something the SDK cannot use.
//! Against an emulator in a strict dialect, a call in the wrong dialect
//! fails, so a passing call proves the dialect was followed.

use super::support::*;
use crate::sdk::PeliqanEmbed;
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

/// A `PeliqanEmbed` whose `getToken` answers `answer` (plus a token) and
/// whose options give no `peliqanUrl` and no `dialect`.
fn embed_answering(answer: Vec<(&'static str, JsValue)>) -> PeliqanEmbed {
    let callback = Closure::<dyn FnMut() -> Promise>::new(move || {
        let mut pairs = answer.clone();
        pairs.push(("token", "x.y.z".into()));
        Promise::resolve(&obj(&pairs))
    });
    let options = obj(&[("getToken", callback.into_js_value())]);
    PeliqanEmbed::new(options).expect("peliqanUrl may come with the token")
}

#[wasm_bindgen_test]
async fn a_token_answer_carrying_url_and_dialect_needs_no_options() {
    let (embed, _) = embed_routed(emulator(), &new_tenant(), fresh(), Routing::TokenAnswer).await;
    ok(embed.connectors()).await;
    assert_eq!(len(&ok(embed.connections()).await), 0);
    let fields = obj(&[("api_token", "secret-token".into())]);
    let server = ok(embed.connect(123.into(), fields, JsValue::UNDEFINED)).await;
    let one = ok(embed.connection(get(&server, "id"))).await;
    assert_eq!(
        get(&one, "status").as_string().as_deref(),
        Some("connected")
    );
}

#[wasm_bindgen_test]
async fn without_any_peliqan_url_the_first_peliqan_call_is_invalid_config() {
    let dialect = dialect().await.name();
    let embed = embed_answering(vec![("dialect", dialect.into())]);
    let e = err(embed.connections()).await;
    assert_eq!(code(&e), "invalid_config");
    assert!(message(&e).contains("peliqanUrl"), "{}", message(&e));
}

#[wasm_bindgen_test]
async fn a_token_answer_naming_an_unknown_dialect_is_a_clear_error() {
    let embed = embed_answering(vec![
        ("peliqanUrl", emulator().into()),
        ("dialect", "v9".into()),
    ]);
    let e = err(embed.connections()).await;
    assert_eq!(code(&e), "token_service");
    let m = message(&e);
    assert!(m.contains("getToken") && m.contains("`v9`"), "{m}");
    let embed = embed_answering(vec![
        ("peliqan_url", emulator().into()),
        ("routes", obj(&[("get_connection", "FETCH /x".into())])),
    ]);
    let e = err(embed.connection(1.into())).await;
    assert_eq!(code(&e), "token_service");
    assert!(message(&e).contains("FETCH /x"), "{}", message(&e));
}
