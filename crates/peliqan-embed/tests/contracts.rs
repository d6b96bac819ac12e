//! The SDK reads answers and writes request bodies by hand (see
//! `src/answers.rs` for the bundle-size reason); the `peliqan-api` types are
//! the contract. Each property here feeds the same generated JSON to a hand
//! reader and to serde with the contract type: wherever serde accepts the
//! JSON, both must read the same. The generated JSON mixes present, absent,
//! `null` and wrongly typed fields and unknown keys, so the hand readers'
//! tolerance is exercised too.
#![cfg(not(target_arch = "wasm32"))]

use peliqan_api::embed::Problem;
use peliqan_api::{
    ApiErrorBody, BrowserRouting, ConnectionLogEntry, CreatedConnection, Group, NewConnection,
    Server, Servertype, ServertypeId, TokenAnswer,
};
use peliqan_embed::answers;
use peliqan_embed::error::from_peliqan;
use peliqan_embed::form::new_connection_body;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Short text, sometimes one of a contract's known enum values.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{0,6}",
        prop::sample::select(vec![
            "oauth2",
            "api_key",
            "basic",
            "password",
            "select",
            "failed",
            "connected",
            "error",
            "warning",
            "seed",
            "partner",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Any small JSON leaf.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (0u32..1000).prop_map(Value::from),
        (-5i32..5).prop_map(Value::from),
        Just(json!(1.5)),
        text().prop_map(Value::from),
    ]
}

/// A field value: usually `good`, sometimes absent (`None`), `null` or any
/// leaf (which may be of the wrong type).
fn field(good: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        12 => good.prop_map(Some),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => leaf().prop_map(Some),
    ]
    .boxed()
}

fn string_field() -> BoxedStrategy<Option<Value>> {
    field(text().prop_map(Value::from))
}

fn id_field() -> BoxedStrategy<Option<Value>> {
    field((0u64..1_000_000).prop_map(Value::from))
}

/// An object of the named fields plus unknown keys.
fn object(fields: Vec<(&'static str, BoxedStrategy<Option<Value>>)>) -> BoxedStrategy<Value> {
    let (names, values): (Vec<_>, Vec<_>) = fields.into_iter().unzip();
    let unknown = prop::collection::btree_map("x_[a-z]{1,3}", leaf(), 0..2);
    (values, unknown)
        .prop_map(move |(values, unknown)| {
            let mut map: Map<String, Value> = unknown.into_iter().collect();
            for (name, value) in names.iter().zip(values) {
                if let Some(v) = value {
                    map.insert((*name).to_owned(), v);
                }
            }
            Value::Object(map)
        })
        .boxed()
}

fn list(item: BoxedStrategy<Value>, max: usize) -> BoxedStrategy<Value> {
    prop::collection::vec(item, 0..max)
        .prop_map(Value::from)
        .boxed()
}

fn form_field() -> BoxedStrategy<Value> {
    object(vec![
        ("name", string_field()),
        ("label", string_field()),
        ("type", string_field()),
        ("required", field(any::<bool>().prop_map(Value::from))),
        ("help", string_field()),
        ("placeholder", string_field()),
        ("default", field(leaf())),
        (
            "choices",
            field(list(text().prop_map(Value::from).boxed(), 3)),
        ),
    ])
}

fn servertype() -> BoxedStrategy<Value> {
    object(vec![
        ("id", id_field()),
        ("name", string_field()),
        ("title", string_field()),
        ("auth", string_field()),
        ("category", string_field()),
        ("logo_url", string_field()),
        (
            "connect_form",
            field(object(vec![("fields", field(list(form_field(), 4)))])),
        ),
    ])
}

fn routes() -> BoxedStrategy<Value> {
    prop::collection::btree_map(
        prop::sample::select(vec!["get_connection", "add_connection", "list_groups"]),
        field(text().prop_map(|t| Value::from(["GET /", &t, "/{id}/"].concat()))),
        0..3,
    )
    .prop_map(|m| {
        let m: Map<String, Value> = m
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), v?)))
            .collect();
        Value::Object(m)
    })
    .boxed()
}

