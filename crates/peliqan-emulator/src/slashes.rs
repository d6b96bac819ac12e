//! Trailing slashes and unknown paths, answered the way Peliqan's Django
//! answers them.
//!
//! Django's `CommonMiddleware` with `APPEND_SLASH` (the default) redirects
//! `GET /api/servers` to `/api/servers/` with a 301 and fails a `POST` to
//! the slash-less form (it cannot redirect a body); a slashed request to a
//! slash-less route is simply not found, and an unknown path is Django's
//! HTML 404 page, not JSON
//! (<https://docs.djangoproject.com/en/5.1/ref/middleware/#module-django.middleware.common>).
//! Clients that get this wrong fail against Peliqan, so with
//! `--strict-slashes` the emulator makes them fail here too. Without it
//! (the default) the wrong form is rewritten to the right one and served.
//! The emulator's own endpoints are lenient in every mode.

use crate::oauth::escape;
use crate::routing::Resolved;
use crate::state::EmulatorState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, ContentType};
use actix_web::http::uri::{PathAndQuery, Uri};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};

/// The middleware; registered with `middleware::from_fn`, right around the
/// routes.
pub(crate) async fn slashes(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(emu) = req.app_data::<web::Data<EmulatorState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let path = req.path().to_owned();
    let (lenient, right) = match emu.routes.resolve(&path) {
        Resolved::Exact(_) | Resolved::Unknown => {
            return Ok(next.call(req).await?.map_into_boxed_body());
        }
        Resolved::OtherForm(entry, right) => (emu.routes.lenient_for(entry), right),
    };
    let query = req.query_string().to_owned();
    let with_query = |p: &str| {
        if query.is_empty() {
            p.to_owned()
        } else {
            format!("{p}?{query}")
        }
    };
    if lenient {
        rewrite(&mut req, &with_query(&right));
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    // Strict: only a missing trailing slash has Django's special answers;
    // an extra slash (or doubled slashes) is a path Django does not know.
    let answer = if right != format!("{path}/") {
        not_found()
    } else if matches!(*req.method(), Method::GET | Method::HEAD) {
        HttpResponse::MovedPermanently()
            .insert_header((header::LOCATION, with_query(&right)))
            .content_type(ContentType::html())
            .finish()
    } else {
        let host = req.connection_info().host().to_owned();
        slash_error(req.method(), &path, &format!("{host}{right}"))
    };
    Ok(req.into_response(answer))
}

/// Points the request at `path_and_query` before routing, as actix's own
/// `NormalizePath` does.
fn rewrite(req: &mut ServiceRequest, path_and_query: &str) {
    let mut parts = req.head().uri.clone().into_parts();
    let Ok(pq) = PathAndQuery::try_from(path_and_query) else {
        return;
    };
    parts.path_and_query = Some(pq);
    let Ok(uri) = Uri::from_parts(parts) else {
        return;
    };
    req.match_info_mut().get_mut().update(&uri);
    req.head_mut().uri = uri;
}

/// Django's 404 page (`django.views.defaults.page_not_found`, DEBUG off).
pub(crate) fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type(ContentType::html())
        .body(
            "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n\
             <body>\n  <h1>Not Found</h1><p>The requested resource was not found on this \
             server.</p>\n</body>\n</html>\n",
        )
}

/// The answer to the app's default service: every unknown path.
pub(crate) async fn unknown_path() -> HttpResponse {
    not_found()
}

/// Django's `RuntimeError` for a body-carrying request to the slash-less
/// form of a slashed URL, as its debug page shows it.
fn slash_error(method: &Method, path: &str, right: &str) -> HttpResponse {
    let message = format!(
        "You called this URL via {method}, but the URL doesn't end in a slash and you have \
         APPEND_SLASH set. Django can't redirect to the slash URL while maintaining {method} \
         data. Change your form to point to {right} (note the trailing slash), or set \
         APPEND_SLASH=False in your Django settings."
    );
    let (path, message) = (escape(path), escape(&message));
    HttpResponse::build(StatusCode::INTERNAL_SERVER_ERROR)
        .content_type(ContentType::html())
        .body(format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n  \
             <title>RuntimeError at {path}</title>\n</head>\n<body>\n<div id=\"summary\">\n  \
             <h1>RuntimeError at {path}</h1>\n  <pre class=\"exception_value\">{message}</pre>\n\
             </div>\n</body>\n</html>\n"
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn the_slash_error_page_names_the_method_and_the_right_url() {
        let res = slash_error(&Method::POST, "/api/servers", "127.0.0.1:1/api/servers/");
        assert_eq!(res.status(), 500);
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("You called this URL via POST, but the URL doesn't end in a slash"));
        assert!(body.contains("127.0.0.1:1/api/servers/ (note the trailing slash)"));
    }
}
