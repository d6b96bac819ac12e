//! One dialect at a time: every route of the served dialect's table
//! answers (called exactly as `Routes::target` builds it, in strict slash
//! mode), and the other dialects' paths are Django's HTML 404.

use crate::helpers::{TestApp, body, expect_html_404, spawn_dialect};
use peliqan_api::dialect::{Method as RouteMethod, Vars};
use peliqan_api::{Dialect, NewInterface, NewTable, Operation, Routes};
use peliqan_emulator::Info;
use reqwest::{Method, Response};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Calls `op` as the dialect's table says, with a token when given.
struct Caller<'a> {
    app: &'a TestApp,
    routes: Routes,
    called: BTreeSet<Operation>,
}

impl Caller<'_> {
    async fn call(
        &mut self,
        op: Operation,
        vars: Vars<'_>,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let target = self.routes.target(op, &vars).unwrap();
        let method = Method::from_bytes(target.method.as_str().as_bytes()).unwrap();
        let mut req = self.app.request(method, &target.path_and_query());
        if let Some(t) = token {
            req = req.header("Authorization", format!("JWT {t}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.called.insert(op);
        req.send().await.unwrap()
    }
}

async fn ok(res: Response, op: Operation) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(status.is_success(), "{op}: {status} {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{op}: {e}: {text}"))
    }
}

fn vars() -> Vars<'static> {
    Vars::default()
}

