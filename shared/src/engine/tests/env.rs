//! `$env` in templates and CEL, and secret values masked in what is recorded.

use serde_json::json;

use super::{doc, meta};
use crate::engine::{Engine, Env};
use crate::messages::ExecutionStatus;

fn env() -> Env {
    Env::new([
        ("SHOP_URL".into(), "https://shop.example".into(), false),
        ("SHOP_TOKEN".into(), "tok-s3cret".into(), true),
    ])
}

#[tokio::test]
async fn templates_and_cel_read_variables_and_secrets_are_masked_in_the_result() {
    let workflow = doc(json!([
        {"key": "len", "type": "calculation",
         "config": {"engine": "cel", "expression": "size(env.SHOP_TOKEN) + size(env.SHOP_URL)"}},
        {"key": "echo", "type": "calculation",
         "config": {"engine": "cel", "expression": "'Bearer ' + env.SHOP_TOKEN"}},
        {"key": "answer", "type": "response", "config": {
            "statusCode": 200,
            "headers": [{"name": "X-Token", "value": "{{$env.SHOP_TOKEN}}"}],
            "body": {"url": "{{$env.SHOP_URL}}/orders", "token": "{{$env.SHOP_TOKEN}}",
                     "missing": "{{$env.NOPE:none}}", "len": "{{$jobsMapByNodeKey.len}}"}}}
    ]));
    let result = Engine::new()
        .run_with_env(&workflow, &meta(), json!({}), &env())
        .await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
    assert_eq!(result.jobs[0].result, json!(10 + 20));
    assert_eq!(result.jobs[1].result, json!("Bearer ********"));
    let reply = result.response.expect("reply");
    assert_eq!(
        reply.body,
        json!({"url": "https://shop.example/orders", "token": "********", "missing": "none", "len": 30})
    );
    assert_eq!(reply.headers[0].value, "********");
    let recorded = serde_json::to_string(&result.jobs).expect("json");
    assert!(!recorded.contains("tok-s3cret"), "{recorded}");
}

#[tokio::test]
async fn an_error_message_does_not_carry_a_secret() {
    let workflow = doc(json!([
        {"key": "boom", "type": "calculation",
         "config": {"engine": "cel", "expression": "int(env.SHOP_TOKEN)"}}
    ]));
    let result = Engine::new()
        .run_with_env(&workflow, &meta(), json!({}), &env())
        .await;
    assert_eq!(result.status, ExecutionStatus::Error);
    let error = result.error.expect("error");
    let recorded = serde_json::to_string(&result.jobs).expect("json");
    assert!(
        !error.contains("tok-s3cret") && !recorded.contains("tok-s3cret"),
        "{error} {recorded}"
    );
}

#[tokio::test]
async fn without_variables_env_is_empty() {
    let workflow = doc(json!([
        {"key": "answer", "type": "response", "config": {"body": "{{$env.SHOP_URL:unset}}"}}
    ]));
    let result = Engine::new().run(&workflow, &meta(), json!({})).await;
    assert_eq!(result.response.expect("reply").body, json!("unset"));
}

fn with_timeout_answer(sync: bool, answer: serde_json::Value) -> crate::model::WorkflowDocument {
    super::document(json!({
        "title": "t", "sync": sync, "trigger": {},
        "options": {"timeout": 100, "timeoutResponse": answer}
    }))
}

#[test]
fn the_validator_checks_the_timeout_answer() {
    use crate::engine::validate_document;
    let good = with_timeout_answer(
        true,
        json!({"statusCode": 202, "headers": [{"name": "X-Id", "value": "{{$execution.id}}"}],
               "body": {"executionId": "{{$execution.id}}", "id": "{{$context.body.id}}"}}),
    );
    assert_eq!(validate_document(&good), vec![]);
    let paths = |doc| -> Vec<String> {
        let mut paths: Vec<String> = validate_document(&doc)
            .into_iter()
            .map(|problem| problem.path)
            .collect();
        paths.sort();
        paths
    };
    assert_eq!(
        paths(with_timeout_answer(false, json!({"statusCode": 202}))),
        ["options.timeoutResponse"]
    );
    assert_eq!(
        paths(with_timeout_answer(
            true,
            json!({"statusCode": 99, "headers": [{"name": "bad name", "value": "{{x"}],
                   "body": {"a": "{{$context.body.}"}})
        )),
        [
            "options.timeoutResponse.body.a",
            "options.timeoutResponse.headers[0].name",
            "options.timeoutResponse.headers[0].value",
            "options.timeoutResponse.statusCode",
        ]
    );
}
