//! Reading ids and external ids where the dialect's route puts them.
//!
//! One path can carry several operations that differ only in their query
//! (`POST /api/partner/sub-account/integrate/?account_id=..` and
//! `?external_id=..`, or the seed's `.../token` and `.../token?expire=false`).
//! The app attaches each path's operations to its resource ([`PathOps`]);
//! the [`Lookup`] extractor picks the operation whose query the request
//! matches best and reads every placeholder value the path's routes name,
//! from the path (`{id}`) or the query (`?account_id={id}`).

use crate::error::ApiError;
use crate::validate;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use peliqan_api::{Operation, Route, Subaccount, SubaccountId};
use std::collections::HashMap;
use std::future::{Ready, ready};

use crate::state::State;

/// The operations served at one path, attached to its actix resource.
#[derive(Clone)]
pub(crate) struct PathOps(pub Vec<(Operation, Route)>);

/// What a request names, read as its route says.
pub(crate) struct Lookup {
    /// The operation the request matches best.
    pub op: Operation,
    /// `{id}`: from the path or e.g. `?account_id=`.
    pub id: Option<u64>,
    /// `{external_id}`, non-blank.
    pub external_id: Option<String>,
    /// `{group_id}`, from the path.
    pub group_id: Option<u64>,
    /// `{page}` and `{per_page}` when given.
    pub page: Option<u64>,
    pub per_page: Option<u64>,
    /// Whether the operation's route takes `{page}` (a paginated list).
    pub paginated: bool,
    /// The whole query (for flags such as the seed's `expire`).
    pub query: HashMap<String, String>,
    /// The query parameters that carry `{id}` or `{external_id}`, for messages.
    id_params: Vec<String>,
}

impl FromRequest for Lookup {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(read(req))
    }
}

fn read(req: &HttpRequest) -> Result<Lookup, ApiError> {
    let ops = req
        .app_data::<PathOps>()
        .expect("PathOps registered on every API resource");
    let query: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let candidates: Vec<&(Operation, Route)> = ops
        .0
        .iter()
        .filter(|(_, r)| r.method.as_str() == req.method().as_str())
        .collect();
    let (op, route) = *candidates
        .iter()
        .max_by_key(|(_, r)| score(r, &query))
        .expect("a handler is registered only for methods with a route");

    let mut lookup = Lookup {
        op: *op,
        id: path_number(req, "id")?,
        external_id: None,
        group_id: path_number(req, "group_id")?,
        page: None,
        per_page: None,
        paginated: route.uses("page"),
        query: HashMap::new(),
        id_params: Vec::new(),
    };
    for (_, r) in &candidates {
        for (key, template) in &r.query {
            let Some(name) = template.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else {
                continue;
            };
            if matches!(name, "id" | "external_id") && !lookup.id_params.contains(key) {
                lookup.id_params.push(key.clone());
            }
            let Some(value) = query.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
                continue;
            };
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| ApiError::field(key, validate::NOT_INTEGER))
            };
            match name {
                "id" => lookup.id = Some(number()?),
                "group_id" => lookup.group_id = Some(number()?),
                "page" => lookup.page = Some(number()?),
                "per_page" => lookup.per_page = Some(number()?),
                "external_id" => lookup.external_id = Some(value.to_owned()),
                _ => {}
            }
        }
    }
    lookup.query = query;
    Ok(lookup)
}

/// How well a request's query fits a route: `None` if a fixed value
/// (`expire=false`) or a required placeholder is missing, else the number
/// of the route's parameters present.
fn score(route: &Route, query: &HashMap<String, String>) -> Option<usize> {
    let mut n = 0;
    for (key, template) in &route.query {
        let given = query.get(key);
        if template.starts_with('{') {
            if matches!(template.as_str(), "{page}" | "{per_page}") {
                continue; // optional: lists default to the first page
            }
            given.filter(|v| !v.trim().is_empty())?;
        } else if given != Some(template) {
            return None;
        }
        n += 1;
    }
    Some(n)
}

/// A numeric path segment; an id too large for u64 is an object that does
/// not exist.
fn path_number(req: &HttpRequest, name: &str) -> Result<Option<u64>, ApiError> {
    match req.match_info().get(name) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| ApiError::not_found()),
    }
}

impl Lookup {
    /// The sub-account the request names by id or external id (both must
    /// agree when both are given).
    pub(crate) fn subaccount(&self, state: &State) -> Result<Subaccount, ApiError> {
        match (self.id, &self.external_id) {
            (Some(id), ext) => state
                .subaccounts
                .get(&SubaccountId(id))
                .filter(|a| ext.as_deref().is_none_or(|e| a.external_id.as_str() == e))
                .cloned()
                .ok_or_else(ApiError::not_found),
            (None, Some(ext)) => state
                .subaccount_by_external_id(ext)
                .cloned()
                .ok_or_else(|| {
                    ApiError::NotFound(format!(
                        "Not found: no sub-account with external_id \"{ext}\"."
                    ))
                }),
            (None, None) => Err(match self.id_params.as_slice() {
                [one] => ApiError::field(one, "This query parameter is required."),
                many => ApiError::BadRequest(format!(
                    "Name the sub-account with one of the query parameters: {}.",
                    many.join(", ")
                )),
            }),
        }
    }

    /// The `{id}` the route needs (from the path, or a required query value).
    pub(crate) fn id(&self) -> Result<u64, ApiError> {
        self.id.ok_or_else(|| match self.id_params.first() {
            Some(p) => ApiError::field(p, "This query parameter is required."),
            None => ApiError::not_found(),
        })
    }

    /// Whether this is one of the non-expiring token operations.
    pub(crate) fn non_expiring(&self) -> bool {
        matches!(
            self.op,
            Operation::NonExpiringTokenById | Operation::NonExpiringTokenByExternalId
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn fixed_values_and_required_placeholders_decide_the_operation() {
        let plain = Route::parse("GET /api/subaccount/{id}/token").unwrap();
        let forever = Route::parse("GET /api/subaccount/{id}/token?expire=false").unwrap();
        assert_eq!(score(&plain, &q(&[("expire", "false")])), Some(0));
        assert_eq!(score(&forever, &q(&[("expire", "false")])), Some(1));
        assert_eq!(score(&forever, &q(&[("expire", "0")])), None);
        let by_ext =
            Route::parse("POST /api/partner/sub-account/integrate/?external_id={external_id}")
                .unwrap();
        assert_eq!(score(&by_ext, &q(&[("external_id", " ")])), None);
        assert_eq!(score(&by_ext, &q(&[("external_id", "a")])), Some(1));
        let list =
            Route::parse("GET /api/partner/sub-accounts/?page={page}&per_page={per_page}").unwrap();
        assert_eq!(score(&list, &q(&[])), Some(0));
    }
}
