//! The contract of a node type, and what running one can produce.

use async_trait::async_trait;
use serde_json::Value;

use super::{Problem, scope::RunScope};
use crate::messages::{ExecutionStatus, HttpReply, JobStatus};
use crate::model::Node;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndStatus {
    /// `endStatus: 1`.
    Resolved,
    /// `endStatus: -1`.
    Failed,
}

impl EndStatus {
    /// Reads an `endStatus` setting; absent means resolved.
    pub fn from_config(value: Option<&Value>) -> Result<Self, String> {
        match value {
            None | Some(Value::Null) => Ok(EndStatus::Resolved),
            Some(v) if v.as_i64() == Some(1) => Ok(EndStatus::Resolved),
            Some(v) if v.as_i64() == Some(-1) => Ok(EndStatus::Failed),
            Some(other) => Err(format!(
                "endStatus must be 1 (resolved) or -1 (failed), not {other}"
            )),
        }
    }

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

/// Why a node raised: its job ends as `error`, and so does the execution.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The document names a type this engine does not know.
    #[error("unknown node type \"{0}\"")]
    UnknownType(String),
    /// A setting is missing or has the wrong shape (after rendering templates).
    #[error("invalid config: {0}")]
    Config(String),
    /// A CEL expression failed to compile or to evaluate.
    #[error("expression failed: {0}")]
    Expression(String),
    /// A basic calculation could not be evaluated.
    #[error("condition failed: {0}")]
    Condition(String),
}

/// The string setting `name` of `node.config`, if it is one.
pub(crate) fn config_str<'a>(node: &'a Node, name: &str) -> Option<&'a str> {
    node.config.get(name).and_then(Value::as_str)
}
