//! The Peliqan side of the settings: where it is, which API dialect it
//! speaks (with per-operation overrides), and the partner's credentials.

use super::parse::Reader;
use super::{ConfigError, UpstreamSettings};
use peliqan_api::Route;
use peliqan_client::{Dialect, Operation, PartnerCredentials, Routes, Secret};

const URL: &str = "PELIQAN_API_URL";
const DIALECT: &str = "PELIQAN_API_DIALECT";
const TOKEN: &str = "PELIQAN_PARTNER_TOKEN";
const TOKEN_FILE: &str = "PELIQAN_PARTNER_TOKEN_FILE";
const CLIENT_ID: &str = "PELIQAN_CLIENT_ID";
const CLIENT_SECRET: &str = "PELIQAN_CLIENT_SECRET";
const CLIENT_SECRET_FILE: &str = "PELIQAN_CLIENT_SECRET_FILE";

/// The operation a `PELIQAN_API_ROUTE_<OPERATION>` key overrides.
pub(super) fn route_key(key: &str) -> Option<Operation> {
    Operation::ALL
        .iter()
        .copied()
        .find(|op| op.config_key() == key)
}

pub(super) fn upstream(r: &Reader<'_>) -> Result<UpstreamSettings, ConfigError> {
    let base_url = r.required(URL)?;
    let url = url::Url::parse(base_url)
        .map_err(|e| ConfigError::new(URL, format!("`{base_url}`: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        // Browsers get this URL in every token answer (`peliqan_url`), and
        // it is logged at startup. Not echoed: it holds a credential.
        return Err(ConfigError::new(
            URL,
            "must not carry a user name or password: browsers get this URL",
        ));
    }
    let routes = routes(r)?;
    let credentials = credentials(r)?;
    if matches!(credentials, PartnerCredentials::ClientCredentials { .. })
        && !routes.has(Operation::OauthToken)
    {
        return Err(ConfigError::new(
            CLIENT_ID,
            format!(
                "OAuth client credentials need the `oauth_token` route, which the `{}` API \
                 dialect does not have: set {DIALECT}=partner, or {}, or use {TOKEN}",
                routes.dialect(),
                Operation::OauthToken.config_key()
            ),
        ));
    }
    Ok(UpstreamSettings {
        base_url: base_url.to_owned(),
        routes,
        credentials,
        connect_timeout: r.secs("TOKEN_SERVICE_UPSTREAM_CONNECT_TIMEOUT_SECS", 2.0)?,
        timeout: r.secs("TOKEN_SERVICE_UPSTREAM_TIMEOUT_SECS", 5.0)?,
        max_retries: r.parse("TOKEN_SERVICE_UPSTREAM_MAX_RETRIES", 2)?,
        retry_base_delay: r.secs("TOKEN_SERVICE_UPSTREAM_RETRY_BASE_SECS", 0.1)?,
        max_retry_after: r.secs("TOKEN_SERVICE_UPSTREAM_MAX_RETRY_AFTER_SECS", 5.0)?,
        readiness_cache: r.secs("TOKEN_SERVICE_READINESS_CACHE_SECS", 10.0)?,
    })
}

/// The dialect's table with every `PELIQAN_API_ROUTE_*` override applied.
fn routes(r: &Reader<'_>) -> Result<Routes, ConfigError> {
    let dialect: Dialect = r.parse(DIALECT, Dialect::default())?;
    let mut routes = dialect.routes();
    for (key, value) in r.map {
        let Some(op) = route_key(key) else { continue };
        let value = value.trim();
        if value.is_empty() {
            return Err(ConfigError::new(
                key,
                "is empty; remove the key to keep the dialect's route",
            ));
        }
        let route = Route::parse(value).map_err(|e| ConfigError::new(key, e.to_string()))?;
        if let Some(name) = needed_placeholder(op).filter(|name| !route.uses(name)) {
            // A token route without the tenant in it would ask Peliqan for
            // some other (or no) sub-account's token.
            return Err(ConfigError::new(
                key,
                format!("`{value}` must name the {{{name}}} that `{op}` is called with"),
            ));
        }
        routes.set(op, route);
    }
    Ok(routes)
}

/// The placeholder an operation's route cannot do without: the id or the
/// external id the operation is about.
fn needed_placeholder(op: Operation) -> Option<&'static str> {
    use Operation::*;
    match op {
        GetSubaccount | UpdateSubaccount | DeleteSubaccount | SubaccountInfo | TokenById
        | NonExpiringTokenById | GetConnection | ConnectionLogs => Some("id"),
        GetSubaccountByExternalId | TokenByExternalId | NonExpiringTokenByExternalId => {
            Some("external_id")
        }
        _ => None,
    }
}

/// A partner token, or OAuth client credentials; exactly one of the two.
fn credentials(r: &Reader<'_>) -> Result<PartnerCredentials, ConfigError> {
    let token = secret(r, TOKEN, TOKEN_FILE)?;
    let client_id = r.get(CLIENT_ID);
    let client_secret = secret(r, CLIENT_SECRET, CLIENT_SECRET_FILE)?;
    match (token, client_id, client_secret) {
        (Some(token), None, None) => Ok(PartnerCredentials::Token(token)),
        (None, Some(id), Some(secret)) => Ok(PartnerCredentials::ClientCredentials {
            client_id: id.to_owned(),
            client_secret: secret,
        }),
        (Some(_), _, _) => Err(ConfigError::new(
            TOKEN,
            format!("set {TOKEN} or {CLIENT_ID} with {CLIENT_SECRET}, not both"),
        )),
        (None, Some(_), None) => Err(ConfigError::new(
            CLIENT_SECRET,
            format!("{CLIENT_ID} is set: set {CLIENT_SECRET} or {CLIENT_SECRET_FILE} too"),
        )),
        (None, None, Some(_)) => Err(ConfigError::new(
            CLIENT_ID,
            format!("{CLIENT_SECRET} is set: set {CLIENT_ID} too"),
        )),
        (None, None, None) => Err(ConfigError::new(
            TOKEN,
            format!(
                "set {TOKEN} or {TOKEN_FILE} (the partner JWT), or {CLIENT_ID} and \
                 {CLIENT_SECRET} (OAuth client credentials)"
            ),
        )),
    }
}

/// A secret given inline or as a file; both is an error, an empty file too.
pub(super) fn secret(
    r: &Reader<'_>,
    key: &'static str,
    file_key: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    match (r.get(key), r.file(file_key)?) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            key,
            format!("set {key} or {file_key}, not both"),
        )),
        (Some(t), None) => Ok(Some(Secret::new(t))),
        (None, Some(bytes)) => {
            let text = String::from_utf8(bytes)
                .map_err(|_| ConfigError::new(file_key, "is not UTF-8 text"))?;
            let text = text.trim();
            if text.is_empty() {
                return Err(ConfigError::new(file_key, "the file is empty"));
            }
            Ok(Some(Secret::new(text)))
        }
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ConfigError, Settings};
    use peliqan_client::{Dialect, Operation, PartnerCredentials};
    use std::collections::BTreeMap;

    fn base(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut map: BTreeMap<String, String> = [
            ("PELIQAN_API_URL", "http://127.0.0.1:9"),
            ("PELIQAN_PARTNER_TOKEN", "partner-secret"),
            (
                "TOKEN_SERVICE_JWT_HS256_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in extra {
            match *v {
                "" => map.remove(*k),
                v => map.insert((*k).to_owned(), v.to_owned()),
            };
        }
        map
    }

    fn err(extra: &[(&str, &str)]) -> ConfigError {
        Settings::from_map(&base(extra)).unwrap_err()
    }

    #[test]
    fn the_dialect_defaults_to_seed_and_an_override_replaces_one_route() {
        let s = Settings::from_map(&base(&[])).unwrap();
        assert_eq!(s.upstream.routes, Dialect::Seed.routes());
        let key = Operation::TokenByExternalId.config_key();
        let s = Settings::from_map(&base(&[
            ("PELIQAN_API_DIALECT", "partner"),
            (&key, "POST /api/v2/integrate/?external_id={external_id}"),
        ]))
        .unwrap();
        let routes = &s.upstream.routes;
        assert_eq!(routes.dialect(), Dialect::Partner);
        let listed: Vec<_> = routes
            .overrides()
            .map(|(op, r)| (op, r.to_string()))
            .collect();
        assert_eq!(
            listed,
            [(
                Operation::TokenByExternalId,
                "POST /api/v2/integrate/?external_id={external_id}".to_owned()
            )]
        );
    }

    #[test]
    fn a_bad_dialect_or_route_override_is_reported_by_its_key() {
        let e = err(&[("PELIQAN_API_URL", "https://me:pw@app.eu.peliqan.io")]);
        assert_eq!(e.key, "PELIQAN_API_URL");
        assert!(!e.to_string().contains("pw"), "{e}");
        let e = err(&[("PELIQAN_API_DIALECT", "v2")]);
        assert_eq!(e.key, "PELIQAN_API_DIALECT");
        assert!(e.message.contains("seed, sub-account, partner"), "{e}");
        let key = "PELIQAN_API_ROUTE_GET_CONNECTION";
        for (value, says) in [
            ("FETCH /api/servers/{id}/", "method"),
            ("GET api/servers/{id}/", "start with `/`"),
            (
                "GET /api/servers/{server}/",
                "unknown placeholder `{server}`",
            ),
            ("GET /api/servers/", "must name the {id}"),
            ("  ", "is empty"),
        ] {
            let e = err(&[(key, value)]);
            assert_eq!(e.key, key, "{value}: {e}");
            assert!(e.message.contains(says), "{value}: {e}");
        }
        let key = Operation::TokenByExternalId.config_key();
        let e = err(&[(&key, "GET /api/subaccount/token")]);
        assert_eq!(e.key, key);
        assert!(e.message.contains("{external_id}"), "{e}");
        // An unknown operation is an unknown key (see `load`), never ignored.
        assert!(!super::super::is_key("PELIQAN_API_ROUTE_GET_SERVER"));
    }

    #[test]
    fn client_credentials_replace_the_partner_token_and_need_an_oauth_route() {
        let cc = [
            ("PELIQAN_PARTNER_TOKEN", ""),
            ("PELIQAN_CLIENT_ID", "app-1"),
            ("PELIQAN_CLIENT_SECRET", "client-secret"),
        ];
        let e = err(&cc);
        assert_eq!(e.key, "PELIQAN_CLIENT_ID");
        assert!(
            e.message.contains("`seed`") && e.message.contains("PELIQAN_API_DIALECT=partner"),
            "{e}"
        );
        let mut partner = cc.to_vec();
        partner.push(("PELIQAN_API_DIALECT", "partner"));
        let s = Settings::from_map(&base(&partner)).unwrap();
        assert!(matches!(
            &s.upstream.credentials,
            PartnerCredentials::ClientCredentials { client_id, .. } if client_id == "app-1"
        ));
        assert!(!format!("{s:?}").contains("client-secret"));
        let e = err(&[
            ("PELIQAN_CLIENT_ID", "app-1"),
            ("PELIQAN_CLIENT_SECRET", "x"),
        ]);
        assert_eq!(e.key, "PELIQAN_PARTNER_TOKEN", "both kinds at once: {e}");
    }
}
