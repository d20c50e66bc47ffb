//! Properties of the parsers that read what callers send (query strings and form bodies,
//! JSON bodies within their shape limits, templates and conditions), checked on generated
//! input: they never panic, limits always hold, and what `qs` writes it reads back.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use shared::shape::{JsonShapeError, ShapeLimits};
use shared::{condition, qs, template};

/// Keys `qs` keeps as they are: lower-case words, so neither `Object.prototype` names
/// (`toString`, `__proto__`) nor integer-like (those sort first in a JavaScript object).
fn key() -> impl Strategy<Value = String> {
    "[a-z][a-z_]{0,6}"
}

/// Any text, written back percent-encoded.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,8}", "[a-z0-9 +&=%\\[\\]]{0,8}"]
}

/// Objects of strings, non-empty arrays (below `qs`'s array limit) and objects, nested at
/// most four levels under the top (`qs` reads five).
fn nested() -> impl Strategy<Value = Value> {
    let leaf = text().prop_map(Value::String);
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 1..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn top_level() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(key(), nested(), 1..4).prop_map(|map| map.into_iter().collect())
}

/// What `qs.stringify` writes for `value` under `prefix` (indexes for arrays).
fn write(prefix: &str, value: &Value, pairs: &mut Vec<String>) {
    match value {
        Value::String(text) => pairs.push(format!("{prefix}={}", encode(text))),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                write(&format!("{prefix}[{i}]"), item, pairs);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                write(&format!("{prefix}[{key}]"), item, pairs);
            }
        }
        other => panic!("not generated: {other}"),
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Values as the shape limits count them: every value, and every object key.
fn values(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(values).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(|v| 1 + values(v)).sum::<usize>(),
        _ => 1,
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,4}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,3}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn what_qs_writes_it_reads_back(object in top_level()) {
        let mut pairs = Vec::new();
        for (key, value) in &object {
            write(key, value, &mut pairs);
        }
        let query = pairs.join("&");
        prop_assert_eq!(qs::parse_query(&query), Value::Object(object), "{}", query);
    }

    #[test]
    fn any_query_string_parses_to_an_object(input in ".{0,64}") {
        prop_assert!(qs::parse_query(&input).is_object());
    }

    #[test]
    fn bracket_soup_parses_to_an_object(input in "[a-c0-9\\[\\]=&%5BD]{0,40}") {
        prop_assert!(qs::parse_query(&input).is_object());
    }

    #[test]
    fn json_bodies_pass_exactly_when_within_both_limits(
        value in json_value(),
        max_depth in 0usize..8,
        max_values in 1usize..80,
    ) {
        let limits = ShapeLimits { max_depth, max_values };
        let text = serde_json::to_vec(&value).expect("json");
        let within = depth(&value) <= max_depth && values(&value) <= max_values;
        match limits.parse_json(&text) {
            Ok(parsed) => {
                prop_assert!(within, "accepted past a limit");
                prop_assert_eq!(parsed, value);
            }
            Err(JsonShapeError::Shape(_)) => prop_assert!(!within, "refused within the limits"),
            Err(JsonShapeError::Syntax(err)) => prop_assert!(false, "{}", err),
        }
    }

    #[test]
    fn templates_render_without_panicking(template in ".{0,40}", extra in "[{}$.a-z:]{0,20}") {
        let template = format!("{template}{extra}");
        let scope = json!({"$context": {"body": {"a": [1, {"b": "c"}]}}, "$env": {"A": "x"}});
        let _ = template::check(&template);
        let rendered = template::render_str(&template, &scope);
        if !template.contains("{{") {
            prop_assert_eq!(rendered, Value::String(template));
        }
    }

    #[test]
    fn conditions_evaluate_or_refuse_without_panicking(calculation in json_value()) {
        let _ = condition::evaluate(&calculation);
        let _ = condition::evaluate(&json!({"group": calculation}));
    }
}
