//! Where the signed-in user's identity comes from: one source, chosen by
//! which keys are set (see [`IdentitySettings`]).
//!
//! A user JWT (`TOKEN_SERVICE_JWT_*`, [`super::AuthSettings`]), an opaque
//! access token checked by RFC 7662 introspection
//! (`TOKEN_SERVICE_INTROSPECTION_URL`), a session cookie checked by the
//! partner's who-am-I endpoint (`TOKEN_SERVICE_SESSION_URL`), or headers set
//! by a trusted auth proxy (`TOKEN_SERVICE_TRUSTED_PROXIES`). Exactly one
//! may be configured; an embedding app supplies its own instead
//! ([`crate::scope`]). Every source yields the same
//! [`crate::auth::VerifiedUser`]; the tenant is read from the field named by
//! `TOKEN_SERVICE_TENANT_CLAIM` of the introspection or who-am-I answer.

use super::ConfigError;
use super::parse::Reader;
use super::peliqan::secret;
use ipnet::IpNet;
use peliqan_client::Secret;
use std::time::Duration;

const INTROSPECTION_URL: &str = "TOKEN_SERVICE_INTROSPECTION_URL";
const CLIENT_ID: &str = "TOKEN_SERVICE_INTROSPECTION_CLIENT_ID";
const CLIENT_SECRET: &str = "TOKEN_SERVICE_INTROSPECTION_CLIENT_SECRET";
const CLIENT_SECRET_FILE: &str = "TOKEN_SERVICE_INTROSPECTION_CLIENT_SECRET_FILE";
const INTROSPECTION_CACHE: &str = "TOKEN_SERVICE_INTROSPECTION_CACHE_SECS";
const SESSION_URL: &str = "TOKEN_SERVICE_SESSION_URL";
const SESSION_COOKIES: &str = "TOKEN_SERVICE_SESSION_COOKIES";
const SESSION_SUBJECT: &str = "TOKEN_SERVICE_SESSION_SUBJECT_FIELD";
const SESSION_CACHE: &str = "TOKEN_SERVICE_SESSION_CACHE_SECS";
const CSRF_HEADER: &str = "TOKEN_SERVICE_CSRF_HEADER";
const TRUSTED_PROXIES: &str = "TOKEN_SERVICE_TRUSTED_PROXIES";
const PROXY_USER: &str = "TOKEN_SERVICE_PROXY_USER_HEADER";
const PROXY_TENANT: &str = "TOKEN_SERVICE_PROXY_TENANT_HEADER";
const PROXY_EMAIL: &str = "TOKEN_SERVICE_PROXY_EMAIL_HEADER";
const TIMEOUT: &str = "TOKEN_SERVICE_IDENTITY_TIMEOUT_SECS";

/// The keys that each choose a source (with the JWT keys).
pub(super) const SOURCE_KEYS: [&str; 3] = [INTROSPECTION_URL, SESSION_URL, TRUSTED_PROXIES];

/// The configured identity source.
#[derive(Debug, Clone)]
pub enum IdentitySettings {
    /// A user JWT, checked as [`super::AuthSettings`] says.
    Jwt,
    /// An opaque bearer token, checked by RFC 7662 introspection.
    Introspection(IntrospectionSettings),
    /// A session cookie, checked by the partner's who-am-I endpoint.
    Session(SessionSettings),
    /// Headers from a trusted auth proxy.
    Proxy(ProxySettings),
    /// Supplied by the app embedding the endpoints ([`crate::scope`]),
    /// whose own session usually rides on cookies: the same CSRF header
    /// (`TOKEN_SERVICE_CSRF_HEADER`, lower case) is required.
    Embedded {
        /// The required custom header.
        csrf_header: String,
    },
}

/// RFC 7662 token introspection.
#[derive(Debug, Clone)]
pub struct IntrospectionSettings {
    /// `TOKEN_SERVICE_INTROSPECTION_URL`.
    pub url: url::Url,
    /// `TOKEN_SERVICE_INTROSPECTION_CLIENT_ID`: HTTP Basic user.
    pub client_id: String,
    /// `TOKEN_SERVICE_INTROSPECTION_CLIENT_SECRET(_FILE)`.
    pub client_secret: Secret,
    /// `TOKEN_SERVICE_INTROSPECTION_CACHE_SECS`: longest an `active` answer
    /// is reused (never past its `exp`).
    pub cache_for: Duration,
    /// `TOKEN_SERVICE_IDENTITY_TIMEOUT_SECS`.
    pub timeout: Duration,
}

