//! Do the connector definitions tell the SDK what it needs?
//!
//! The SDK builds a connect form from each definition's fields and decides
//! from its auth kind whether adding a connection starts an OAuth flow.
//! A definition without an auth kind still works: the SDK opens the popup
//! inside the click just in case (browsers block popups opened later) and
//! closes it when no `oauth_url` comes back, which users see as a flash.

use super::partner::{call_bound, failure, timed_out};
use super::report::Check;
use crate::settings::UpstreamSettings;
use peliqan_api::{AuthKind, Servertype};
use peliqan_client::PartnerApi;

const NAME: &str = "connectors";

/// The connector catalogue check.
pub(super) async fn catalogue(partner: &PartnerApi, upstream: &UpstreamSettings) -> Check {
    match tokio::time::timeout(call_bound(upstream), partner.servertypes()).await {
        Err(_) => timed_out(NAME, upstream),
        Ok(Err(e)) => failure(NAME, &e, upstream),
        Ok(Ok(list)) => judge(&list),
    }
}

fn judge(list: &[Servertype]) -> Check {
    if list.is_empty() {
        return Check::warn(
            NAME,
            "Peliqan lists no connectors for this partner account",
            "enable the connectors your customers need in your Peliqan partner account",
        );
    }
    let no_auth: Vec<&str> = list
        .iter()
        .filter(|st| matches!(st.auth, None | Some(AuthKind::Other(_))))
        .map(|st| st.name.as_str())
        .collect();
    // An OAuth connector may rightly have no fields; any other kind needs a form.
    let no_form: Vec<&str> = list
        .iter()
        .filter(|st| st.connect_form.fields.is_empty() && !st.may_be_oauth())
        .map(|st| st.name.as_str())
        .collect();
    let mut problems = Vec::new();
    if !no_form.is_empty() {
        problems.push(format!(
            "{} without a connect form ({}): the SDK cannot show what to fill in",
            no_form.len(),
            names(&no_form)
        ));
    }
    if !no_auth.is_empty() {
        problems.push(format!(
            "{} without a known auth kind ({}): the SDK opens the OAuth popup for them just in \
             case and closes it when no oauth_url comes back",
            no_auth.len(),
            names(&no_auth)
        ));
    }
    if problems.is_empty() {
        return Check::pass(
            NAME,
            format!(
                "{} connector definitions, each with an auth kind and (unless OAuth) a connect form",
                list.len()
            ),
        );
    }
    let fix = match (no_form.is_empty(), no_auth.is_empty()) {
        (true, _) => {
            "nothing blocks going live; to spare users the brief popup, ask Peliqan to add the \
             `auth` kind to these definitions"
        }
        (false, true) => {
            "ask Peliqan to add connect forms to these definitions (or hide these connectors in \
             your app)"
        }
        (false, false) => {
            "ask Peliqan to add the `auth` kind and connect forms to these definitions (or hide \
             these connectors in your app)"
        }
    };
    let detail = format!(
        "of {} connector definitions, {}",
        list.len(),
        problems.join("; ")
    );
    Check::warn(NAME, detail, fix)
}

/// Up to five names, then how many more.
fn names(list: &[&str]) -> String {
    let shown = list.iter().take(5).copied().collect::<Vec<_>>().join(", ");
    match list.len() {
        0..=5 => shown,
        n => format!("{shown} and {} more", n - 5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(json: &str) -> Servertype {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn definitions_without_auth_kind_or_form_warn_by_name() {
        let good = st(r#"{"id": 1, "name": "pipedrive", "auth": "api_key",
            "connect_form": {"fields": [{"name": "api_token", "required": true}]}}"#);
        let oauth = st(r#"{"id": 2, "name": "hubspot", "auth": "oauth2"}"#);
        assert_eq!(
            judge(&[good.clone(), oauth.clone()]).status,
            super::super::Status::Pass
        );
        let bare = st(r#"{"id": 3, "name": "zoho_crm"}"#);
        let formless = st(r#"{"id": 4, "name": "mysql", "auth": "database"}"#);
        let c = judge(&[good, oauth, bare, formless]);
        assert_eq!(c.status, super::super::Status::Warn);
        assert!(
            c.detail.contains("1 without a known auth kind (zoho_crm)"),
            "{}",
            c.detail
        );
        assert!(
            c.detail.contains("1 without a connect form (mysql)"),
            "{}",
            c.detail
        );
    }
}
