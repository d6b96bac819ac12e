//! The served dialect's route table as the server sees it: which paths
//! exist, in which trailing-slash form, and under which key they are counted.
//!
//! Built once at start from `config.dialect.routes()` (plus the emulator's
//! own pages), it is read by the app when registering resources
//! ([`crate::app`]), by the slash middleware ([`crate::slashes`]) to tell a
//! wrong slash form from an unknown path, and by the stats middleware
//! ([`crate::stats`]) to count a request under its route's template.

use actix_web::dev::ResourceDef;
use peliqan_api::{Dialect, Operation, Route};

/// The emulator's own endpoints. They are not Peliqan's, so both slash
/// forms are accepted whatever `strict_slashes` says.
pub(crate) const INDEX: &str = "/";
pub(crate) const OAUTH_AUTHORIZE: &str = "/oauth/authorize";
pub(crate) const OAUTH_DECISION: &str = "/oauth/decision";
pub(crate) use crate::control_api::paths::{
    ASSETS, CLOCK, FAULTS, INFO, NEXT_OAUTH_URL, RESET, REVOKE_ACCESS_TOKENS as REVOKE, STATS,
    SUBACCOUNT, SUBACCOUNTS,
};
const OWN: &[&str] = &[
    INDEX,
    OAUTH_AUTHORIZE,
    OAUTH_DECISION,
    STATS,
    FAULTS,
    RESET,
    INFO,
    REVOKE,
    CLOCK,
    SUBACCOUNTS,
    ASSETS,
];

/// Paths the `seed` dialect served before dialects existed and keeps
/// serving: `/api/table` and `/api/interface` as aliases of `/table` and
/// `/interface`.
pub(crate) const SEED_ALIASES: &[(&str, Operation)] = &[
    ("/api/table", Operation::CreateTable),
    ("/api/interface", Operation::CreateScript),
];

/// Paths served in the `partner` dialect beyond its table, because
/// Peliqan's own SDK cannot do an operation of the table without them:
/// its `add_query` always follows `POST .../create-sql-query/` with
/// `PATCH /api/database/tables/{id}/` (twice, with `{}`), and returns that
/// answer.
pub(crate) const PARTNER_TABLE_UPDATE: &str = "/api/database/tables/{id}/";

/// One path of the table.
pub(crate) struct Entry {
    /// The path template as the dialect writes it, e.g. `/api/servers/{id}/`:
    /// what stats count requests under.
    pub template: String,
    /// The same as actix registers it: ids match digits only, so
    /// `/api/server/abc` is an unknown path (as with Django's `<int:id>`).
    pub pattern: String,
    def: ResourceDef,
    /// The emulator's own endpoint (lenient about slashes in every mode).
    pub own: bool,
    /// The operations served at this path, with their routes (all methods);
    /// empty for the emulator's own pages and for [`PARTNER_TABLE_UPDATE`].
    pub ops: Vec<(Operation, Route)>,
}

impl Entry {
    fn new(template: &str, own: bool) -> Entry {
        let pattern = pattern(template);
        Entry {
            template: template.to_owned(),
            def: ResourceDef::new(pattern.as_str()),
            pattern,
            own,
            ops: Vec::new(),
        }
    }
}

/// A template as actix registers it: ids match digits only, so
/// `/api/server/abc` is an unknown path (as with Django's `<int:id>`).
pub(crate) fn pattern(template: &str) -> String {
    template
        .replace("{id}", r"{id:\d+}")
        .replace("{group_id}", r"{group_id:\d+}")
}