/// A session cookie checked by the partner's who-am-I endpoint.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// `TOKEN_SERVICE_SESSION_URL`: answers the signed-in user as JSON.
    pub url: url::Url,
    /// `TOKEN_SERVICE_SESSION_COOKIES`: the only cookies forwarded.
    pub cookies: Vec<String>,
    /// `TOKEN_SERVICE_SESSION_SUBJECT_FIELD`: the field naming the user.
    pub subject_field: String,
    /// `TOKEN_SERVICE_SESSION_CACHE_SECS`: how long a positive answer is reused.
    pub cache_for: Duration,
    /// `TOKEN_SERVICE_CSRF_HEADER`: required on every request (lower case).
    pub csrf_header: String,
    /// `TOKEN_SERVICE_IDENTITY_TIMEOUT_SECS`.
    pub timeout: Duration,
}

/// Identity headers from an auth proxy (oauth2-proxy, Pomerium, ...).
#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// `TOKEN_SERVICE_TRUSTED_PROXIES`: the TCP peers whose headers count.
    pub trusted: Vec<IpNet>,
    /// `TOKEN_SERVICE_PROXY_USER_HEADER`: the user (`sub`).
    pub user_header: String,
    /// `TOKEN_SERVICE_PROXY_TENANT_HEADER`: the tenant.
    pub tenant_header: String,
    /// `TOKEN_SERVICE_PROXY_EMAIL_HEADER`: the email, for provisioning.
    pub email_header: String,
}

impl IdentitySettings {
    /// The CSRF header the session source requires, if that is the source.
    pub fn csrf_header(&self) -> Option<&str> {
        match self {
            Self::Session(s) => Some(&s.csrf_header),
            Self::Embedded { csrf_header } => Some(csrf_header),
            _ => None,
        }
    }
}

/// Reads the source keys; `jwt_key_set` says whether a JWT key is set.
/// With `embedded`, no source is needed (the embedding app supplies one).
pub(super) fn identity(
    r: &Reader<'_>,
    jwt_key: Option<&'static str>,
    embedded: bool,
) -> Result<IdentitySettings, ConfigError> {
    let timeout = r.secs(TIMEOUT, 2.0)?;
    if timeout.is_zero() {
        return Err(ConfigError::new(TIMEOUT, "must be more than 0"));
    }
    let csrf_header = r
        .get(CSRF_HEADER)
        .unwrap_or("X-Requested-With")
        .to_ascii_lowercase();
    if actix_web::http::header::HeaderName::from_bytes(csrf_header.as_bytes()).is_err() {
        return Err(ConfigError::new(CSRF_HEADER, "is not a header name"));
    }
    let introspection = introspection(r, timeout)?;
    let session = session(r, timeout, &csrf_header)?;
    let cookies_or_embedded = session.is_some() || (embedded && set_none(r, jwt_key));
    if !cookies_or_embedded && r.get(CSRF_HEADER).is_some() {
        return Err(ConfigError::new(
            CSRF_HEADER,
            format!("is only used with {SESSION_URL} or embedded endpoints"),
        ));
    }
    let proxy = proxy(r)?;
    let mut set: Vec<&str> = jwt_key.into_iter().collect();
    set.extend(SOURCE_KEYS.into_iter().filter(|k| r.get(k).is_some()));
    if set.len() > 1 {
        return Err(ConfigError::new(
            set[1],
            format!(
                "only one identity source may be configured, but {} are set",
                set.join(" and ")
            ),
        ));
    }
    Ok(match (introspection, session, proxy) {
        (Some(i), _, _) => IdentitySettings::Introspection(i),
        (_, Some(s), _) => IdentitySettings::Session(s),
        (_, _, Some(p)) => IdentitySettings::Proxy(p),
        _ if jwt_key.is_some() => IdentitySettings::Jwt,
        _ if embedded => IdentitySettings::Embedded { csrf_header },
        _ => {
            const HS: &str = "TOKEN_SERVICE_JWT_HS256_SECRET";
            return Err(ConfigError::new(
                HS,
                format!(
                    "set exactly one of {HS}, TOKEN_SERVICE_JWT_PUBLIC_KEY_FILE, \
                     TOKEN_SERVICE_JWT_JWKS_URL (user JWTs), {INTROSPECTION_URL}, {SESSION_URL} \
                     or {TRUSTED_PROXIES}"
                ),
            ));
        }
    })
}

/// No source key at all is set.
fn set_none(r: &Reader<'_>, jwt_key: Option<&str>) -> bool {
    jwt_key.is_none() && SOURCE_KEYS.iter().all(|k| r.get(k).is_none())
}

