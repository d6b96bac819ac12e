//! The OAuth popup as a real browser window: `window.open` is left alone,
//! unlike in [`super::popup`], so this is where browsers' popup handling
//! shows (it runs in Chromium and Firefox alike). A test page opens popups
//! without a user gesture here because the browsers are told to allow it:
//! chromedriver starts Chromium with `--disable-popup-blocking`, and
//! `webdriver.json` sets Firefox's `dom.disable_open_during_load` to false.

use super::popup::sleep;
use super::support::*;
use gloo_net::http::RequestBuilder;
use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

/// The SDK's popup, found by the window name it opens it under
/// (`peliqan_oauth`): `window.open` with an empty URL and the name of an
/// open window returns that window without navigating it.
fn sdk_popup() -> web_sys::Window {
    web_sys::window()
        .unwrap()
        .open_with_url_and_target("", "peliqan_oauth")
        .unwrap()
        .expect("the SDK's popup is open")
}

/// Whether this page can no longer read the popup's address: it has left
/// `about:blank` (this page's origin) for another origin.
fn cross_origin(popup: &web_sys::Window) -> bool {
    popup.location().href().is_err()
}

/// How often the emulator served its OAuth consent page.
async fn consent_pages_served() -> u64 {
    let url = [emulator(), "/__emulator/stats"].concat();
    let answer = RequestBuilder::new(&url).send().await.unwrap();
    let stats: serde_json::Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    stats["requests"]["GET /oauth/authorize"]
        .as_u64()
        .unwrap_or(0)
}

#[wasm_bindgen_test]
async fn a_real_popup_shows_the_consent_page_and_closes_when_aborted() {
    let (embed, _) = embed(&new_tenant()).await;
    ok(embed.connectors()).await;
    let served = consent_pages_served().await;
    let make = Function::new_no_args(
        "const c = new AbortController(); return [c.signal, () => c.abort()];",
    );
    let pair = Array::from(&make.call0(&JsValue::NULL).unwrap());
    let (signal, abort): (JsValue, Function) = (pair.get(0), pair.get(1).unchecked_into());
    let attempt = embed.connect(124.into(), obj(&[]), obj(&[("signal", signal)]));
    // Opened inside the call, on this page's origin, with the notice.
    let popup = sdk_popup();
    assert!(!popup.closed().unwrap(), "the popup opened");
    assert_eq!(
        popup.document().map(|d| d.title()).as_deref(),
        Some("Powered by Peliqan")
    );
    // Then sent to the emulator's consent page (another origin: its port).
    for _ in 0..300 {
        if cross_origin(&popup) && consent_pages_served().await > served {
            break;
        }
        sleep(50).await;
    }
    assert!(cross_origin(&popup), "the popup left about:blank");
    assert_eq!(
        consent_pages_served().await,
        served + 1,
        "the popup loaded the consent page"
    );
    assert!(!popup.closed().unwrap(), "still open on the consent page");
    abort.call0(&JsValue::NULL).unwrap();
    let e = err(attempt).await;
    assert_eq!(code(&e), "cancelled", "{}", message(&e));
    // `close()` takes effect asynchronously.
    for _ in 0..100 {
        if popup.closed().unwrap() {
            break;
        }
        sleep(50).await;
    }
    assert!(popup.closed().unwrap(), "the SDK closed its popup");
}
