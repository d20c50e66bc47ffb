//! Loop and parallel nodes through the whole stack: a sync caller answered from inside a
//! parallel branch, and what `GET /api/executions/{id}` shows of loops and stopped branches.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Stack, json_of};

fn sync_workflow(nodes: Value) -> Value {
    json!({"title": "flow", "sync": true, "trigger": {"type": "webhook"}, "nodes": nodes})
}

fn execution_id(response: &reqwest::Response) -> String {
    response.headers()["x-hookflow-execution-id"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// `(nodeKey, status, iteration)` of each job an execution shows.
fn trail(execution: &Value) -> Vec<(String, String, Value)> {
    execution["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|job| {
            (
                job["nodeKey"].as_str().unwrap_or_default().to_owned(),
                job["status"].as_str().unwrap_or_default().to_owned(),
                job.get("iteration").cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

fn job(key: &str, status: &str, iteration: Value) -> (String, String, Value) {
    (key.to_owned(), status.to_owned(), iteration)
}

#[tokio::test]
async fn a_response_inside_a_parallel_branch_answers_the_caller_and_stops_the_rest() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(sync_workflow(json!([
            {"key": "fanout", "type": "parallel", "config": {"mode": "all"}, "branches": {
                "ack": [{"key": "brief", "type": "delay", "config": {"duration": 50}},
                        {"key": "accepted", "type": "response",
                         "config": {"statusCode": 202, "body": {"order": "{{$context.body.id}}", "queued": true}}}],
                "slow": [{"key": "crawl", "type": "delay", "config": {"duration": 20000}}],
            }},
            {"key": "never", "type": "response", "config": {"statusCode": 500}},
        ])))
        .await;
    let started = Instant::now();
    let response = stack.call(&workflow, json!({"id": "ord_9"})).await;
    assert_eq!(response.status(), 202);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered without waiting for the slow branch"
    );
    let id = execution_id(&response);
    assert_eq!(
        json_of(response).await,
        json!({"order": "ord_9", "queued": true})
    );

    let execution = stack.execution(&id).await;
    assert_eq!(execution["status"], "resolved");
    assert_eq!(
        trail(&execution),
        vec![
            job("fanout", "resolved", Value::Null),
            job("brief", "resolved", Value::Null),
            job("accepted", "resolved", Value::Null),
            job("crawl", "aborted", Value::Null),
        ]
    );
    assert_eq!(
        execution["jobs"][0]["result"],
        json!({"ack": "resolved", "slow": "aborted"})
    );
}

#[tokio::test]
async fn loop_iterations_are_shown_per_job_and_feed_the_answer() {
    let stack = Stack::start().await;
    let workflow = stack
        .create_workflow(sync_workflow(json!([
            {"key": "lines", "type": "loop", "config": {"target": "{{$context.body.lines}}"},
             "branches": {"body": [
                {"key": "total", "type": "calculation", "config": {"engine": "cel",
                 "expression": "(has(jobs.total) && scopes.lines.index > 0 ? jobs.total : 0) + scopes.lines.item.qty"}},
             ]}},
            {"key": "answer", "type": "response", "config": {"statusCode": 200,
             "body": {"lines": "{{$jobsMapByNodeKey.lines}}", "qty": "{{$jobsMapByNodeKey.total}}"}}},
        ])))
        .await;
    let response = stack
        .call(
            &workflow,
            json!({"lines": [{"qty": 2}, {"qty": 3}, {"qty": 4}]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let id = execution_id(&response);
    assert_eq!(json_of(response).await, json!({"lines": 3, "qty": 9}));
    let execution = stack.execution(&id).await;
    assert_eq!(
        trail(&execution),
        vec![
            job("lines", "resolved", Value::Null),
            job("total", "resolved", json!([0])),
            job("total", "resolved", json!([1])),
            job("total", "resolved", json!([2])),
            job("answer", "resolved", Value::Null),
        ]
    );
}
