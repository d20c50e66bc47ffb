use serde_json::{Value, json};

use super::{doc, document, payment};
use crate::engine::validate_document;

/// The paths of every problem, sorted.
fn paths(value: &crate::model::WorkflowDocument) -> Vec<String> {
    let mut paths: Vec<String> = validate_document(value)
        .into_iter()
        .map(|problem| problem.path)
        .collect();
    paths.sort();
    paths
}

fn respond(key: &str) -> Value {
    json!({"key": key, "type": "response", "config": {"body": "ok"}})
}

#[test]
fn the_payment_example_is_valid() {
    assert_eq!(validate_document(&payment()), vec![]);
}

#[test]
fn unknown_types_are_named() {
    let problems = validate_document(&doc(json!([{"key": "a", "type": "teleport"}])));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "nodes[0].type");
    assert!(problems[0].message.contains("teleport"));
}

#[test]
fn duplicate_keys_are_found_across_branches() {
    let workflow = doc(json!([
        {"key": "same", "type": "condition", "config": {"engine": "cel", "expression": "true"},
         "branches": {"true": [{"key": "same", "type": "calculation", "config": {"expression": "1"}}],
                      "false": []}},
    ]));
    let problems = validate_document(&workflow);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, "nodes[0].branches.true[0].key");
    assert!(problems[0].message.contains("nodes[0]"));
}

#[test]
fn response_nodes_need_a_sync_workflow() {
    let workflow =
        document(json!({"title": "t", "sync": false, "trigger": {}, "nodes": [respond("r")]}));
    assert_eq!(paths(&workflow), vec!["nodes[0]"]);
    let workflow =
        document(json!({"title": "t", "sync": true, "trigger": {}, "nodes": [respond("r")]}));
    assert_eq!(paths(&workflow), Vec::<String>::new());
}

#[test]
fn conditions_without_reject_on_false_need_both_branches() {
    let workflow = doc(json!([
        {"key": "c", "type": "condition", "config": {"engine": "cel", "expression": "true"},
         "branches": {"true": []}},
        {"key": "gate", "type": "condition",
         "config": {"rejectOnFalse": true, "engine": "cel", "expression": "true"}},
    ]));
    assert_eq!(paths(&workflow), vec!["nodes[0].branches.false"]);
}

#[test]
fn branches_a_type_does_not_have_are_problems() {
    let workflow = doc(json!([
        {"key": "r", "type": "response", "branches": {"true": [{"key": "x", "type": "end"}]}},
    ]));
    assert_eq!(paths(&workflow), vec!["nodes[0].branches.true"]);
}

#[test]
fn templates_that_do_not_parse_are_found_in_nodes_and_trigger() {
    let bad = "{{$context.body.id";
    let workflow = document(json!({
        "title": "t", "sync": true,
        "trigger": {"response": {"body": {"x": bad}, "headers": [{"name": "X-A", "value": bad}]},
                    "idempotencyKey": bad},
        "nodes": [{"key": "c", "type": "condition", "config": {"engine": "cel", "expression": "true"},
                   "branches": {"true": [{"key": "r", "type": "response", "config": {"body": {"id": bad}}}],
                                "false": []}}]
    }));
    let found = paths(&workflow);
    assert!(
        found.contains(&"nodes[0].branches.true[0].config.body.id".to_owned()),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p.starts_with("trigger.response.body")),
        "{found:?}"
    );
    assert!(
        found.contains(&"trigger.response.headers[0].value".to_owned()),
        "{found:?}"
    );
    assert!(
        found.contains(&"trigger.idempotencyKey".to_owned()),
        "{found:?}"
    );
}

#[test]
fn cel_that_does_not_compile_is_a_problem() {
    let workflow = doc(json!([
        {"key": "c", "type": "calculation", "config": {"engine": "cel", "expression": "1 +"}},
        {"key": "d", "type": "calculation", "config": {"engine": "math.js", "expression": "1"}},
        {"key": "e", "type": "calculation", "config": {}},
    ]));
    assert_eq!(
        paths(&workflow),
        vec![
            "nodes[0].config.expression",
            "nodes[1].config.engine",
            "nodes[2].config.expression"
        ]
    );
}

#[test]
fn bad_basic_calculations_are_problems() {
    let workflow = doc(json!([
        {"key": "c", "type": "condition", "config": {"rejectOnFalse": true, "engine": "basic",
            "calculation": {"group": {"type": "and", "calculations": [
                {"calculator": "resembles", "operands": [1, 2]}]}}}},
    ]));
    let problems = validate_document(&workflow);
    assert!(!problems.is_empty());
    assert!(
        problems
            .iter()
            .all(|p| p.path == "nodes[0].config.calculation"),
        "{problems:?}"
    );
}

#[test]
fn nodes_after_a_terminating_node_are_unreachable() {
    let workflow = doc(json!([
        {"key": "c", "type": "condition", "config": {"engine": "cel", "expression": "true"},
         "branches": {"true": [{"key": "stop", "type": "end", "config": {"endStatus": -1}},
                               {"key": "late", "type": "calculation", "config": {"expression": "1"}}],
                      "false": [respond("r"), respond("r2")]}},
        {"key": "fine", "type": "calculation", "config": {"expression": "1"}},
    ]));
    assert_eq!(
        paths(&workflow),
        vec!["nodes[0].branches.false[1]", "nodes[0].branches.true[1]"]
    );
}

