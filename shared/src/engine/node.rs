//! The contract of a node type, and what running one can produce.

use async_trait::async_trait;
use serde_json::Value;

use super::{error::NodeError, scope::RunScope};
use crate::messages::{ExecutionStatus, HttpReply, JobStatus};
use crate::model::Node;
use crate::problem::Problem;

/// One kind of node (`condition`, `response`, ...). Implementations hold no per-run state.
#[async_trait]
pub trait NodeType: Send + Sync {
    /// The `type` value of documents that use it.
    fn kind(&self) -> &'static str;

    /// Problems of `node`'s settings, with paths relative to the node (`config.body`).
    /// Template syntax is checked for every node by the validator, not here.
    fn validate(&self, node: &Node, ctx: &ValidationCtx) -> Vec<Problem>;

    /// Runs the node once.
    async fn run(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError>;

    /// Whether the node always ends the workflow, so that nodes after it never run.
    fn terminates(&self, _node: &Node) -> bool {
        false
    }

    /// The branch names the node type can take at all.
    fn branch_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// The branches `node` must declare (possibly as empty chains).
    fn required_branches(&self, _node: &Node) -> &'static [&'static str] {
        &[]
    }
}

/// What validation knows about the workflow around a node.
#[derive(Debug, Clone, Copy)]
pub struct ValidationCtx {
    /// Whether the workflow is sync (a caller waits for a Response node).
    pub sync: bool,
}

/// How a node that ran lets the flow go on.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Go on with the next node; the value is the node's output.
    Continue(Value),
    /// Go on with the next node; later nodes see `output`, while the execution record
    /// keeps `record`, which tells more (a request node's call and its whole answer).
    Recorded {
        /// The node's output.
        output: Value,
        /// What its job records.
        record: Value,
    },
    /// Run the named branch, then the node after this one.
    Branch {
        /// Branch name, e.g. `true`.
        name: &'static str,
        /// The node's output.
        output: Value,
    },
    /// Answer the sync caller and end the workflow as resolved.
    Respond(HttpReply),
    /// End the workflow.
    End {
        /// How it ends.
        status: EndStatus,
        /// The node's output.
        output: Value,
    },
}

/// How an `end` node, a rejected condition or an expired delay ends the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(try_from = "i64")]
pub enum EndStatus {
    /// `endStatus: 1`.
    #[default]
    Resolved,
    /// `endStatus: -1`.
    Failed,
}

impl EndStatus {
    /// The execution status it ends with.
    pub fn execution_status(self) -> ExecutionStatus {
        match self {
            EndStatus::Resolved => ExecutionStatus::Resolved,
            EndStatus::Failed => ExecutionStatus::Failed,
        }
    }

    /// The status of the job that ended the workflow.
    pub fn job_status(self) -> JobStatus {
        match self {
            EndStatus::Resolved => JobStatus::Resolved,
            EndStatus::Failed => JobStatus::Failed,
        }
    }
}

impl TryFrom<i64> for EndStatus {
    type Error = String;

    fn try_from(value: i64) -> Result<Self, String> {
        match value {
            1 => Ok(EndStatus::Resolved),
            -1 => Ok(EndStatus::Failed),
            other => Err(end_status_message(&Value::from(other))),
        }
    }
}

/// What is wrong with an `endStatus` of `value`.
pub(crate) fn end_status_message(value: &Value) -> String {
    format!("endStatus must be 1 (resolved) or -1 (failed), not {value}")
}

/// The error a node raises when its rendered config does not parse.
pub(crate) fn config_error(problems: Vec<Problem>) -> NodeError {
    let message = problems
        .into_iter()
        .map(|problem| problem.message)
        .collect::<Vec<_>>()
        .join("; ");
    NodeError::Config(message)
}