fn http_url(r: &Reader<'_>, key: &'static str) -> Result<Option<url::Url>, ConfigError> {
    let Some(v) = r.get(key) else {
        return Ok(None);
    };
    let url = url::Url::parse(v).map_err(|e| ConfigError::new(key, format!("`{v}`: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() {
        return Err(ConfigError::new(
            key,
            format!("`{v}` is not an http(s) URL without credentials"),
        ));
    }
    Ok(Some(url))
}

/// A key that only means something with `with`.
fn only_with(r: &Reader<'_>, keys: &[&'static str], with: &str) -> Result<(), ConfigError> {
    match keys.iter().find(|k| r.get(k).is_some()) {
        Some(k) => Err(ConfigError::new(k, format!("is only used with {with}"))),
        None => Ok(()),
    }
}

fn introspection(
    r: &Reader<'_>,
    timeout: Duration,
) -> Result<Option<IntrospectionSettings>, ConfigError> {
    let client_id = r.get(CLIENT_ID);
    let client_secret = secret(r, CLIENT_SECRET, CLIENT_SECRET_FILE)?;
    let cache_for = r.secs(INTROSPECTION_CACHE, 60.0)?;
    let Some(url) = http_url(r, INTROSPECTION_URL)? else {
        only_with(
            r,
            &[
                CLIENT_ID,
                CLIENT_SECRET,
                CLIENT_SECRET_FILE,
                INTROSPECTION_CACHE,
            ],
            INTROSPECTION_URL,
        )?;
        return Ok(None);
    };
    let need = |k: &str| ConfigError::new(k, format!("is required with {INTROSPECTION_URL}"));
    Ok(Some(IntrospectionSettings {
        url,
        client_id: client_id.ok_or_else(|| need(CLIENT_ID))?.to_owned(),
        client_secret: client_secret.ok_or_else(|| need(CLIENT_SECRET))?,
        cache_for,
        timeout,
    }))
}

fn session(
    r: &Reader<'_>,
    timeout: Duration,
    csrf_header: &str,
) -> Result<Option<SessionSettings>, ConfigError> {
    let cookies = r.list(SESSION_COOKIES);
    let subject_field = r.get(SESSION_SUBJECT).unwrap_or("sub").to_owned();
    let cache_for = r.secs(SESSION_CACHE, 10.0)?;
    let Some(url) = http_url(r, SESSION_URL)? else {
        only_with(
            r,
            &[SESSION_COOKIES, SESSION_SUBJECT, SESSION_CACHE],
            SESSION_URL,
        )?;
        return Ok(None);
    };
    if cookies.is_empty() {
        return Err(ConfigError::new(
            SESSION_COOKIES,
            format!("is required with {SESSION_URL}: the names of the session cookies to forward"),
        ));
    }
    if let Some(bad) = cookies.iter().find(|c| !cookie_name(c)) {
        return Err(ConfigError::new(
            SESSION_COOKIES,
            format!("`{bad}` is not a cookie name"),
        ));
    }
    Ok(Some(SessionSettings {
        url,
        cookies,
        subject_field,
        cache_for,
        csrf_header: csrf_header.to_owned(),
        timeout,
    }))
}

/// An RFC 6265 cookie name (an RFC 7230 token).
fn cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn proxy(r: &Reader<'_>) -> Result<Option<ProxySettings>, ConfigError> {
    let header =
        |key: &'static str, default: Option<&str>| -> Result<Option<String>, ConfigError> {
            match r.get(key).or(default) {
                None => Ok(None),
                Some(h) => actix_web::http::header::HeaderName::from_bytes(h.as_bytes())
                    .map(|n| Some(n.as_str().to_owned()))
                    .map_err(|_| ConfigError::new(key, format!("`{h}` is not a header name"))),
            }
        };
    let user_header = header(PROXY_USER, Some("X-Auth-Request-User"))?;
    let tenant_header = header(PROXY_TENANT, None)?;
    let email_header = header(PROXY_EMAIL, Some("X-Auth-Request-Email"))?;
    let list = r.list(TRUSTED_PROXIES);
    if list.is_empty() {
        only_with(r, &[PROXY_USER, PROXY_TENANT, PROXY_EMAIL], TRUSTED_PROXIES)?;
        return Ok(None);
    }
    let trusted = list
        .iter()
        .map(|v| {
            // A bare address means just that host.
            v.parse::<IpNet>()
                .or_else(|_| v.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        TRUSTED_PROXIES,
                        format!("`{v}` is not a CIDR (10.0.0.0/8, fd00::/8) or an IP address"),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(ProxySettings {
        trusted,
        user_header: user_header.unwrap_or_default(),
        tenant_header: tenant_header.ok_or_else(|| {
            ConfigError::new(
                PROXY_TENANT,
                format!("is required with {TRUSTED_PROXIES}: the header naming the tenant"),
            )
        })?,
        email_header: email_header.unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::super::Settings;
    use super::*;
    use std::collections::BTreeMap;

    fn map(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut m: BTreeMap<String, String> = [
            ("PELIQAN_API_URL", "http://127.0.0.1:9"),
            ("PELIQAN_PARTNER_TOKEN", "partner-secret"),
        ]
        .into_iter()
        .chain([("TOKEN_SERVICE_ALLOWED_ORIGINS", "https://app.test")])
        .chain(extra.iter().copied())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        m.retain(|_, v| !v.is_empty());
        m
    }

    #[test]
    fn each_source_is_chosen_by_its_key_and_only_one_may_be_set() {
        let s = Settings::from_map(&map(&[
            (INTROSPECTION_URL, "https://idp.test/introspect"),
            (CLIENT_ID, "ts"),
            (CLIENT_SECRET, "client-secret"),
        ]))
        .unwrap();
        assert!(matches!(s.identity, IdentitySettings::Introspection(_)));
        assert!(!format!("{s:?}").contains("client-secret"));
        let s = Settings::from_map(&map(&[
            (SESSION_URL, "http://app.test/me"),
            (SESSION_COOKIES, "_app_session"),
        ]))
        .unwrap();
        assert_eq!(s.identity.csrf_header(), Some("x-requested-with"));
        let s = Settings::from_map(&map(&[
            (TRUSTED_PROXIES, "10.0.0.0/8, 127.0.0.1"),
            (PROXY_TENANT, "X-Tenant"),
        ]))
        .unwrap();
        let IdentitySettings::Proxy(p) = s.identity else {
            panic!()
        };
        assert_eq!(p.trusted.len(), 2);
        assert_eq!(p.user_header, "x-auth-request-user");
        let both = Settings::from_map(&map(&[
            (
                "TOKEN_SERVICE_JWT_HS256_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
            (SESSION_URL, "http://app.test/me"),
            (SESSION_COOKIES, "s"),
        ]))
        .unwrap_err();
        assert_eq!(both.key, SESSION_URL, "{both}");
        let none = Settings::from_map(&map(&[])).unwrap_err();
        assert!(none.message.contains(SESSION_URL), "{none}");
        assert!(matches!(
            Settings::from_map_embedded(&map(&[])).unwrap().identity,
            IdentitySettings::Embedded { .. }
        ));
        let no_origins = Settings::from_map(&map(&[
            (SESSION_URL, "http://app.test/me"),
            (SESSION_COOKIES, "s"),
            ("TOKEN_SERVICE_ALLOWED_ORIGINS", ""),
        ]))
        .unwrap_err();
        assert_eq!(
            no_origins.key, "TOKEN_SERVICE_ALLOWED_ORIGINS",
            "{no_origins}"
        );
    }

    #[test]
    fn a_source_missing_a_part_is_refused_by_the_key_at_fault() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[(INTROSPECTION_URL, "https://idp.test/i")], CLIENT_ID),
            (
                &[(INTROSPECTION_URL, "https://idp.test/i"), (CLIENT_ID, "x")],
                CLIENT_SECRET,
            ),
            (
                &[(INTROSPECTION_URL, "ftp://idp.test/i")],
                INTROSPECTION_URL,
            ),
            (&[(SESSION_URL, "http://app.test/me")], SESSION_COOKIES),
            (
                &[
                    (SESSION_URL, "http://app.test/me"),
                    (SESSION_COOKIES, "a b"),
                ],
                SESSION_COOKIES,
            ),
            (&[(TRUSTED_PROXIES, "10.0.0.0/8")], PROXY_TENANT),
            (
                &[(TRUSTED_PROXIES, "10.0.0/8"), (PROXY_TENANT, "x-t")],
                TRUSTED_PROXIES,
            ),
            (
                &[
                    (SESSION_COOKIES, "s"),
                    (
                        "TOKEN_SERVICE_JWT_HS256_SECRET",
                        "0123456789abcdef0123456789abcdef",
                    ),
                ],
                SESSION_COOKIES,
            ),
        ];
        for (extra, key) in cases {
            let err = Settings::from_map(&map(extra)).unwrap_err();
            assert_eq!(err.key, *key, "{extra:?}: {err}");
        }
    }
}