/// How a request path relates to the table.
pub(crate) enum Resolved<'a> {
    /// The path is a route, in the right form.
    Exact(&'a Entry),
    /// The path is a route in the other slash form (or with doubled
    /// slashes); the right form is given.
    OtherForm(&'a Entry, String),
    /// No route has this path in any form.
    Unknown,
}

/// Every path the emulator serves.
pub(crate) struct RouteTable {
    entries: Vec<Entry>,
    strict: bool,
}

impl RouteTable {
    /// The table of `dialect`, with the emulator's own endpoints.
    pub(crate) fn new(dialect: Dialect, strict: bool) -> RouteTable {
        let mut entries: Vec<Entry> = OWN.iter().map(|p| Entry::new(p, true)).collect();
        let routes = dialect.routes();
        let mut add = |template: &str, op: Operation, route: &Route| {
            let i = match entries.iter().position(|e| e.template == template) {
                Some(i) => i,
                None => {
                    entries.push(Entry::new(template, false));
                    entries.len() - 1
                }
            };
            entries[i].ops.push((op, route.clone()));
        };
        for (op, route) in routes.iter() {
            add(&route.path_template(), op, route);
        }
        if dialect == Dialect::Seed {
            for (path, op) in SEED_ALIASES {
                let route = routes.route(*op).expect("the seed has tables and scripts");
                add(path, *op, route);
            }
        }
        if dialect == Dialect::Partner
            && !entries.iter().any(|e| e.template == PARTNER_TABLE_UPDATE)
        {
            entries.push(Entry::new(PARTNER_TABLE_UPDATE, false));
        }
        RouteTable { entries, strict }
    }

    /// The API paths of the dialect's table (not the emulator's own pages,
    /// not [`PARTNER_TABLE_UPDATE`]), in table order.
    pub(crate) fn api(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| !e.ops.is_empty())
    }

    fn find(&self, path: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.def.is_match(path))
    }

    /// Finds `path` in the table, in its form or in the other slash form.
    pub(crate) fn resolve(&self, path: &str) -> Resolved<'_> {
        if let Some(e) = self.find(path) {
            return Resolved::Exact(e);
        }
        let merged = merge_slashes(path);
        let trimmed = merged.strip_suffix('/').filter(|p| !p.is_empty());
        let other = match trimmed {
            Some(p) => p.to_owned(),
            None => format!("{merged}/"),
        };
        for candidate in [merged.clone(), other] {
            if candidate != path
                && let Some(e) = self.find(&candidate)
            {
                return Resolved::OtherForm(e, candidate);
            }
        }
        Resolved::Unknown
    }

    /// Whether a request in the wrong form of `entry` is served anyway.
    pub(crate) fn lenient_for(&self, entry: &Entry) -> bool {
        !self.strict || entry.own
    }

    /// `METHOD /path/template`: the route's template when the request
    /// reaches a route, else the path with numeric segments written `{id}`.
    pub(crate) fn stats_key(&self, method: &str, path: &str) -> String {
        let template = match self.resolve(path) {
            Resolved::Exact(e) => e.template.clone(),
            Resolved::OtherForm(e, _) if self.lenient_for(e) => e.template.clone(),
            _ => numbered(path),
        };
        format!("{method} {template}")
    }
}

/// `/a//b` -> `/a/b`.
fn merge_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    if out.is_empty() { "/".to_owned() } else { out }
}

/// `/api/nothing/12/` -> `/api/nothing/{id}/`: keys of unknown paths stay
/// bounded by shape, not by id.
fn numbered(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(t: &RouteTable, path: &str) -> String {
        t.stats_key("GET", path)
    }

    #[test]
    fn paths_resolve_exactly_in_the_other_form_or_not_at_all() {
        let t = RouteTable::new(Dialect::Partner, true);
        assert!(matches!(t.resolve("/api/servers/12/"), Resolved::Exact(_)));
        match t.resolve("/api/servers/12") {
            Resolved::OtherForm(e, right) => {
                assert_eq!(
                    (e.template.as_str(), right.as_str()),
                    ("/api/servers/{id}/", "/api/servers/12/")
                );
            }
            _ => panic!("the slash-less form is the other form"),
        }
        assert!(matches!(t.resolve("/api/servers/abc/"), Resolved::Unknown));
        assert!(matches!(t.resolve("/api/subaccount"), Resolved::Unknown));
        assert!(matches!(
            t.resolve("/api/database/tables/5001"),
            Resolved::OtherForm(..)
        ));
        let seed = RouteTable::new(Dialect::Seed, false);
        assert!(matches!(
            seed.resolve("/api/server/3/"),
            Resolved::OtherForm(..)
        ));
        assert!(matches!(
            seed.resolve("/api//servertypes"),
            Resolved::OtherForm(..)
        ));
        assert!(matches!(seed.resolve("/api/table"), Resolved::Exact(_)));
    }

    #[test]
    fn stats_keys_are_route_templates_and_numbered_paths_otherwise() {
        let strict = RouteTable::new(Dialect::Partner, true);
        assert_eq!(key(&strict, "/api/servers/12/"), "GET /api/servers/{id}/");
        assert_eq!(key(&strict, "/api/servers/12"), "GET /api/servers/{id}");
        assert_eq!(
            key(&strict, "/api/interfaces/group/9001/"),
            "GET /api/interfaces/group/{group_id}/"
        );
        assert_eq!(key(&strict, "/oauth/authorize/"), "GET /oauth/authorize");
        let lenient = RouteTable::new(Dialect::Seed, false);
        assert_eq!(key(&lenient, "/api/server/12/"), "GET /api/server/{id}");
        assert_eq!(
            key(&lenient, "/api/subaccount/token/"),
            "GET /api/subaccount/token"
        );
        assert_eq!(key(&lenient, "/api/nothing/7/"), "GET /api/nothing/{id}/");
        assert_eq!(key(&lenient, "/"), "GET /");
    }

    #[test]
    fn operations_sharing_a_path_and_method_share_a_handler() {
        for &d in Dialect::ALL {
            for e in RouteTable::new(d, false).api() {
                for (a, ra) in &e.ops {
                    for (b, rb) in &e.ops {
                        if ra.method == rb.method {
                            assert_eq!(
                                crate::app::family(*a),
                                crate::app::family(*b),
                                "{d}: {a} and {b} share {}",
                                e.template
                            );
                        }
                    }
                }
            }
        }
    }
}
