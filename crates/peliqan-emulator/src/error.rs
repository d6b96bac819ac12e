//! The one error type of the emulator's HTTP boundary.
//!
//! Every failure a handler or an extractor can produce ends here and leaves
//! as Peliqan would send it: Django REST Framework's envelope, either
//! `{"detail": "..."}` or field errors `{"field": ["message"]}`, and in the
//! `partner` dialect `{"error": "<code>", "detail": "..."}` (field errors
//! stay DRF's). Keeping the mapping to status codes in one `match` means no
//! route can answer an error in a shape clients do not expect.
//!
//! Handlers only return an [`ApiError`]; actix keeps it on the response, and
//! [`partner_envelope`] re-renders it in the partner shape when that dialect
//! is served, so no handler needs to know the dialect to fail correctly.

use crate::state::EmulatorState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError, web};
use peliqan_api::ApiErrorBody;
use peliqan_api::error::FieldMessages;
use std::collections::BTreeMap;
use std::fmt;

/// Field name -> messages, DRF's shape for validation errors.
pub(crate) type FieldErrors = BTreeMap<String, Vec<String>>;

/// An error answer. Texts follow DRF's wording where DRF has one, so client
/// code tested here behaves the same against Peliqan.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 401: no, malformed, badly signed or expired token.
    Unauthenticated(String),
    /// 403: a valid token of the wrong scope.
    Forbidden(String),
    /// 404: unknown route or an object the caller may not see.
    NotFound(String),
    /// 405: known route, other method.
    MethodNotAllowed(String),
    /// 400 with a `detail`.
    BadRequest(String),
    /// 400 with field errors.
    Fields(FieldErrors),
    /// 413: the body is over the limit.
    TooLarge(String),
    /// 415: a body that is not JSON.
    UnsupportedMediaType(String),
    /// Any status chosen by an injected fault.
    Injected(StatusCode),
    /// 401: a Bearer access token that is unknown, expired or revoked.
    BadAccessToken,
    /// The OAuth token endpoint's own errors (RFC 6749 codes such as
    /// `invalid_client`), always `{"error", "detail"}`.
    OAuth {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

/// Which error shape the served dialect uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Envelope {
    /// DRF: `{"detail": ...}` (`seed`, `sub-account`).
    Drf,
    /// `{"error": code, "detail": ...}` (`partner`).
    Partner,
}

impl ApiError {
    /// DRF's plain 404.
    pub(crate) fn not_found() -> Self {
        Self::NotFound("Not found.".to_owned())
    }

    /// A 400 naming one field.
    pub(crate) fn field(name: &str, msg: impl Into<String>) -> Self {
        let mut f = FieldErrors::new();
        f.insert(name.to_owned(), vec![msg.into()]);
        Self::Fields(f)
    }

