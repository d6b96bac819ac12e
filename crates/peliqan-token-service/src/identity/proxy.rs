//! Identity from headers set by an auth proxy (oauth2-proxy, Pomerium, a
//! cloud load balancer) in front of the service.
//!
//! Such headers are only as trustworthy as whoever set them: the service
//! reads them only when the TCP peer itself (never `X-Forwarded-For`, which
//! the client writes) is in `TOKEN_SERVICE_TRUSTED_PROXIES`. From any other
//! peer they are ignored and the request is 401 `proxy_untrusted`. The user
//! is `TOKEN_SERVICE_PROXY_USER_HEADER`, the tenant
//! `TOKEN_SERVICE_PROXY_TENANT_HEADER` (checked like a JWT's tenant claim),
//! the email (for provisioning) `TOKEN_SERVICE_PROXY_EMAIL_HEADER`.

use super::tenant_of;
use crate::auth::{Profile, VerifiedUser};
use crate::error::{IdentitySource, ServiceError};
use crate::settings::ProxySettings;
use actix_web::HttpRequest;
use actix_web::http::header::HeaderName;
use ipnet::IpNet;
use serde_json::Value;
use std::net::IpAddr;
use std::sync::Arc;

/// See the module docs.
pub struct ProxyHeaders {
    trusted: Vec<IpNet>,
    user: HeaderName,
    tenant: HeaderName,
    email: HeaderName,
}

impl ProxyHeaders {
    /// The header reader `settings` describe (their names are checked
    /// header names, lower case).
    pub fn new(settings: &ProxySettings) -> Self {
        let name = |h: &str| HeaderName::from_bytes(h.as_bytes()).expect("checked by settings");
        Self {
            trusted: settings.trusted.clone(),
            user: name(&settings.user_header),
            tenant: name(&settings.tenant_header),
            email: name(&settings.email_header),
        }
    }

    /// Whether `ip` is a trusted proxy (an IPv4-mapped IPv6 peer counts as
    /// its IPv4 address).
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The user the trusted proxy names in `req`'s headers.
    pub fn verify(&self, req: &HttpRequest) -> Result<Arc<VerifiedUser>, ServiceError> {
        let peer = req.peer_addr().map(|a| a.ip());
        if !peer.is_some_and(|ip| self.trusts(ip)) {
            tracing::debug!(?peer, "identity headers from an untrusted peer ignored");
            return Err(ServiceError::ProxyUntrusted);
        }
        let header = |name: &HeaderName| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
        };
        let subject = header(&self.user)
            .ok_or_else(|| ServiceError::ProxyNoUser(self.user.as_str().to_owned()))?;
        let tenant = tenant_of(
            IdentitySource::Proxy,
            self.tenant.as_str(),
            header(&self.tenant)
                .map(|t| Value::String(t.to_owned()))
                .as_ref(),
        )?;
        Ok(Arc::new(VerifiedUser {
            subject: subject.to_owned(),
            tenant,
            profile: Profile {
                email: header(&self.email).map(String::from),
                ..Profile::default()
            },
        }))
    }
}
