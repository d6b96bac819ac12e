//! The one error type of the emulator's HTTP boundary.
//!
//! Every failure a handler or an extractor can produce ends here and leaves
//! as Peliqan would send it: Django REST Framework's envelope, either
//! `{"detail": "..."}` or field errors `{"field": ["message"]}`. Keeping the
//! mapping to status codes in one `match` means no route can answer an error
//! in a shape clients do not expect.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
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

    fn body(&self) -> ApiErrorBody {
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
            self.body().message()
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest(_) | Self::Fields(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Injected(status) => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        match self {
            // DRF sends this with every 401 so clients know which scheme to use.
            Self::Unauthenticated(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, r#"JWT realm="api""#));
            }
            Self::Injected(s) if *s == StatusCode::TOO_MANY_REQUESTS => {
                res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            _ => {}
        }
        res.json(self.body())
    }
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
        let body = serde_json::to_value(ApiError::field("name", "m").body()).unwrap();
        assert_eq!(body, serde_json::json!({"name": ["m"]}));
    }
}
