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

    /// Whether `node` may have a branch called `name` (by default: one of [`branch_names`]).
    ///
    /// [`branch_names`]: NodeType::branch_names
    fn accepts_branch(&self, _node: &Node, name: &str) -> bool {
        self.branch_names().contains(&name)
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
    /// Run `branches.body` once per iteration of the plan (a `loop` node).
    Loop(LoopPlan),
    /// Run every branch at once and go on as the mode decides (a `parallel` node).
    Parallel(ParallelMode),
}

/// What a loop node runs over, as its rendered `target` decides.
#[derive(Debug, Clone, PartialEq)]
pub enum LoopTarget {
    /// An array: one iteration per item.
    Items(Vec<Value>),
    /// A number: that many iterations, each with its index as the item.
    Times(u64),
    /// Anything else: one iteration with the value as the item.
    Once(Value),
}

impl LoopTarget {
    /// How many iterations the target asks for.
    pub fn len(&self) -> u64 {
        match self {
            LoopTarget::Items(items) => items.len() as u64,
            LoopTarget::Times(times) => *times,
            LoopTarget::Once(_) => 1,
        }
    }

    /// Whether it asks for no iteration at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The item of iteration `index`.
    pub fn item(&self, index: usize) -> Value {
        match self {
            LoopTarget::Items(items) => items.get(index).cloned().unwrap_or(Value::Null),
            LoopTarget::Times(_) => Value::from(index),
            LoopTarget::Once(value) => value.clone(),
        }
    }
}

/// What a loop does after an iteration failed (`exit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoopExit {
    /// The workflow fails.
    #[default]
    Fail,
    /// Leave the loop and go on after it.
    Break,
    /// Go on with the next item.
    Continue,
}

/// How a loop node runs, decided from its rendered settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopPlan {
    /// What to iterate over.
    pub target: LoopTarget,
    /// The `condition` settings as stored (rendered again before each iteration, when
    /// `$scopes` holds that iteration's item); `None`: no condition.
    pub condition: Option<Value>,
    /// What a failed iteration does.
    pub exit: LoopExit,
}

/// How a parallel node's branches decide its outcome (`mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParallelMode {
    /// Resolves when every branch resolved; fails as soon as one fails.
    #[default]
    All,
    /// Resolves as soon as one branch resolved; fails when all failed.
    Any,
    /// The first branch to finish decides.
    Race,
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