    /// DRF's default code for the error (`not_found`, `throttled`, ...).
    fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(m) if m.starts_with("Authentication credentials were not") => {
                "not_authenticated"
            }
            Self::Unauthenticated(_) | Self::BadAccessToken => "authentication_failed",
            Self::Forbidden(_) => "permission_denied",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::BadRequest(m) if m.starts_with("JSON parse error") => "parse_error",
            Self::BadRequest(_) | Self::Fields(_) => "invalid",
            Self::TooLarge(_) => "request_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::OAuth { code, .. } => code,
            Self::Injected(s) => match s.as_u16() {
                429 => "throttled",
                401 => "authentication_failed",
                403 => "permission_denied",
                404 => "not_found",
                400..=499 => "invalid",
                _ => "server_error",
            },
        }
    }

    fn body(&self, envelope: Envelope) -> ApiErrorBody {
        let mut body = self.drf_body();
        let coded = envelope == Envelope::Partner || matches!(self, Self::OAuth { .. });
        if coded && body.detail.is_some() {
            body.error = Some(self.code().to_owned());
        }
        body
    }

    fn drf_body(&self) -> ApiErrorBody {
        match self {
            Self::Fields(fields) => ApiErrorBody {
                error: None,
                detail: None,
                fields: fields
                    .iter()
                    .map(|(k, v)| (k.clone(), FieldMessages::Many(v.clone())))
                    .collect(),
            },
            Self::Injected(_) => ApiErrorBody::detail("Injected fault"),
            Self::BadAccessToken => ApiErrorBody::detail(
                "Invalid access token: it is unknown, expired or revoked. \
                 Get a new one from POST /api/oauth2/token/.",
            ),
            Self::OAuth { message, .. } => ApiErrorBody::detail(message.clone()),
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::MethodNotAllowed(m)
            | Self::BadRequest(m)
            | Self::TooLarge(m)
            | Self::UnsupportedMediaType(m) => ApiErrorBody::detail(m.clone()),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.status_code().as_u16(),
            self.drf_body().message()
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(_) | Self::BadAccessToken => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest(_) | Self::Fields(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Injected(status) | Self::OAuth { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.response(Envelope::Drf)
    }
}

impl ApiError {
    /// The answer in the given envelope.
    pub(crate) fn response(&self, envelope: Envelope) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        match self {
            // DRF sends this with every 401 so clients know which scheme to use.
            Self::Unauthenticated(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, r#"JWT realm="api""#));
            }
            Self::BadAccessToken => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    r#"Bearer realm="api", error="invalid_token""#,
                ));
            }
            Self::OAuth { .. } => {
                // RFC 6749 section 5.1: token answers, errors included, are never cached.
                res.insert_header((header::CACHE_CONTROL, "no-store"));
            }
            Self::Injected(s) if *s == StatusCode::TOO_MANY_REQUESTS => {
                res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            _ => {}
        }
        res.json(self.body(envelope))
    }
}

/// Middleware: in the `partner` dialect, re-renders every [`ApiError`]
/// answer in that dialect's envelope. Registered inside the CORS layer, so
/// the re-rendered answer still gets its CORS headers.
pub(crate) async fn partner_envelope(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let partner = req
        .app_data::<web::Data<EmulatorState>>()
        .is_some_and(|emu| emu.envelope == Envelope::Partner);
    let res = next.call(req).await?.map_into_boxed_body();
    if !partner {
        return Ok(res);
    }
    let rendered = res
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
        .map(|e| e.response(Envelope::Partner));
    Ok(match rendered {
        Some(new) => res.into_response(new),
        None => res,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_maps_to_its_drf_status_and_shape() {
        let cases = [
            (ApiError::Unauthenticated("x".into()), 401),
            (ApiError::Forbidden("x".into()), 403),
            (ApiError::not_found(), 404),
            (ApiError::MethodNotAllowed("x".into()), 405),
            (ApiError::BadRequest("x".into()), 400),
            (ApiError::field("name", "This field is required."), 400),
            (ApiError::TooLarge("x".into()), 413),
            (ApiError::UnsupportedMediaType("x".into()), 415),
            (ApiError::Injected(StatusCode::SERVICE_UNAVAILABLE), 503),
        ];
        for (err, status) in cases {
            assert_eq!(err.status_code().as_u16(), status, "{err:?}");
        }
        let body = serde_json::to_value(ApiError::field("name", "m").body(Envelope::Drf)).unwrap();
        assert_eq!(body, serde_json::json!({"name": ["m"]}));
    }

    #[test]
    fn the_partner_envelope_adds_a_code_to_details_but_not_to_field_errors() {
        let body = |e: ApiError| serde_json::to_value(e.body(Envelope::Partner)).unwrap();
        assert_eq!(
            body(ApiError::not_found()),
            serde_json::json!({"error": "not_found", "detail": "Not found."})
        );
        assert_eq!(
            body(ApiError::field("name", "m")),
            serde_json::json!({"name": ["m"]})
        );
        assert_eq!(
            body(ApiError::Injected(StatusCode::TOO_MANY_REQUESTS))["error"],
            "throttled"
        );
        let drf = serde_json::to_value(ApiError::not_found().body(Envelope::Drf)).unwrap();
        assert_eq!(drf, serde_json::json!({"detail": "Not found."}));
    }
}
