//! `end`: ends the workflow as resolved (`endStatus: 1`) or failed (`-1`).

use async_trait::async_trait;
use serde_json::Value;

use super::config_problems;
use crate::engine::error::NodeError;
use crate::engine::node::{
    EndStatus, NodeType, Outcome, ValidationCtx, config_error, end_status_message,
};
use crate::engine::scope::RunScope;
use crate::fields::{Fields, Stage};
use crate::model::Node;
use crate::problem::Problem;

/// The `end` node type.
pub(crate) struct End;

/// An end node's settings.
#[derive(Debug)]
pub(crate) struct EndConfig {
    /// How the workflow ends (default resolved).
    status: EndStatus,
}

/// Reads an end node's config.
pub(crate) fn parse(config: &Value, stage: Stage) -> Result<EndConfig, Vec<Problem>> {
    let mut fields = Fields::new(config, stage);
    let status = fields.optional("endStatus", end_status_message);
    fields.finish(|| {
        Some(EndConfig {
            status: status.unwrap_or_default(),
        })
    })
}

#[async_trait]
impl NodeType for End {
    fn kind(&self) -> &'static str {
        "end"
    }

    fn validate(&self, node: &Node, _ctx: &ValidationCtx) -> Vec<Problem> {
        config_problems(parse(&node.config, Stage::Stored))
    }

    async fn run(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let config = parse(&scope.render(&node.config)?, Stage::Rendered).map_err(config_error)?;
        Ok(Outcome::End {
            status: config.status,
            output: Value::Null,
        })
    }

    fn terminates(&self, _node: &Node) -> bool {
        true
    }
}
