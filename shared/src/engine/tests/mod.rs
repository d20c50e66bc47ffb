//! Engine tests: documents in, jobs and replies out, no service involved.

mod run;
mod validate;

use serde_json::{Value, json};
use uuid::Uuid;

use super::{Engine, ExecutionMeta, RunResult};
use crate::model::WorkflowDocument;

fn doc(nodes: Value) -> WorkflowDocument {
    document(json!({"title": "t", "sync": true, "trigger": {}, "nodes": nodes}))
}

fn document(value: Value) -> WorkflowDocument {
    serde_json::from_value(value).expect("workflow document")
}

fn meta() -> ExecutionMeta {
    ExecutionMeta {
        execution_id: Uuid::now_v7(),
        workflow_id: Uuid::now_v7(),
        workflow_key: "abcdefghijk".into(),
    }
}

async fn run(doc: &WorkflowDocument, context: Value) -> RunResult {
    Engine::new().run(doc, &meta(), context).await
}

/// `(key, status)` of every job, in execution order.
fn trail(result: &RunResult) -> Vec<(String, &'static str)> {
    result
        .jobs
        .iter()
        .map(|job| (job.node_key.clone(), job.status.as_str()))
        .collect()
}

fn keys(pairs: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
    pairs.iter().map(|(k, s)| ((*k).to_owned(), *s)).collect()
}

/// The payment callback of SPEC §3.
fn payment() -> WorkflowDocument {
    document(json!({
      "title": "Payment callback",
      "sync": true,
      "enabled": true,
      "trigger": {
        "type": "webhook",
        "basicAuthentication": {"username": "shop", "password": "s3cret"},
        "request": {
          "headers": [{"key": "X-Request-Id"}],
          "query":   [{"key": "source", "alias": "Source"}],
          "body":    [{"key": "id"}, {"key": "status"}, {"key": "amount", "alias": "Amount"}]
        },
        "response": {"statusCode": 200, "body": "ok"}
      },
      "options": {"timeout": 5000},
      "nodes": [
        {"key": "paid", "type": "condition",
         "config": {"rejectOnFalse": false, "engine": "basic",
                    "calculation": {"group": {"type": "and", "calculations": [
                      {"calculator": "equal", "operands": ["{{$context.body.status}}", "paid"]}]}}},
         "branches": {
           "true":  [{"key": "ok",  "type": "response", "config": {"statusCode": 200, "body": {"code": 0, "id": "{{$context.body.id}}"}}}],
           "false": [{"key": "bad", "type": "response", "config": {"statusCode": 400, "body": {"code": 1, "message": "not paid"}}}]
         }}
      ]
    }))
}
