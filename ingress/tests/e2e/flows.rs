//! Sync workflows answering callers: docs/workflows.md's payment example, statuses without a
//! Response node, timeouts, conditions, branches, CEL and template variables.

use shared::fixtures::payment_callback;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Stack, json_of};

/// A sync workflow whose main chain is `nodes`.
fn sync_workflow(nodes: Value) -> Value {
    json!({"title": "flow", "sync": true, "trigger": {"type": "webhook"}, "nodes": nodes})
}

#[tokio::test]
async fn the_payment_example_answers_by_status() {
    let stack = Stack::start().await;
    let workflow = stack.create_workflow(payment_callback()).await;
    let url = stack.webhook(&workflow.key);
    let pay = |body: Value| {
        stack
            .http
            .post(&url)
            .basic_auth("shop", Some("s3cret"))
            .header("X-Request-Id", "r-1")
            .json(&body)
            .send()
    };
    let paid = pay(json!({"id": 1001, "status": "paid", "amount": 25}))
        .await
        .expect("call");
    assert_eq!(paid.status(), 200);
    assert_eq!(json_of(paid).await, json!({"code": 0, "id": 1001}));

    let unpaid = pay(json!({"id": 1002, "status": "pending"}))
        .await
        .expect("call");
    assert_eq!(unpaid.status(), 400);
    assert_eq!(
        json_of(unpaid).await,
        json!({"code": 1, "message": "not paid"})
    );

    let executions = stack.finished_executions(&workflow, 2).await;
    assert!(
        executions.iter().all(|e| e["status"] == "resolved"),
        "{executions:?}"
    );
}

#[tokio::test]
async fn without_a_response_node_the_status_is_reported() {
    let stack = Stack::start().await;
    let resolves = stack.create_workflow(sync_workflow(json!([]))).await;
    let response = stack.call(&resolves, json!({})).await;
    assert_eq!(response.status(), 200);
    let body = json_of(response).await;
    assert_eq!(body["status"], "resolved");
    let id = body["executionId"]
        .as_str()
        .expect("executionId")
        .to_owned();
    assert_eq!(stack.execution(&id).await["status"], "resolved");

    let fails = stack
        .create_workflow(sync_workflow(json!([
            {"key": "stop", "type": "end", "config": {"endStatus": -1}}
        ])))
        .await;
    let response = stack.call(&fails, json!({})).await;
    assert_eq!(response.status(), 500);
    let body = json_of(response).await;
    assert_eq!(body["status"], "failed");
    assert!(body["executionId"].is_string());
}

#[tokio::test]
async fn a_slow_sync_workflow_is_408_and_still_recorded() {
    let stack = Stack::start().await;
    let mut document = sync_workflow(json!([
        {"key": "wait", "type": "delay", "config": {"duration": 1500, "endStatus": 1}},
        {"key": "late", "type": "response", "config": {"statusCode": 200, "body": "late"}}
    ]));
    document["options"] = json!({"timeout": 300});
    let workflow = stack.create_workflow(document).await;
    let started = Instant::now();
    let response = stack.call(&workflow, json!({})).await;
    assert_eq!(response.status(), 408);
    assert!(started.elapsed() < Duration::from_millis(1500));
    let id = response.headers()["x-hookflow-execution-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(json_of(response).await["error"], "timeout");
    let executions = stack.finished_executions(&workflow, 1).await;
    assert_eq!(executions.len(), 1);
    assert_eq!(
        executions[0]["id"],
        id.as_str(),
        "the 408 names the execution"
    );
    assert_eq!(executions[0]["status"], "resolved", "{executions:?}");
}

#[tokio::test]
async fn reject_on_false_fails_the_workflow() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(sync_workflow(json!([
            {"key": "gate", "type": "condition", "config": {"rejectOnFalse": true, "engine": "basic",
              "calculation": {"group": {"type": "and", "calculations": [
                {"calculator": "gt", "operands": ["{{$context.body.amount}}", 100]}]}}}},
            {"key": "pass", "type": "response", "config": {"statusCode": 200, "body": {"passed": true}}}
        ])))
        .await;
    let big = stack.call(&workflow, json!({"amount": "150"})).await;
    assert_eq!(big.status(), 200);
    assert_eq!(json_of(big).await, json!({"passed": true}));
    let small = stack.call(&workflow, json!({"amount": 5})).await;
    assert_eq!(small.status(), 500);
    assert_eq!(json_of(small).await["status"], "failed");
}

