//! One operation's route: method, path template, trailing-slash rule and
//! where each value goes, written and read as one line of text
//! (`POST /api/partner/sub-account/integrate/?external_id={external_id}`),
//! which is also the form a partner uses to override a route.

use std::fmt;

/// The HTTP methods the Partner API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method's name, e.g. `GET`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    /// Whether sending the call twice has the effect of sending it once
    /// (what makes a retry safe).
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Self::Post | Self::Patch)
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "GET" => Self::Get,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            _ => return None,
        })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The values a route template may name, written `{name}`.
pub const PLACEHOLDERS: &[&str] = &["id", "external_id", "group_id", "page", "per_page"];

/// Values to fill a route's placeholders with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vars<'a> {
    /// `{id}`: a sub-account, connection or account id, per operation.
    pub id: Option<u64>,
    /// `{external_id}`: the partner's id of a tenant.
    pub external_id: Option<&'a str>,
    /// `{group_id}`: a script group.
    pub group_id: Option<u64>,
    /// `{page}`: 1-based page number of a list.
    pub page: Option<u64>,
    /// `{per_page}`: page size of a list.
    pub per_page: Option<u64>,
}

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        let number = match name {
            "id" => self.id,
            "external_id" => return self.external_id.map(str::to_owned),
            "group_id" => self.group_id,
            "page" => self.page,
            "per_page" => self.per_page,
            _ => None,
        };
        number.map(decimal)
    }
}

/// `n` in decimal digits. By hand rather than `to_string`, which would
/// pull the formatting machinery into the browser SDK's bundle.
fn decimal(mut n: u64) -> String {
    let mut digits = Vec::with_capacity(20);
    loop {
        digits.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().map(|&d| char::from(d)).collect()
}

/// A route that does not parse, or a value a route needs that was not given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError(pub String);

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RouteError {}

/// One operation's route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path template without its trailing slash, e.g. `/api/servers/{id}`.
    pub path: String,
    /// Whether the path must end in `/` (Django's `APPEND_SLASH` APIs do).
    pub trailing_slash: bool,
    /// Query parameters as `(name, template)`, e.g. `("external_id", "{external_id}")`
    /// or a fixed `("expire", "false")`.
    pub query: Vec<(String, String)>,
}

/// A route filled with values: what goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The method.
    pub method: Method,
    /// The path, percent-encoded, with the trailing-slash rule applied.
    pub path: String,
    /// The query parameters, not yet encoded.
    pub query: Vec<(String, String)>,
}

impl Target {
    /// `path?query`, every query value percent-encoded.
    pub fn path_and_query(&self) -> String {
        let mut out = self.path.clone();
        for (i, (k, v)) in self.query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(&encode(k));
            out.push('=');
            out.push_str(&encode(v));
        }
        out
    }
}

