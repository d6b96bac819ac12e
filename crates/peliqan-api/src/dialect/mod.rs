//! API dialects: the forms in which Peliqan has described its Partner API,
//! as data shared by the client, the token service, the SDK and the emulator.
//!
//! A [`Dialect`] names a built-in table ([`tables`]); [`Routes`] is that
//! table, possibly with single operations overridden by the partner's
//! configuration (`PELIQAN_API_ROUTE_<OPERATION>` keys holding a route in
//! the text form `METHOD /path/?name={placeholder}`, see [`Route::parse`]).
//! Every caller asks `Routes` for an [`Operation`] and gets the method, the
//! filled path with the dialect's trailing-slash rule, and the query.

mod operation;
mod route;
mod tables;

pub use operation::{Operation, Side};
pub use route::{Method, PLACEHOLDERS, Route, RouteError, Target, Vars, encode};

use std::fmt;
use std::str::FromStr;

/// A built-in form of the Partner API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// The seed document's paths (`/api/subaccount`, no trailing slash). The default.
    #[default]
    Seed,
    /// Peliqan's older help text (`/api/sub-account/...`).
    SubAccount,
    /// Peliqan's Python SDK 2.18.5 and current help text (`/api/partner/...`).
    Partner,
}

impl Dialect {
    /// Every built-in dialect.
    pub const ALL: &'static [Dialect] = &[Dialect::Seed, Dialect::SubAccount, Dialect::Partner];

    /// The name used in `PELIQAN_API_DIALECT` and `--dialect`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::SubAccount => "sub-account",
            Self::Partner => "partner",
        }
    }

    /// How request bodies of tables and scripts are shaped.
    pub fn body_shape(self) -> BodyShape {
        match self {
            Self::Seed | Self::SubAccount => BodyShape::Seed,
            Self::Partner => BodyShape::Partner,
        }
    }

    /// This dialect's built-in route table.
    pub fn routes(self) -> Routes {
        Routes::builtin(self)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dialect::ALL
            .iter()
            .copied()
            .find(|d| d.name() == s.trim())
            // Joined by hand, not `format!`: the browser SDK parses
            // dialects too, and the formatting machinery costs its bundle.
            .ok_or_else(|| {
                let names: Vec<&str> = Dialect::ALL.iter().map(|d| d.name()).collect();
                [
                    "unknown API dialect `",
                    s,
                    "`; use one of: ",
                    &names.join(", "),
                ]
                .concat()
            })
    }
}

/// How a dialect shapes the bodies of `create_table` and `create_script`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyShape {
    /// `{"name", "query"}` and `{"name", "raw_code", "schedule"}`.
    Seed,
    /// `{"table_type": "query", "schema_id", "name", "query"}` and
    /// `{"name", "raw_script", "run_mode", "schedule"}`.
    Partner,
}

/// One dialect's routes, with the partner's overrides applied.
///
/// Kept as one slot per [`Operation`] (indexed by the operation), not a map:
/// the browser SDK carries this type, and a map's code costs the bundle
/// several KB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routes {
    dialect: Dialect,
    slots: Vec<Option<Route>>,
}

impl Routes {
    /// The built-in table of `dialect`.
    pub fn builtin(dialect: Dialect) -> Routes {
        let mut slots = vec![None; Operation::ALL.len()];
        for (op, text) in tables::rows(dialect) {
            // Every built-in row parses (tested); none is silently dropped.
            if let Ok(route) = Route::parse(text) {
                slots[*op as usize] = Some(route);
            }
        }
        Routes { dialect, slots }
    }

    /// The dialect these routes start from.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// How table and script bodies are shaped.
    pub fn body_shape(&self) -> BodyShape {
        self.dialect.body_shape()
    }

    /// The route of `op`, or an error naming the dialect and the key that
    /// would add one.
    pub fn route(&self, op: Operation) -> Result<&Route, RouteError> {
        self.get(op).ok_or_else(|| {
            RouteError(
                [
                    "the `",
                    self.dialect.name(),
                    "` API dialect has no route for `",
                    op.name(),
                    "`; set ",
                    &op.config_key(),
                    " to add one",
                ]
                .concat(),
            )
        })
    }

    fn get(&self, op: Operation) -> Option<&Route> {
        self.slots.get(op as usize).and_then(Option::as_ref)
    }