fn token_answer() -> BoxedStrategy<Value> {
    object(vec![
        ("token", string_field()),
        ("expires_at", string_field()),
        ("subaccount_id", id_field()),
        ("external_id", string_field()),
        ("peliqan_url", string_field()),
        ("dialect", string_field()),
        ("routes", field(routes())),
    ])
}

/// What serde reads of `v` as `T`, `None` if it refuses.
fn by_serde<T: DeserializeOwned>(v: &Value) -> Option<T> {
    serde_json::from_value(v.clone()).ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn servertypes_read_by_hand_as_serde_reads_them(v in servertype()) {
        if let Some(derived) = by_serde::<Servertype>(&v) {
            prop_assert_eq!(answers::servertype(&v), Some(derived.clone()));
            prop_assert_eq!(answers::servertypes(&json!([v])), vec![derived]);
        }
    }

    #[test]
    fn connection_status_reads_as_the_server_type(v in object(vec![
        ("id", id_field()),
        ("status", string_field()),
        ("status_message", string_field()),
    ])) {
        if let Some(server) = by_serde::<Server>(&v) {
            prop_assert_eq!(
                answers::connection_status(&v),
                (server.status, server.status_message)
            );
        }
    }

    #[test]
    fn a_created_connection_reads_as_its_type(v in object(vec![
        ("id", id_field()),
        ("oauth_url", string_field()),
    ])) {
        if let Some(created) = by_serde::<CreatedConnection>(&v) {
            prop_assert_eq!(
                answers::created_connection(&v),
                Some((created.id.0, created.oauth_url))
            );
        }
    }

    #[test]
    fn log_lines_read_as_their_type(v in list(object(vec![
        ("timestamp", string_field()),
        ("level", string_field()),
        ("message", string_field()),
    ]), 4)) {
        if let Some(lines) = by_serde::<Vec<ConnectionLogEntry>>(&v) {
            prop_assert_eq!(answers::connection_logs(&v), lines);
        }
    }

    #[test]
    fn a_token_answer_reads_as_the_token_answer_type(v in token_answer()) {
        if let Some(answer) = by_serde::<TokenAnswer>(&v) {
            prop_assert_eq!(
                answers::token_and_expiry(&v),
                Some((answer.token.as_str(), Some(answer.expires_at.as_str())))
            );
            prop_assert_eq!(answers::token_routing(&v), Ok(answer.routing));
        }
        if let Some(routing) = by_serde::<BrowserRouting>(&v) {
            prop_assert_eq!(answers::token_routing(&v), Ok(routing));
        }
    }

    #[test]
    fn a_problem_body_reads_as_the_problem_type(v in object(vec![
        ("type", string_field()),
        ("title", string_field()),
        ("status", field((400u16..600).prop_map(Value::from))),
        ("detail", string_field()),
        ("code", string_field()),
    ])) {
        if let Some(problem) = by_serde::<Problem>(&v) {
            prop_assert_eq!(
                answers::problem(&v),
                answers::ProblemText {
                    detail: Some(problem.detail),
                    title: Some(problem.title),
                    code: Some(problem.code),
                }
            );
        }
    }

    #[test]
    fn the_script_group_is_picked_from_the_group_type(
        v in list(object(vec![("id", id_field()), ("name", string_field())]), 4),
        name in prop::option::of(text()),
        paged in any::<bool>(),
    ) {
        if let Some(groups) = by_serde::<Vec<Group>>(&v) {
            let expected = groups
                .iter()
                .find(|g| name.is_none() || g.name == name)
                .map(|g| g.id.0);
            let answer = if paged { json!({"count": 1, "results": v}) } else { v };
            prop_assert_eq!(answers::script_group_id(&answer, name.as_deref()), expected);
        }
    }

    /// DRF's two shapes (`detail` text, messages per field) and the
    /// `partner` dialect's `{"error": code, "detail": text or {type,
    /// message, ..}}`.
    #[test]
    fn peliqan_error_bodies_read_as_api_error_body(
        detail in prop::option::of(prop_oneof![
            text().prop_map(Value::from),
            (text(), text()).prop_map(|(t, m)| json!({"type": t, "message": m})),
        ]),
        code in prop::option::of("[a-z_]{1,8}"),
        fields in prop::collection::btree_map(
            "[a-z_]{1,6}",
            prop_oneof![
                text().prop_map(Value::from),
                prop::collection::vec(text(), 0..3).prop_map(Value::from),
            ],
            0..3,
        ),
        status in prop::sample::select(vec![400u16, 401, 403, 404, 422, 500]),
    ) {
        let mut body: Map<String, Value> = fields
            .into_iter()
            .filter(|(k, _)| k != "detail" && k != "error")
            .collect();
        if let Some(d) = detail {
            body.insert("detail".into(), d);
        }
        if let Some(c) = code {
            body.insert("error".into(), c.into());
        }
        let body = Value::Object(body);
        let typed: ApiErrorBody = serde_json::from_value(body.clone()).unwrap();
        let fields: BTreeMap<String, String> =
            typed.fields.iter().map(|(k, m)| (k.clone(), m.joined())).collect();
        let why = if typed.detail.is_some() || typed.error.is_some() {
            typed.message()
        } else {
            let parts: Vec<String> = fields.iter().map(|(k, m)| format!("{k}: {m}")).collect();
            parts.join(", ")
        };
        let e = from_peliqan(status, &body);
        prop_assert_eq!(e.message, format!("Peliqan answered {status}: {why}"));
        let validation = matches!(status, 400 | 422) && !fields.is_empty();
        prop_assert_eq!(e.fields, if validation { fields } else { BTreeMap::new() });
    }

    #[test]
    fn the_connection_body_is_new_connections_json(
        servertype_id in 0u64..1_000_000,
        name in prop::option::of(text()),
        fields in prop::collection::btree_map(
            prop_oneof![text(), Just("name".to_owned()), Just("servertype_id".to_owned())],
            leaf(),
            0..4,
        ),
    ) {
        let connection = NewConnection {
            servertype_id: ServertypeId(servertype_id),
            name,
            fields: fields.into_iter().collect(),
        };
        let derived = serde_json::to_value(&connection).unwrap();
        prop_assert_eq!(Value::Object(new_connection_body(connection)), derived);
    }
}