#[test]
fn settings_of_each_type_are_checked() {
    let workflow = doc(json!([
        {"key": "a", "type": "end", "config": {"endStatus": 0}},
        {"key": "b", "type": "delay", "config": {"duration": -5, "endStatus": 2}},
        {"key": "c", "type": "response", "config": {"statusCode": 99, "headers": [{"name": "bad name", "value": 1}]}},
        {"key": "d", "type": "condition", "config": {"rejectOnFalse": "yes", "engine": "cel", "expression": "true"},
         "branches": {"true": [], "false": []}},
        {"key": "", "type": "end"},
        {"key": "f", "type": "delay", "config": {"duration": 24 * 3600 * 1000}},
        {"key": "g", "type": "end", "config": "resolved"},
    ]));
    let found = paths(&workflow);
    for expected in [
        "nodes[0].config.endStatus",
        "nodes[1].config.duration",
        "nodes[1].config.endStatus",
        "nodes[2].config.statusCode",
        "nodes[2].config.headers[0].name",
        "nodes[2].config.headers[0].value",
        "nodes[3].config.rejectOnFalse",
        "nodes[4].key",
        "nodes[5].config.duration",
        "nodes[6].config",
    ] {
        assert!(
            found.contains(&expected.to_owned()),
            "{expected} missing from {found:?}"
        );
    }
}

#[test]
fn trigger_status_codes_must_be_http_answers() {
    let workflow = document(json!({"title": "t", "trigger": {"response": {"statusCode": 700}}}));
    assert_eq!(paths(&workflow), vec!["trigger.response.statusCode"]);
}

#[test]
fn request_nodes_are_checked_where_they_are_and_their_templates_parse() {
    let workflow = doc(json!([
        {"key": "ok", "type": "request", "config": {"url": "https://api.example.com/{{$context.body.id}}"}},
        {"key": "c", "type": "condition", "config": {"engine": "cel", "expression": "true"},
         "branches": {"true": [
            {"key": "noUrl", "type": "request", "config": {"method": "get"}},
            {"key": "badTemplate", "type": "request",
             "config": {"url": "https://api.example.com/", "data": {"id": "{{$context.body.id"}}},
         ], "false": []}},
    ]));
    assert_eq!(
        paths(&workflow),
        vec![
            "nodes[1].branches.true[0].config.method",
            "nodes[1].branches.true[0].config.url",
            "nodes[1].branches.true[1].config.data.id",
        ]
    );
}

#[test]
fn loop_and_parallel_documents_of_the_docs_shape_are_valid() {
    let workflow = doc(json!([
        {"key": "each", "type": "loop",
         "config": {"target": "{{$context.body.items}}", "exit": "continue",
                    "condition": {"engine": "cel", "expression": "scopes.each.index < 10"}},
         "branches": {"body": [
            {"key": "fan", "type": "parallel", "config": {"mode": "any"},
             "branches": {"shop": [{"key": "x", "type": "calculation", "config": {"expression": "1"}}],
                          "crm": []}}]}},
        {"key": "count", "type": "loop", "config": {"target": 3, "condition": false},
         "branches": {"body": []}},
    ]));
    assert_eq!(validate_document(&workflow), vec![]);
}

#[test]
fn loop_settings_and_branches_are_checked() {
    let workflow = doc(json!([
        {"key": "a", "type": "loop", "config": {}},
        {"key": "b", "type": "loop", "config": {"target": -1, "exit": "retry", "condition": "yes"},
         "branches": {"body": [], "else": []}},
        {"key": "c", "type": "loop", "config": {"target": [1],
                                                "condition": {"engine": "cel", "expression": "1 +"}},
         "branches": {"body": []}},
        {"key": "d", "type": "loop", "config": {"target": 2.5}, "branches": {"body": []}},
    ]));
    assert_eq!(
        paths(&workflow),
        vec![
            "nodes[0].branches.body",
            "nodes[0].config.target",
            "nodes[1].branches.else",
            "nodes[1].config.condition",
            "nodes[1].config.exit",
            "nodes[1].config.target",
            "nodes[2].config.condition.expression",
            "nodes[3].config.target",
        ]
    );
}

#[test]
fn parallel_nodes_need_two_branches_and_a_known_mode() {
    let workflow = doc(json!([
        {"key": "one", "type": "parallel", "config": {"mode": "all"}, "branches": {"only": []}},
        {"key": "none", "type": "parallel"},
        {"key": "odd", "type": "parallel", "config": {"mode": "some"},
         "branches": {"a": [], "b": [], "": []}},
    ]));
    assert_eq!(
        paths(&workflow),
        vec![
            "nodes[0].branches",
            "nodes[1].branches",
            "nodes[2].branches.",
            "nodes[2].config.mode"
        ]
    );
}

#[test]
fn nested_chains_follow_the_rules_of_every_chain() {
    let workflow = document(
        json!({"title": "t", "sync": false, "trigger": {}, "nodes": [
            {"key": "l", "type": "loop", "config": {"target": 1}, "branches": {"body": [
                {"key": "stop", "type": "end"},
                {"key": "late", "type": "calculation", "config": {"expression": "{{oops"}},
            ]}},
            {"key": "p", "type": "parallel", "branches": {
                "a": [respond("r")],
                "b": [{"key": "stop", "type": "end"}],
            }},
        ]}),
    );
    let found = paths(&workflow);
    assert_eq!(
        found,
        vec![
            "nodes[0].branches.body[1]",
            "nodes[0].branches.body[1].config.expression",
            "nodes[1].branches.a[0]",
            "nodes[1].branches.b[0].key",
        ],
        "unreachable node, template, response in an async workflow, duplicate key"
    );
}