impl Route {
    /// Parses `METHOD /path[/][?name=value&name={placeholder}]`.
    pub fn parse(text: &str) -> Result<Route, RouteError> {
        // Messages are joined by hand, not `format!`: see [`decimal`].
        let err = |m: &str| RouteError(["`", text, "`: ", m].concat());
        let mut parts = text.split_whitespace();
        let (Some(method), Some(target), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err(
                "write a route as `METHOD /path` with an optional `?name=value` query, \
                 e.g. `GET /api/servers/{id}/`",
            ));
        };
        let method = Method::parse(method)
            .ok_or_else(|| err("the method must be GET, POST, PUT, PATCH or DELETE"))?;
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if !path.starts_with('/') {
            return Err(err("the path must start with `/`"));
        }
        if path.contains("//") {
            return Err(err("the path has an empty segment (`//`)"));
        }
        check_placeholders(path).map_err(|m| err(&m))?;
        let trailing_slash = path.len() > 1 && path.ends_with('/');
        let path = if trailing_slash {
            &path[..path.len() - 1]
        } else {
            path
        };
        let mut pairs = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| err(&["query part `", pair, "` has no `=`"].concat()))?;
            if k.is_empty() {
                return Err(err("a query parameter has no name"));
            }
            check_placeholders(v).map_err(|m| err(&m))?;
            pairs.push((k.to_owned(), v.to_owned()));
        }
        Ok(Route {
            method,
            path: path.to_owned(),
            trailing_slash,
            query: pairs,
        })
    }

    /// The path template as a server registers it: `{id}` placeholders kept,
    /// the trailing slash applied.
    pub fn path_template(&self) -> String {
        if self.trailing_slash {
            [self.path.as_str(), "/"].concat()
        } else {
            self.path.clone()
        }
    }

    /// Whether the route needs `name` (in its path or its query).
    pub fn uses(&self, name: &str) -> bool {
        let needle = ["{", name, "}"].concat();
        self.path.contains(&needle) || self.query.iter().any(|(_, v)| v.contains(&needle))
    }

    /// Fills the placeholders; one without a value is an error naming it.
    pub fn target(&self, vars: &Vars<'_>) -> Result<Target, RouteError> {
        let path = fill(&self.path, vars, true)?;
        let path = if self.trailing_slash {
            path + "/"
        } else {
            path
        };
        let query = self
            .query
            .iter()
            .map(|(k, v)| Ok((k.clone(), fill(v, vars, false)?)))
            .collect::<Result<_, RouteError>>()?;
        Ok(Target {
            method: self.method,
            path,
            query,
        })
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path_template())?;
        for (i, (k, v)) in self.query.iter().enumerate() {
            write!(f, "{}{k}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

fn check_placeholders(s: &str) -> Result<(), String> {
    let mut rest = s;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after
            .find('}')
            .ok_or_else(|| ["`{` without `}` in `", s, "`"].concat())?;
        let name = &after[..end];
        if !PLACEHOLDERS.contains(&name) {
            let known: Vec<String> = PLACEHOLDERS
                .iter()
                .map(|p| ["{", p, "}"].concat())
                .collect();
            return Err([
                "unknown placeholder `{",
                name,
                "}`; known: ",
                &known.join(", "),
            ]
            .concat());
        }
        rest = &after[end + 1..];
    }
    if rest.contains('}') {
        return Err(["`}` without `{` in `", s, "`"].concat());
    }
    Ok(())
}

fn fill(template: &str, vars: &Vars<'_>, encode_values: bool) -> Result<String, RouteError> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('}').unwrap_or(after.len());
        let name = &after[..end];
        let value = vars.get(name).ok_or_else(|| {
            RouteError(
                [
                    "the route `",
                    template,
                    "` needs a value for `{",
                    name,
                    "}`",
                ]
                .concat(),
            )
        })?;
        if encode_values {
            out.push_str(&encode(&value));
        } else {
            out.push_str(&value);
        }
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    Ok(out)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_round_trip_through_text() {
        for text in [
            "GET /api/subaccount/{id}/token",
            "POST /api/partner/sub-account/integrate/?external_id={external_id}",
            "GET /api/subaccount/token?external_id={external_id}&expire=false",
            "GET /api/partner/sub-accounts/?page={page}&per_page={per_page}",
        ] {
            assert_eq!(Route::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn targets_apply_the_slash_rule_and_encode_values() {
        let r = Route::parse("POST /api/partner/sub-account/integrate/?external_id={external_id}")
            .unwrap();
        let t = r
            .target(&Vars {
                external_id: Some("a b&c/é"),
                ..Vars::default()
            })
            .unwrap();
        assert_eq!(t.path, "/api/partner/sub-account/integrate/");
        assert_eq!(
            t.path_and_query(),
            "/api/partner/sub-account/integrate/?external_id=a%20b%26c%2F%C3%A9"
        );
        let r = Route::parse("GET /api/servers/{id}/").unwrap();
        assert_eq!(r.path_template(), "/api/servers/{id}/");
        assert_eq!(
            r.target(&Vars {
                id: Some(7),
                ..Vars::default()
            })
            .unwrap()
            .path,
            "/api/servers/7/"
        );
    }

    #[test]
    fn numbers_fill_in_decimal() {
        for n in [0, 7, 10, 12345, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }

    #[test]
    fn bad_routes_and_missing_values_are_named() {
        for (text, part) in [
            ("FETCH /x", "method"),
            ("GET x", "start with `/`"),
            ("GET /x/{tenant}", "unknown placeholder `{tenant}`"),
            ("GET /x?a", "no `=`"),
            ("GET", "METHOD /path"),
            ("GET /a//b", "empty segment"),
        ] {
            let e = Route::parse(text).unwrap_err().to_string();
            assert!(e.contains(part), "{text}: {e}");
        }
        let r = Route::parse("GET /api/server/{id}").unwrap();
        let e = r.target(&Vars::default()).unwrap_err().to_string();
        assert!(e.contains("{id}"), "{e}");
    }
}
