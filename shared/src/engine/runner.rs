//! Runs one execution: the main chain in order, branches as nodes choose them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::Instrument;

use super::{
    cel_cache::CelCache,
    error::NodeError,
    node::Outcome,
    registry::Registry,
    scope::{ExecutionMeta, RunScope},
};
use crate::messages::{ExecutionStatus, HttpReply, JobStatus};
use crate::model::{Node, WorkflowDocument};
use crate::problem::Problem;

/// What one node did, in execution order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    /// The node's key.
    pub node_key: String,
    /// The node's type.
    pub node_type: String,
    /// How it ended.
    pub status: JobStatus,
    /// Its output (`{"error": ...}` when it raised).
    pub result: Value,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    /// `resolved`, `failed` or `error`.
    pub status: ExecutionStatus,
    /// Every node that ran, in order.
    pub jobs: Vec<JobRecord>,
    /// The sync reply, when a Response node ran.
    pub response: Option<HttpReply>,
    /// What raised, when the status is `error`.
    pub error: Option<String>,
}

/// Runs workflow versions with a set of node types. Cheap to share: one per process.
pub struct Engine {
    registry: Registry,
    cel: CelCache,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl Engine {
    /// An engine with the built-in node types.
    pub fn new() -> Self {
        Engine::with_registry(Registry::builtin())
    }

    /// An engine with the built-in node types whose request nodes call through `outbound`.
    pub fn with_outbound(outbound: std::sync::Arc<crate::outbound::Outbound>) -> Self {
        Engine::with_registry(Registry::builtin_calling(outbound))
    }

    /// An engine with the given node types.
    pub fn with_registry(registry: Registry) -> Self {
        Engine {
            registry,
            cel: CelCache::default(),
        }
    }

    /// Every problem of `doc` for this engine's node types.
    pub fn validate(&self, doc: &WorkflowDocument) -> Vec<Problem> {
        super::validate::validate_with(&self.registry, doc)
    }

    /// Runs `doc` for one webhook call whose trigger data is `context`.
    pub async fn run(
        &self,
        doc: &WorkflowDocument,
        meta: &ExecutionMeta,
        context: Value,
    ) -> RunResult {
        let mut scope = RunScope::new(meta, context, &self.cel);
        let mut jobs = Vec::new();
        // One iterator per open chain: the innermost branch on top. When a branch runs
        // out, popping it resumes the chain of its branching node after that node.
        let mut chains = vec![doc.nodes.iter()];
        loop {
            let Some(chain) = chains.last_mut() else {
                return finished(ExecutionStatus::Resolved, jobs, None, None);
            };
            let Some(node) = chain.next() else {
                chains.pop();
                continue;
            };
            scope.tick();
            let started_at = Utc::now();
            let outcome = self.run_node(node, &scope).await;
            let finished_at = Utc::now();
            let job = |status, result| JobRecord {
                node_key: node.key.clone(),
                node_type: node.kind.clone(),
                status,
                result,
                started_at,
                finished_at,
            };
            match outcome {
                Ok(Outcome::Continue(output)) => {
                    jobs.push(job(JobStatus::Resolved, output.clone()));
                    scope.record_output(&node.key, output);
                }
                Ok(Outcome::Recorded { output, record }) => {
                    jobs.push(job(JobStatus::Resolved, record));
                    scope.record_output(&node.key, output);
                }
                Ok(Outcome::Branch { name, output }) => {
                    jobs.push(job(JobStatus::Resolved, output.clone()));
                    scope.record_output(&node.key, output);
                    if let Some(branch) = node.branches.get(name) {
                        chains.push(branch.iter());
                    }
                }
                Ok(Outcome::Respond(reply)) => {
                    let output = serde_json::to_value(&reply).unwrap_or(Value::Null);
                    jobs.push(job(JobStatus::Resolved, output));
                    return finished(ExecutionStatus::Resolved, jobs, Some(reply), None);
                }
                Ok(Outcome::End { status, output }) => {
                    jobs.push(job(status.job_status(), output));
                    return finished(status.execution_status(), jobs, None, None);
                }
                Err(err) => {
                    let message = err.to_string();
                    jobs.push(job(JobStatus::Error, json!({"error": message})));
                    let error = format!("node \"{}\" ({}): {message}", node.key, node.kind);
                    return finished(ExecutionStatus::Error, jobs, None, Some(error));
                }
            }
        }
    }

    async fn run_node(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let Some(node_type) = self.registry.get(&node.kind) else {
            return Err(NodeError::UnknownType(node.kind.clone()));
        };
        let span = tracing::info_span!(
            "node",
            otel.name = format!("node {}", node.key),
            hookflow.node.key = %node.key,
            hookflow.node.type = %node.kind,
            otel.status_code = tracing::field::Empty,
            otel.status_description = tracing::field::Empty,
        );
        let outcome = node_type.run(node, scope).instrument(span.clone()).await;
        if let Err(err) = &outcome {
            span.record("otel.status_code", "error");
            span.record("otel.status_description", tracing::field::display(err));
        }
        outcome
    }
}

fn finished(
    status: ExecutionStatus,
    jobs: Vec<JobRecord>,
    response: Option<HttpReply>,
    error: Option<String>,
) -> RunResult {
    RunResult {
        status,
        jobs,
        response,
        error,
    }
}
