//! `end`: ends the workflow as resolved (`endStatus: 1`) or failed (`-1`).

use async_trait::async_trait;
use serde_json::Value;

use crate::engine::{EndStatus, NodeError, NodeType, Outcome, Problem, RunScope, ValidationCtx};
use crate::model::Node;

/// The `end` node type.
pub(crate) struct End;

#[async_trait]
impl NodeType for End {
    fn kind(&self) -> &'static str {
        "end"
    }

    fn validate(&self, node: &Node, _ctx: &ValidationCtx) -> Vec<Problem> {
        match EndStatus::from_config(node.config.get("endStatus")) {
            Ok(_) => Vec::new(),
            Err(message) => vec![Problem::new("config.endStatus", message)],
        }
    }

    async fn run(&self, node: &Node, _scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let status =
            EndStatus::from_config(node.config.get("endStatus")).map_err(NodeError::Config)?;
        Ok(Outcome::End {
            status,
            output: Value::Null,
        })
    }

    fn terminates(&self, _node: &Node) -> bool {
        true
    }
}