#[tokio::test]
async fn branches_rejoin_the_main_chain() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(sync_workflow(json!([
            {"key": "vip", "type": "condition", "config": {"engine": "basic",
              "calculation": {"group": {"type": "and", "calculations": [
                {"calculator": "equal", "operands": ["{{$context.body.tier}}", "gold"]}]}}},
             "branches": {
               "true":  [{"key": "yes", "type": "calculation", "config": {"engine": "cel", "expression": "'gold path'"}}],
               "false": [{"key": "no",  "type": "calculation", "config": {"engine": "cel", "expression": "'plain path'"}}]
             }},
            {"key": "after", "type": "response", "config": {"statusCode": 200, "body": {
              "path": "{{$jobsMapByNodeKey.yes}}{{$jobsMapByNodeKey.no}}", "rejoined": true}}}
        ])))
        .await;
    for (tier, path) in [("gold", "gold path"), ("silver", "plain path")] {
        let response = stack.call(&workflow, json!({"tier": tier})).await;
        assert_eq!(response.status(), 200, "{tier}");
        assert_eq!(
            json_of(response).await,
            json!({"path": path, "rejoined": true})
        );
    }
}

#[tokio::test]
async fn cel_conditions_and_calculations() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(sync_workflow(json!([
            {"key": "big", "type": "condition",
             "config": {"engine": "cel", "expression": "context.body.kind == 'bulk' && size(context.body.items) > 1"},
             "branches": {
               "true": [{"key": "sum", "type": "calculation",
                         "config": {"engine": "cel", "expression": "context.body.items[0] + context.body.items[1]"}},
                        {"key": "bulk", "type": "response", "config": {"statusCode": 200,
                         "body": {"total": "{{$jobsMapByNodeKey.sum}}"}}}],
               "false": [{"key": "single", "type": "response", "config": {"statusCode": 422, "body": "not bulk"}}]
             }}
        ])))
        .await;
    let bulk = stack
        .call(&workflow, json!({"kind": "bulk", "items": [20, 22]}))
        .await;
    assert_eq!(bulk.status(), 200);
    assert_eq!(json_of(bulk).await["total"].as_f64(), Some(42.0));
    let single = stack
        .call(&workflow, json!({"kind": "one", "items": [1]}))
        .await;
    assert_eq!(single.status(), 422);
    assert_eq!(single.text().await.expect("body"), "not bulk");
}

#[tokio::test]
async fn headers_query_and_form_body_reach_templates() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(json!({
            "title": "variables",
            "sync": true,
            "trigger": {"type": "webhook", "request": {"headers": [{"key": "X-Request-Id"}]}},
            "nodes": [{"key": "echo", "type": "response", "config": {"statusCode": 200, "body": {
                "requestId": "{{$context.headers.x-request-id}}",
                "ab": "{{$context.query.a.b}}",
                "name": "{{$context.body.name}}",
                "tags": "{{$context.body.tags}}",
                "auth": "{{$context.headers.authorization}}"}}}],
        }))
        .await;
    let response = stack
        .http
        .post(format!("{}?a[b]=1", stack.webhook(&workflow.key)))
        .header("X-Request-Id", "req-42")
        .header("Authorization", "Bearer must-not-leak")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Ann+Lee&tags[]=x&tags[]=y")
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), 200);
    let body = json_of(response).await;
    assert_eq!(body["requestId"], "req-42");
    assert_eq!(body["ab"], "1");
    assert_eq!(body["name"], "Ann Lee");
    assert_eq!(body["tags"], json!(["x", "y"]));
    assert!(!body.to_string().contains("must-not-leak"), "{body}");
}
