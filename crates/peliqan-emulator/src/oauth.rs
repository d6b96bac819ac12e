//! The emulated OAuth provider: a consent page and its decision.
//!
//! `POST /api/servers` for an OAuth connector hands out
//! `/oauth/authorize?state=..`; the browser SDK opens it in a popup. The
//! page shows Approve / Deny buttons (ids `approve`, `deny`) posting to
//! `/oauth/decision`, which settles the pending connection and answers a
//! page that closes itself, as a real provider's redirect back to Peliqan
//! would. With `coop` set both pages carry
//! `Cross-Origin-Opener-Policy: same-origin`, which severs `window.opener`
//! and makes `popup.closed` read true early — the behaviour of many real
//! providers that popup code must survive
//! (<https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Cross-Origin-Opener-Policy>).

use crate::state::{EmulatorState, now_rfc3339};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use peliqan_api::{ConnectionStatus, LogLevel};
use serde::Deserialize;
use std::collections::HashMap;

/// Body of `POST /oauth/decision`.
#[derive(Deserialize)]
pub(crate) struct Decision {
    state: String,
    decision: String,
}

pub(crate) async fn authorize(
    emu: web::Data<EmulatorState>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let oauth_state = query.get("state").cloned().unwrap_or_default();
    let found = {
        let state = emu.state.lock();
        state.oauth_states.get(&oauth_state).and_then(|id| {
            let c = state.connections.get(id)?;
            let account = state.subaccounts.get(&c.owner)?;
            let title = c.server.name.clone().unwrap_or_default();
            let servertype = c.server.servertype_id.and_then(|st| emu.servertype(st.0));
            let provider = servertype.and_then(|s| s.title.clone()).unwrap_or(title);
            Some((provider, account.external_id.to_string()))
        })
    };
    let Some((provider, account)) = found else {
        return page(
            &emu,
            StatusCode::BAD_REQUEST,
            "Unknown authorization request",
            UNKNOWN_STATE,
        );
    };
    let body = format!(
        r#"<p class="who">Emulated account <b>{account}</b></p>
<p><b>Peliqan</b> would like to read your {provider} data.</p>
<p class="note">This is the Peliqan emulator's stand-in for {provider}'s consent screen.
No {provider} account is involved.</p>
<form method="post" action="/oauth/decision">
  <input type="hidden" name="state" value="{state}">
  <button id="approve" name="decision" value="approve" type="submit">Approve</button>
  <button id="deny" name="decision" value="deny" type="submit" class="secondary">Deny</button>
</form>"#,
        account = escape(&account),
        provider = escape(&provider),
        state = escape(&oauth_state),
    );
    let title = format!(
        "Authorize Peliqan to access {} (emulated)",
        escape(&provider)
    );
    page(&emu, StatusCode::OK, &title, &body)
}

pub(crate) async fn decide(
    emu: web::Data<EmulatorState>,
    form: web::Form<Decision>,
) -> HttpResponse {
    let approve = match form.decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => {
            return page(
                &emu,
                StatusCode::BAD_REQUEST,
                "Unknown decision",
                "<p>decision must be approve or deny.</p>",
            );
        }
    };
    let settled = {
        let mut state = emu.state.lock();
        // A state is single-use, like a real authorization code.
        let id = state.oauth_states.remove(&form.state);
        id.and_then(|id| state.connections.get_mut(&id)).map(|c| {
            if approve {
                c.server.status = ConnectionStatus::Connected;
                c.server.status_message = None;
                c.log(
                    &*emu.clock,
                    LogLevel::Info,
                    "OAuth access approved by the end-customer; connection is live",
                );
            } else {
                c.server.status = ConnectionStatus::Failed;
                c.server.status_message = Some("access_denied: the user denied access".to_owned());
                c.log(
                    &*emu.clock,
                    LogLevel::Error,
                    "OAuth access denied by the end-customer (access_denied)",
                );
            }
            c.server.updated_at = Some(now_rfc3339(&*emu.clock));
        })
    };
    if settled.is_none() {
        return page(
            &emu,
            StatusCode::BAD_REQUEST,
            "Unknown authorization request",
            UNKNOWN_STATE,
        );
    }
    let outcome = if approve {
        "Access granted."
    } else {
        "Access denied."
    };
    let body = format!(
        "<p>{outcome}</p><p>You can close this window.</p>\n<script>window.close();</script>"
    );
    page(&emu, StatusCode::OK, outcome, &body)
}

const UNKNOWN_STATE: &str = "<p>This authorization link is unknown or was already used.</p>\
<p>Start the connection again from the application.</p>";

/// A small self-contained HTML page, with the COOP header when configured.
fn page(emu: &EmulatorState, status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"));
    if emu.coop {
        res.insert_header(("Cross-Origin-Opener-Policy", "same-origin"));
    }
    res.body(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; background: #f4f5f7; margin: 0; }}
main {{ max-width: 28rem; margin: 4rem auto; background: #fff; padding: 2rem;
       border-radius: 12px; box-shadow: 0 2px 12px rgba(0,0,0,.08); }}
h1 {{ font-size: 1.25rem; margin-top: 0; }}
.note, .who {{ color: #555; font-size: .9rem; }}
button {{ font: inherit; padding: .6rem 1.4rem; border-radius: 8px; border: 0;
         background: #2454d6; color: #fff; cursor: pointer; margin-right: .5rem; }}
button.secondary {{ background: #e3e5ea; color: #222; }}
</style></head>
<body><main><h1>{title}</h1>
{body}
</main></body></html>
"#
    ))
}

/// Minimal HTML escaping for values that came from requests (also used
/// by the Django-style error pages of [`crate::slashes`]).
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_values_are_escaped_in_pages() {
        assert_eq!(
            super::escape(r#"<a href="x">&"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }
}