/// Share of `strategy`'s values that serde accepts as `T`, over 500 draws.
fn accepted<T: DeserializeOwned>(strategy: BoxedStrategy<Value>) -> f64 {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let draws = 500;
    let ok = (0..draws)
        .filter(|_| {
            let v = strategy.new_tree(&mut runner).unwrap().current();
            by_serde::<T>(&v).is_some()
        })
        .count();
    ok as f64 / f64::from(draws)
}

#[test]
fn the_generated_answers_are_often_contract_values() {
    let logs = list(
        object(vec![
            ("timestamp", string_field()),
            ("level", string_field()),
            ("message", string_field()),
        ]),
        4,
    );
    let problem = object(vec![
        ("type", string_field()),
        ("title", string_field()),
        ("status", field((400u16..600).prop_map(Value::from))),
        ("detail", string_field()),
        ("code", string_field()),
    ]);
    for (what, share) in [
        ("servertype", accepted::<Servertype>(servertype())),
        ("log lines", accepted::<Vec<ConnectionLogEntry>>(logs)),
        ("token answer", accepted::<TokenAnswer>(token_answer())),
        ("problem", accepted::<Problem>(problem)),
    ] {
        eprintln!("{what}: {:.0}% accepted", share * 100.0);
        assert!(
            share >= 0.15,
            "{what}: only {share} of the inputs are valid"
        );
    }
}
