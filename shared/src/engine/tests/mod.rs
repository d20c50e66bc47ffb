//! Engine tests: documents in, jobs and replies out, no service involved.

mod env;
mod loops;
mod parallel;
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

/// `(key, status, iteration)` of every job, in the order they started.
fn iterations(result: &RunResult) -> Vec<(String, &'static str, Vec<usize>)> {
    result
        .jobs
        .iter()
        .map(|job| {
            (
                job.node_key.clone(),
                job.status.as_str(),
                job.iteration.clone(),
            )
        })
        .collect()
}

/// A calculation node with a CEL `expression`.
fn calc(key: &str, expression: &str) -> Value {
    json!({"key": key, "type": "calculation", "config": {"engine": "cel", "expression": expression}})
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

/// The payment callback of docs/workflows.md.
fn payment() -> WorkflowDocument {
    document(crate::fixtures::payment_callback())
}
