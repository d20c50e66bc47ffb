//! Runs one execution: the main chain in order, branches as nodes choose them.

mod chain;
mod looping;
mod parallel;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::Instrument;

use chain::ChainEnd;

use super::{
    env::Env,
    error::NodeError,
    evaluator::{EvalLimits, Evaluator},
    node::Outcome,
    registry::Registry,
    scope::{ExecutionMeta, RunScope},
};
use crate::messages::{ExecutionStatus, HttpReply, JobStatus};
use crate::model::{Node, WorkflowDocument};
use crate::problem::Problem;

/// What one node did, in the order the nodes started.
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
    /// Inside loops: the index of each loop's iteration it ran in, outer loop first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iteration: Vec<usize>,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    /// `resolved`, `failed` or `error`.
    pub status: ExecutionStatus,
    /// Every node that ran, in the order they started (a parallel node's branches one
    /// after the other, in the order of their names).
    pub jobs: Vec<JobRecord>,
    /// The sync reply, when a Response node ran.
    pub response: Option<HttpReply>,
    /// What raised, when the status is `error`.
    pub error: Option<String>,
}

/// Runs workflow versions with a set of node types. Cheap to share: one per process.
pub struct Engine {
    registry: Registry,
    eval: Evaluator,
    max_loop_iterations: u32,
    max_execution_bytes: usize,
}

/// `HOOKFLOW_MAX_LOOP_ITERATIONS` when nothing else is set.
pub const DEFAULT_MAX_LOOP_ITERATIONS: u32 = 1000;

/// `HOOKFLOW_MAX_EXECUTION_BYTES` when nothing else is set: 16 MiB.
pub const DEFAULT_MAX_EXECUTION_BYTES: usize = 16 * 1024 * 1024;

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
            eval: Evaluator::new(EvalLimits::default()),
            max_loop_iterations: DEFAULT_MAX_LOOP_ITERATIONS,
            max_execution_bytes: DEFAULT_MAX_EXECUTION_BYTES,
        }
    }

    /// This engine with other evaluation limits (docs/limits.md).
    pub fn with_limits(self, limits: EvalLimits) -> Self {
        Engine {
            eval: Evaluator::new(limits),
            ..self
        }
    }

    /// Every problem of `doc` for this engine's node types.
    pub fn validate(&self, doc: &WorkflowDocument) -> Vec<Problem> {
        super::validate::validate_with(&self.registry, doc)
    }

    /// At most `limit` iterations per loop node (`HOOKFLOW_MAX_LOOP_ITERATIONS`); a loop
    /// whose target asks for more raises instead of starting.
    pub fn with_max_loop_iterations(mut self, limit: u32) -> Self {
        self.max_loop_iterations = limit;
        self
    }

    /// At most `limit` bytes of job results per execution (`HOOKFLOW_MAX_EXECUTION_BYTES`),
    /// counted as each job finishes across all its loops and parallel branches; the job
    /// that takes the total past it raises.
    pub fn with_max_execution_bytes(mut self, limit: usize) -> Self {
        self.max_execution_bytes = limit;
        self
    }

    /// Runs `doc` for one webhook call whose trigger data is `context`, without variables.
    pub async fn run(
        &self,
        doc: &WorkflowDocument,
        meta: &ExecutionMeta,
        context: Value,
    ) -> RunResult {
        self.run_with_env(doc, meta, context, &Env::default()).await
    }

    /// Runs `doc` with `env` as `$env`. The values of secret variables are masked in the
    /// result (job results, error, response), which is what gets recorded and replied.
    pub async fn run_with_env(
        &self,
        doc: &WorkflowDocument,
        meta: &ExecutionMeta,
        context: Value,
        env: &Env,
    ) -> RunResult {
        let scope =
            RunScope::new(meta, context, &self.eval, self.max_execution_bytes).with_env(env);
        let mut result = self.run_chains(doc, scope).await;
        env.mask_result(&mut result);
        result
    }

    async fn run_chains(&self, doc: &WorkflowDocument, mut scope: RunScope<'_>) -> RunResult {
        let mut jobs = Vec::new();
        let end = self.chain(&doc.nodes, &mut scope, &mut jobs).await;
        let (status, response, error) = match end {
            ChainEnd::Completed => (ExecutionStatus::Resolved, None, None),
            ChainEnd::Responded(reply) => (ExecutionStatus::Resolved, Some(reply), None),
            ChainEnd::Ended(status) => (status.execution_status(), None, None),
            ChainEnd::Raised(error) => (ExecutionStatus::Error, None, Some(error)),
        };
        RunResult {
            status,
            jobs,
            response,
            error,
        }
    }

    async fn run_node(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let Some(node_type) = self.registry.get(&node.kind) else {
            return Err(NodeError::UnknownType(node.kind.clone()));
        };
        scope.check_budget()?;
        scope.check_held()?;
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
            let description = err.to_string();
            span.record(
                "otel.status_description",
                tracing::field::display(scope.mask_str(&description)),
            );
        }
        outcome
    }
}
