//! The token and connectors endpoints as an actix-web [`Scope`] that a
//! partner's own actix-web app mounts, with the partner's own session as
//! the identity source: no second process, no JWT to mint.
//!
//! The partner implements [`PartnerSession`] for the extractor its
//! handlers already use (a cookie session, an API key, anything that is
//! [`FromRequest`]) and builds an [`Embedded`] once, before its
//! `HttpServer`; each worker then mounts [`Embedded::scope`]:
//!
//! ```ignore
//! let peliqan = Embedded::new::<MySession>(&settings)?;
//! HttpServer::new(move || App::new().service(peliqan.scope("/peliqan")))
//! ```
//!
//! The scope serves `POST /v1/token` and `GET /v1/connectors` under its
//! path with the service's CORS allow-list (credentials allowed, for the
//! partner's cookies) and the CSRF checks of a cookie identity
//! ([`crate::identity::session::check_csrf`]: the `TOKEN_SERVICE_CSRF_HEADER`
//! header on every request, an allowed `Origin` on `POST`). Everything after
//! the identity (rate limit, cache, provisioning) is the service's own.
//! See `examples/embedded.rs`.

use crate::auth::{Profile, VerifiedUser};
use crate::error::{IdentitySource, ServiceError};
use crate::http::cors::cors;
use crate::identity::session::check_csrf;
use crate::identity::{Identity, tenant_of};
use crate::routes::{ENDPOINTS, TOKEN_PATH};
use crate::settings::Settings;
use crate::state::AppState;
use crate::upstream::Credential;
use actix_web::body::BoxBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderName;
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, HttpRequest, Scope, web};
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use peliqan_api::clock::SystemClock;
use serde_json::Value;
use std::sync::Arc;

/// What the partner's session says about the signed-in user.
#[derive(Debug, Clone, Default)]
pub struct PartnerUser {
    /// The user's stable id (the rate-limit key, with the tenant).
    pub subject: String,
    /// The tenant (Peliqan `external_id`), exactly as the partner stores
    /// it: checked like a JWT's tenant claim, never normalised.
    pub tenant: String,
    /// Used only when a sub-account is auto-provisioned.
    pub profile: Profile,
}

/// Implemented by the partner for its own session extractor.
pub trait PartnerSession: FromRequest + 'static {
    /// The signed-in user, or `None` when nobody is (401 `not_signed_in`).
    fn user(&self) -> Option<PartnerUser>;
}

/// The service's state for an embedding app: built once, shared by every
/// worker's [`Embedded::scope`].
#[derive(Clone)]
pub struct Embedded {
    state: web::Data<AppState>,
    credential: web::Data<Credential>,
}

impl Embedded {
    /// Builds the service's state from `settings` (read with
    /// [`Settings::from_map_embedded`]: no identity keys needed), with the
    /// partner's session `S` as the identity source. Call it inside the
    /// actix (tokio) runtime.
    pub fn new<S: PartnerSession>(settings: &Settings) -> anyhow::Result<Self>
    where
        S::Future: 'static,
    {
        let mut state = AppState::new(settings, SystemClock::shared())?;
        let csrf = match settings.identity.csrf_header() {
            Some(header) => Some(Arc::new((
                HeaderName::from_bytes(header.as_bytes())?,
                settings.allowed_origins.clone(),
            ))),
            None => None,
        };
        state.identity =
            Identity::Embedded(Box::new(move |req| identify::<S>(req, csrf.as_deref())));
        Ok(Self {
            state: web::Data::new(state),
            credential: web::Data::new(Credential::of(&settings.upstream.credentials)),
        })
    }

    /// The shared state (metrics, caches), e.g. for the partner's own
    /// health checks.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// The endpoints under `path` (e.g. `/peliqan`: then
    /// `POST /peliqan/v1/token`), ready for `App::service`.
    pub fn scope(
        &self,
        path: &str,
    ) -> Scope<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<BoxBody>,
            Error = actix_web::Error,
            InitError = (),
        > + use<>,
    > {
        let state = self.state.clone();
        let mut scope = web::scope(path)
            .app_data(self.state.clone())
            .app_data(self.credential.clone());
        for endpoint in ENDPOINTS.iter().filter(|e| e.browser) {
            scope = scope.service(endpoint.resource());
        }
        debug_assert!(ENDPOINTS.iter().any(|e| e.browser && e.path == TOKEN_PATH));
        scope.wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| {
            let state = state.clone();
            async move { cors(Some(&state), req, next).await }
        }))
    }
}

/// The identity step of an embedded scope: the CSRF checks, then `S`
/// extracted from the request and asked for its user.
fn identify<S: PartnerSession>(
    req: &HttpRequest,
    csrf: Option<&(HeaderName, Vec<String>)>,
) -> LocalBoxFuture<'static, Result<Arc<VerifiedUser>, ServiceError>>
where
    S::Future: 'static,
{
    if let Some((header, origins)) = csrf
        && let Err(e) = check_csrf(req, header, origins)
    {
        return async move { Err(e) }.boxed_local();
    }
    let session = S::extract(req);
    async move {
        let session = session.await.map_err(|e| {
            let e: actix_web::Error = e.into();
            tracing::debug!("the partner's session extractor refused: {e}");
            ServiceError::NotSignedIn
        })?;
        let user = session.user().ok_or(ServiceError::NotSignedIn)?;
        if user.subject.is_empty() {
            return Err(ServiceError::NotSignedIn);
        }
        // Checked exactly like a JWT's tenant claim; named for the partner's
        // field in the error.
        let tenant = tenant_of(
            IdentitySource::Session,
            "tenant",
            Some(&Value::String(user.tenant)),
        )?;
        Ok(Arc::new(VerifiedUser {
            subject: user.subject,
            tenant,
            profile: user.profile,
        }))
    }
    .boxed_local()
}