/// Drives every operation of `dialect` in a sensible order; returns the
/// operations called.
async fn walk(dialect: Dialect) -> (TestApp, BTreeSet<Operation>) {
    use Operation::*;
    let app = spawn_dialect(dialect, true).await;
    let partner = app.emulator.partner_token().to_owned();
    let mut c = Caller {
        app: &app,
        routes: dialect.routes(),
        called: BTreeSet::new(),
    };
    let has = |op| dialect.routes().has(op);
    let p = Some(partner.as_str());

    let new = json!({"external_id": "acme", "email": "ann@acme.test"});
    let created = ok(
        c.call(CreateSubaccount, vars(), p, Some(new)).await,
        CreateSubaccount,
    )
    .await;
    let id = created["id"].as_u64().unwrap();
    let by_id = Vars {
        id: Some(id),
        ..vars()
    };
    let by_ext = Vars {
        external_id: Some("acme"),
        ..vars()
    };
    let listed = ok(
        c.call(
            ListSubaccounts,
            Vars {
                page: Some(1),
                per_page: Some(10),
                ..vars()
            },
            p,
            None,
        )
        .await,
        ListSubaccounts,
    )
    .await;
    assert!(listed.to_string().contains("\"acme\""), "{listed}");
    for (op, v) in [(GetSubaccount, by_id), (GetSubaccountByExternalId, by_ext)] {
        if has(op) {
            let got = ok(c.call(op, v, p, None).await, op).await;
            assert_eq!(got["id"], id, "{op}");
        }
    }
    if has(UpdateSubaccount) {
        let b = json!({"external_id": "acme", "company_name": "Acme"});
        let got = ok(
            c.call(UpdateSubaccount, by_id, p, Some(b)).await,
            UpdateSubaccount,
        )
        .await;
        assert_eq!(got["company_name"], "Acme");
    }
    if has(SubaccountInfo) {
        let info = ok(c.call(SubaccountInfo, by_id, p, None).await, SubaccountInfo).await;
        assert!(info["default_dw_id"].is_u64() && info["default_dw_name"].is_string());
    }
    let mut token = String::new();
    for (op, v, expiring) in [
        (TokenById, by_id, true),
        (TokenByExternalId, by_ext, true),
        (NonExpiringTokenById, by_id, false),
        (NonExpiringTokenByExternalId, by_ext, false),
    ] {
        let answer = ok(c.call(op, v, p, None).await, op).await;
        let t = answer["token"].as_str().unwrap();
        assert_eq!(
            crate::helpers::claims(t).get("exp").is_some(),
            expiring,
            "{op}"
        );
        if expiring {
            token = t.to_owned();
        }
    }
    let servertypes = ok(c.call(Servertypes, vars(), p, None).await, Servertypes).await;
    assert!(servertypes.as_array().unwrap().len() >= 8);
    if has(OauthToken) {
        let target = c.routes.target(OauthToken, &vars()).unwrap();
        assert_eq!(target.method, RouteMethod::Post);
        c.called.insert(OauthToken);
        assert!(!app.access_token().await.is_empty());
    }

    let t = Some(token.as_str());
    let form = json!({"servertype_id": 123, "api_token": "k"});
    let server = ok(
        c.call(AddConnection, vars(), t, Some(form)).await,
        AddConnection,
    )
    .await;
    let server_id = Vars {
        id: server["id"].as_u64(),
        ..vars()
    };
    let listed = ok(
        c.call(ListConnections, vars(), t, None).await,
        ListConnections,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let got = ok(
        c.call(GetConnection, server_id, t, None).await,
        GetConnection,
    )
    .await;
    assert_eq!(got["status"], "connected");
    let logs = ok(
        c.call(ConnectionLogs, server_id, t, None).await,
        ConnectionLogs,
    )
    .await;
    assert!(!logs.as_array().unwrap().is_empty());

    let shape = dialect.body_shape();
    let table = NewTable {
        name: "deals".into(),
        query: "select 1".into(),
        database_id: None,
        schema_id: None,
    };
    let made = ok(
        c.call(CreateTable, vars(), t, Some(table.body(shape)))
            .await,
        CreateTable,
    )
    .await;
    assert_eq!(made["name"], "deals");
    let mut group = vars();
    if has(ListGroups) {
        let groups = ok(c.call(ListGroups, vars(), t, None).await, ListGroups).await;
        group.group_id = groups[0]["id"].as_u64();
    }
    let script = NewInterface {
        name: "Sync".into(),
        raw_code: "print(1)".into(),
        schedule: 3600,
    };
    let made = ok(
        c.call(CreateScript, group, t, Some(script.body(shape)))
            .await,
        CreateScript,
    )
    .await;
    assert_eq!(
        (made["name"].as_str(), made["schedule"].as_u64()),
        (Some("Sync"), Some(3600))
    );
    if has(ListScripts) {
        let list = ok(c.call(ListScripts, vars(), t, None).await, ListScripts).await;
        assert_eq!(list[0]["id"], made["id"]);
    }
    if has(DeleteSubaccount) {
        ok(
            c.call(DeleteSubaccount, by_id, p, None).await,
            DeleteSubaccount,
        )
        .await;
    }
    let called = c.called;
    (app, called)
}

async fn every_route_answers(dialect: Dialect) {
    let (app, called) = walk(dialect).await;
    let routes = dialect.routes();
    let all: BTreeSet<Operation> = routes.iter().map(|(op, _)| op).collect();
    assert_eq!(called, all, "{dialect}: the walk must call every route");
    // Each call is counted under its route's template, and nothing else was sent.
    let stats = app.stats().await;
    for (op, route) in routes.iter() {
        let key = format!("{} {}", route.method, route.path_template());
        assert!(
            stats.requests.contains_key(&key),
            "{dialect} {op}: no {key} in {stats:?}"
        );
    }
    let known: BTreeSet<String> = routes
        .iter()
        .map(|(_, r)| format!("{} {}", r.method, r.path_template()))
        .collect();
    for key in stats.requests.keys() {
        assert!(known.contains(key), "{dialect}: unexpected {key}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_seed_route_answers_in_strict_mode() {
    every_route_answers(Dialect::Seed).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sub_account_route_answers_in_strict_mode() {
    every_route_answers(Dialect::SubAccount).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_partner_route_answers_in_strict_mode() {
    every_route_answers(Dialect::Partner).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn other_dialects_paths_are_djangos_html_404_in_every_mode() {
    let all_vars = Vars {
        id: Some(1),
        external_id: Some("acme"),
        group_id: Some(9001),
        page: Some(1),
        per_page: Some(10),
    };
    for &served in Dialect::ALL {
        let own: BTreeSet<String> = served
            .routes()
            .iter()
            .map(|(_, r)| r.path.clone())
            .collect();
        for strict in [false, true] {
            let app = spawn_dialect(served, strict).await;
            let mut foreign = 0;
            for &other in Dialect::ALL {
                for (op, route) in other.routes().iter() {
                    // Paths both dialects have (in either slash form) are not foreign.
                    if own.contains(&route.path) {
                        continue;
                    }
                    let target = route.target(&all_vars).unwrap();
                    let method = Method::from_bytes(target.method.as_str().as_bytes()).unwrap();
                    let res = app
                        .as_partner(method, &target.path_and_query())
                        .json(&json!({}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 404, "{served} serving {other}'s {op}");
                    expect_html_404(res).await;
                    foreign += 1;
                }
            }
            assert!(
                foreign > 10,
                "{served}: only {foreign} foreign routes tried"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn info_tells_the_dialect_and_slash_mode() {
    for (dialect, strict) in [(Dialect::Seed, false), (Dialect::Partner, true)] {
        let app = spawn_dialect(dialect, strict).await;
        let info = app.send(app.control().info()).await.unwrap();
        let expected = Info {
            dialect: dialect.name().to_owned(),
            strict_slashes: strict,
            accept_duplicate_external_ids: false,
        };
        assert_eq!(info, expected);
        let res = app.request(Method::GET, "/").send().await.unwrap();
        let index = body(res).await;
        assert_eq!(index["dialect"], dialect.name());
        let first = dialect.routes().iter().next().unwrap().1.to_string();
        assert!(index["endpoints"].to_string().contains(&first), "{index}");
    }
}