    /// Whether the dialect (or an override) has a route for `op`.
    pub fn has(&self, op: Operation) -> bool {
        self.get(op).is_some()
    }

    /// The route of `op` filled with `vars`.
    pub fn target(&self, op: Operation, vars: &Vars<'_>) -> Result<Target, RouteError> {
        self.route(op)?.target(vars)
    }

    /// Replaces (or adds) one operation's route.
    pub fn set(&mut self, op: Operation, route: Route) {
        self.slots[op as usize] = Some(route);
    }

    /// Replaces one operation's route from its text form.
    pub fn set_text(&mut self, op: Operation, text: &str) -> Result<(), RouteError> {
        self.set(op, Route::parse(text)?);
        Ok(())
    }

    /// The operations whose route differs from the built-in table, with
    /// their routes, in table order.
    pub fn overrides(&self) -> impl Iterator<Item = (Operation, &Route)> {
        let builtin = Routes::builtin(self.dialect);
        self.iter()
            .filter(move |(op, route)| builtin.get(*op) != Some(*route))
    }

    /// Every operation with its route, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (Operation, &Route)> {
        Operation::ALL
            .iter()
            .zip(&self.slots)
            .filter_map(|(op, slot)| Some((*op, slot.as_ref()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_route_parses_and_round_trips() {
        for &d in Dialect::ALL {
            for (op, text) in tables::rows(d) {
                let r = Route::parse(text).unwrap_or_else(|e| panic!("{d} {op}: {e}"));
                assert_eq!(&r.to_string(), text, "{d} {op}");
            }
            // One row per operation at most.
            let rows = tables::rows(d);
            assert_eq!(
                Routes::builtin(d).iter().count(),
                rows.len(),
                "{d} repeats a row"
            );
        }
    }

    #[test]
    fn trailing_slash_rule_is_uniform_within_a_dialect() {
        for &d in Dialect::ALL {
            let want = d != Dialect::Seed;
            for (op, route) in Routes::builtin(d).iter() {
                assert_eq!(route.trailing_slash, want, "{d} {op}: {route}");
            }
        }
    }

    #[test]
    fn the_seed_dialect_is_the_seed_document() {
        let r = Dialect::default().routes();
        let t = r
            .target(
                Operation::TokenByExternalId,
                &Vars {
                    external_id: Some("wood_123"),
                    ..Vars::default()
                },
            )
            .unwrap();
        assert_eq!(
            t.path_and_query(),
            "/api/subaccount/token?external_id=wood_123"
        );
        let t = r
            .target(
                Operation::GetConnection,
                &Vars {
                    id: Some(12345),
                    ..Vars::default()
                },
            )
            .unwrap();
        assert_eq!(t.path, "/api/server/12345");
    }

    #[test]
    fn overrides_replace_one_operation_and_are_listed() {
        let mut r = Dialect::Partner.routes();
        assert_eq!(r.overrides().count(), 0);
        r.set_text(Operation::GetConnection, "GET /api/v2/servers/{id}/")
            .unwrap();
        let listed: Vec<_> = r.overrides().map(|(op, r)| (op, r.to_string())).collect();
        assert_eq!(
            listed,
            vec![(
                Operation::GetConnection,
                "GET /api/v2/servers/{id}/".to_owned()
            )]
        );
        // Setting a route back to the built-in one is no override.
        r.set_text(Operation::GetConnection, "GET /api/servers/{id}/")
            .unwrap();
        assert_eq!(r.overrides().count(), 0);
    }

    #[test]
    fn a_missing_operation_names_the_dialect_and_the_key() {
        let e = Dialect::Partner
            .routes()
            .route(Operation::DeleteSubaccount)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`partner`") && e.contains("PELIQAN_API_ROUTE_DELETE_SUBACCOUNT"),
            "{e}"
        );
    }

    #[test]
    fn dialect_names_parse_and_unknown_ones_list_the_choices() {
        for &d in Dialect::ALL {
            assert_eq!(d.name().parse::<Dialect>(), Ok(d));
        }
        let e = "v2".parse::<Dialect>().unwrap_err();
        assert!(e.contains("seed, sub-account, partner"), "{e}");
        for op in Operation::ALL {
            assert_eq!(op.name().parse::<Operation>(), Ok(*op));
        }
    }
}
