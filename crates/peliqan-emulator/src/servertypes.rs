//! The built-in connector catalogue served by `GET /api/servertypes`.
//!
//! One connector per authentication style Peliqan's connect forms use, with
//! forms shaped like the real ones, so an SDK or a demo can render and
//! submit every kind of form: an API key (Pipedrive), a login and password
//! (SFTP), database credentials (PostgreSQL, MySQL) and OAuth2 (HubSpot,
//! Salesforce). Pipedrive has id 123, the id the seed document uses as its
//! example.
//!
//! Two more connectors carry no `auth` field at all, as real definitions
//! may not: Zoho CRM (OAuth: adding a connection answers an `oauth_url`)
//! and Airtable (an API key). Clients must then decide from the answer,
//! not from the definition; the emulator knows which is which by name
//! ([`is_oauth`]).

use peliqan_api::{AuthKind, ConnectForm, FieldKind, FormField, Servertype, ServertypeId};
use serde_json::json;

/// Connectors whose definition names no auth kind but which use OAuth.
const OAUTH_WITHOUT_AUTH_FIELD: &[&str] = &["zoho_crm"];

/// Whether adding a connection of this type starts an OAuth flow.
pub(crate) fn is_oauth(servertype: &Servertype) -> bool {
    servertype.is_oauth() || OAUTH_WITHOUT_AUTH_FIELD.contains(&servertype.name.as_str())
}

/// All servertypes, in id order.
pub(crate) fn catalog() -> Vec<Servertype> {
    vec![
        servertype(
            123,
            "pipedrive",
            "Pipedrive",
            AuthKind::ApiKey,
            "CRM",
            vec![
                field("api_token", "API token", FieldKind::Password, true)
                    .help("Pipedrive: Settings > Personal preferences > API."),
                field("company_domain", "Company domain", FieldKind::String, false)
                    .placeholder("acme (for acme.pipedrive.com)"),
            ],
        ),
        servertype(124, "hubspot", "HubSpot", AuthKind::Oauth2, "CRM", vec![]),
        servertype(
            125,
            "postgresql",
            "PostgreSQL",
            AuthKind::Database,
            "Database",
            db_form(5432),
        ),
        servertype(
            126,
            "mysql",
            "MySQL",
            AuthKind::Database,
            "Database",
            db_form(3306),
        ),
        servertype(
            127,
            "salesforce",
            "Salesforce",
            AuthKind::Oauth2,
            "CRM",
            vec![
                field("instance", "Instance", FieldKind::Select, false)
                    .choices(&["production", "sandbox"])
                    .with_default(json!("production")),
            ],
        ),
        servertype(
            128,
            "sftp",
            "SFTP",
            AuthKind::Basic,
            "Files",
            vec![
                field("host", "Host", FieldKind::String, true).placeholder("sftp.example.com"),
                field("port", "Port", FieldKind::Integer, false).with_default(json!(22)),
                field("login", "Login", FieldKind::String, true),
                field("password", "Password", FieldKind::Password, true),
                field("path", "Folder", FieldKind::String, false).placeholder("/exports"),
            ],
        ),
        without_auth(servertype(
            129,
            "zoho_crm",
            "Zoho CRM",
            AuthKind::Oauth2,
            "CRM",
            vec![
                field("data_center", "Data center", FieldKind::Select, false)
                    .choices(&["com", "eu", "in", "com.au"])
                    .with_default(json!("com")),
            ],
        )),
        without_auth(servertype(
            130,
            "airtable",
            "Airtable",
            AuthKind::ApiKey,
            "Spreadsheets",
            vec![
                field("api_key", "API key", FieldKind::Password, true)
                    .help("Airtable: Builder hub > Personal access tokens."),
            ],
        )),
    ]
}

/// The definition as some of Peliqan's are: no `auth` field (the kind
/// given to [`servertype`] only documents the intent).
fn without_auth(mut s: Servertype) -> Servertype {
    s.auth = None;
    s
}

fn db_form(port: u16) -> Vec<FormField> {
    vec![
        field("host", "Host", FieldKind::String, true).placeholder("db.example.com"),
        field("port", "Port", FieldKind::Integer, true).with_default(json!(port)),
        field("database", "Database", FieldKind::String, true),
        field("user", "User", FieldKind::String, true),
        field("password", "Password", FieldKind::Password, true),
    ]
}

fn servertype(
    id: u64,
    name: &str,
    title: &str,
    auth: AuthKind,
    category: &str,
    fields: Vec<FormField>,
) -> Servertype {
    Servertype {
        id: ServertypeId(id),
        name: name.to_owned(),
        title: Some(title.to_owned()),
        auth: Some(auth),
        category: Some(category.to_owned()),
        logo_url: None,
        connect_form: ConnectForm { fields },
    }
}

fn field(name: &str, label: &str, kind: FieldKind, required: bool) -> FormField {
    FormField {
        name: name.to_owned(),
        label: Some(label.to_owned()),
        kind,
        required,
        help: None,
        placeholder: None,
        default: None,
        choices: Vec::new(),
    }
}

/// Small builder methods, to keep the catalogue above readable.
trait FieldExt {
    fn help(self, text: &str) -> Self;
    fn placeholder(self, text: &str) -> Self;
    fn with_default(self, value: serde_json::Value) -> Self;
    fn choices(self, values: &[&str]) -> Self;
}

impl FieldExt for FormField {
    fn help(mut self, text: &str) -> Self {
        self.help = Some(text.to_owned());
        self
    }
    fn placeholder(mut self, text: &str) -> Self {
        self.placeholder = Some(text.to_owned());
        self
    }
    fn with_default(mut self, value: serde_json::Value) -> Self {
        self.default = Some(value);
        self
    }
    fn choices(mut self, values: &[&str]) -> Self {
        self.choices = values.iter().map(|v| (*v).to_owned()).collect();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_covers_every_auth_style_with_unique_ids() {
        let all = catalog();
        let mut ids: Vec<u64> = all.iter().map(|s| s.id.0).collect();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        for kind in [
            AuthKind::ApiKey,
            AuthKind::Basic,
            AuthKind::Database,
            AuthKind::Oauth2,
        ] {
            assert!(all.iter().any(|s| s.auth.as_ref() == Some(&kind)), "{kind}");
        }
    }

    #[test]
    fn two_connectors_have_no_auth_field_and_only_zoho_is_oauth() {
        let all = catalog();
        let bare: Vec<&Servertype> = all.iter().filter(|s| s.auth.is_none()).collect();
        let names: Vec<&str> = bare.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["zoho_crm", "airtable"]);
        assert!(is_oauth(bare[0]) && !is_oauth(bare[1]));
        let json = serde_json::to_value(bare[1]).unwrap();
        assert!(json.get("auth").is_none(), "{json}");
    }
}
