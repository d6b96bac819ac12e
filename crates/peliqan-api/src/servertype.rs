//! Connector definitions ("servertypes") and their connect forms.

use crate::ids::ServertypeId;
use crate::tolerant::tolerant_enum;
use serde::{Deserialize, Serialize};

tolerant_enum! {
    /// How a connector authenticates.
    pub enum AuthKind {
        /// An API key or token in a form field.
        ApiKey => "api_key",
        /// A login and password in form fields.
        Basic => "basic",
        /// Database credentials (host, port, database, user, password).
        Database => "database",
        /// An OAuth2 flow: creating the connection answers an `oauth_url`.
        Oauth2 => "oauth2",
    }
}

tolerant_enum! {
    /// The type of a connect-form field.
    pub enum FieldKind {
        /// Free text.
        String => "string",
        /// A secret: shown masked, never echoed back.
        Password => "password",
        /// A whole number.
        Integer => "integer",
        /// true or false.
        Boolean => "boolean",
        /// An absolute URL.
        Url => "url",
        /// An e-mail address.
        Email => "email",
        /// One of the field's `choices`.
        Select => "select",
    }
}

/// One field of a connect form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    /// Key of the field in the `POST /api/servers` body.
    pub name: String,
    /// Human label.
    #[serde(default)]
    pub label: Option<String>,
    /// Field type.
    #[serde(rename = "type", default = "default_kind")]
    pub kind: FieldKind,
    /// Whether the field must be present.
    #[serde(default)]
    pub required: bool,
    /// Help text for the form.
    #[serde(default)]
    pub help: Option<String>,
    /// Placeholder text.
    #[serde(default)]
    pub placeholder: Option<String>,
    /// Default value, as JSON.
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// Allowed values for `select` fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

fn default_kind() -> FieldKind {
    FieldKind::String
}

/// The fields needed to add a connection of one servertype.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConnectForm {
    /// The fields, in display order.
    #[serde(default)]
    pub fields: Vec<FormField>,
}

/// A connector definition as `GET /api/servertypes` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Servertype {
    /// Id to send as `servertype_id`.
    pub id: ServertypeId,
    /// Machine name, e.g. `pipedrive`.
    pub name: String,
    /// Display name, e.g. `Pipedrive`.
    #[serde(default)]
    pub title: Option<String>,
    /// How the connector authenticates, when the definition says. Peliqan's
    /// definitions may lack it: then only the answer to adding a connection
    /// (an `oauth_url` or not) tells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthKind>,
    /// Category, e.g. `CRM` or `Database`.
    #[serde(default)]
    pub category: Option<String>,
    /// URL of a logo image.
    #[serde(default)]
    pub logo_url: Option<String>,
    /// The connect form.
    #[serde(default)]
    pub connect_form: ConnectForm,
}

impl Servertype {
    /// Whether the definition says adding a connection starts an OAuth flow.
    pub fn is_oauth(&self) -> bool {
        self.auth == Some(AuthKind::Oauth2)
    }

    /// Whether adding a connection may start an OAuth flow: the definition
    /// says so, or names no auth kind, or one this version does not know.
    /// A browser must then open the popup inside the click, just in case.
    pub fn may_be_oauth(&self) -> bool {
        matches!(
            self.auth,
            None | Some(AuthKind::Oauth2 | AuthKind::Other(_))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_auth_and_field_kinds_are_kept() {
        let st: Servertype = serde_json::from_str(
            r#"{"id": 9, "name": "x", "auth": "saml",
                "connect_form": {"fields": [{"name": "k", "type": "color", "required": true}]}}"#,
        )
        .unwrap();
        assert_eq!(st.auth, Some(AuthKind::Other("saml".into())));
        assert!(!st.is_oauth() && st.may_be_oauth());
        assert_eq!(
            st.connect_form.fields[0].kind,
            FieldKind::Other("color".into())
        );
        assert_eq!(serde_json::to_value(&st.auth).unwrap(), "saml");
    }

    #[test]
    fn missing_form_and_type_default_sensibly() {
        let st: Servertype = serde_json::from_str(r#"{"id": 1, "name": "x"}"#).unwrap();
        assert!(st.connect_form.fields.is_empty());
        assert!(!st.is_oauth());
        assert!(
            st.may_be_oauth(),
            "no auth kind: the popup opens just in case"
        );
        assert!(!serde_json::to_string(&st).unwrap().contains("\"auth\""));
    }
}
