//! The OAuth popup window.
//!
//! Browsers only allow `window.open` in the call stack of a user gesture:
//! after an `await` the popup is blocked
//! (<https://developer.mozilla.org/docs/Web/API/Window/open#usage_notes>).
//! So `connect()` opens `about:blank` synchronously, writes the "Powered by
//! Peliqan" notice into it (the seed asks for it before the provider's
//! consent screen), and navigates it once Peliqan returned the `oauth_url`.

use crate::error::{EmbedError, ErrorCode};
use web_sys::Window;

/// An open OAuth popup.
pub struct Popup(Window);

const FEATURES: &str = "popup,width=600,height=720";

impl Popup {
    /// Opens the popup now; `popup_blocked` if the browser refused.
    pub fn open(notice_for: Option<&str>) -> Result<Self, EmbedError> {
        let blocked = || {
            EmbedError::new(
                ErrorCode::PopupBlocked,
                "the browser blocked the OAuth popup: call connect() directly from a click handler",
            )
        };
        let window = web_sys::window().ok_or_else(blocked)?;
        let popup = window
            .open_with_url_and_target_and_features("about:blank", "peliqan_oauth", FEATURES)
            .ok()
            .flatten()
            .ok_or_else(blocked)?;
        let popup = Self(popup);
        if let Some(connector) = notice_for {
            popup.write_notice(connector);
        }
        Ok(popup)
    }

    fn write_notice(&self, connector: &str) {
        let Some(doc) = self.0.document() else { return };
        doc.set_title("Powered by Peliqan");
        let html = [
            "<div style=\"font:16px system-ui,sans-serif;max-width:28em;margin:20vh auto;text-align:center;color:#222\">",
            "<p style=\"font-size:13px;letter-spacing:.08em;text-transform:uppercase;color:#667\">Powered by Peliqan</p>",
            "<p>Connecting <b>",
            &escape(connector),
            "</b>&hellip;</p><p style=\"color:#556\">You will be asked to allow Peliqan to access your data.</p></div>",
        ]
        .concat();
        if let Some(body) = doc.body() {
            body.set_inner_html(&html);
        }
    }

    /// Sends the popup to the provider's consent page.
    pub fn navigate(&self, url: &str) {
        let _ = self.0.location().set_href(url);
    }

    /// The `closed` hint. Unreliable under Cross-Origin-Opener-Policy, see
    /// [`crate::poll`]; an unreadable value counts as "still open".
    pub fn closed(&self) -> bool {
        self.0.closed().unwrap_or(false)
    }

    /// Closes the popup if it is still ours to close.
    pub fn close(&self) {
        let _ = self.0.close();
    }
}

/// Escapes text for HTML content.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}
