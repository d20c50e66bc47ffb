//! `parallel`: runs its named branches (two or more) at once; its `mode` (all, any, race)
//! decides when it is done and whether it resolved. The runner runs the branches; this
//! module reads the settings.

use async_trait::async_trait;
use serde_json::Value;

use super::config_problems;
use crate::engine::error::NodeError;
use crate::engine::node::{NodeType, Outcome, ParallelMode, ValidationCtx, config_error};
use crate::engine::scope::RunScope;
use crate::fields::{Fields, Stage};
use crate::model::Node;
use crate::problem::Problem;

/// The `parallel` node type.
pub(crate) struct Parallel;

/// Reads a parallel node's config: its `mode`, `all` by default.
pub(crate) fn parse(config: &Value, stage: Stage) -> Result<ParallelMode, Vec<Problem>> {
    let mut fields = Fields::new(config, stage);
    let mode = fields.optional("mode", |value| {
        format!("mode must be \"all\", \"any\" or \"race\", not {value}")
    });
    fields.finish(|| Some(mode.unwrap_or_default()))
}

#[async_trait]
impl NodeType for Parallel {
    fn kind(&self) -> &'static str {
        "parallel"
    }

    fn validate(&self, node: &Node, _ctx: &ValidationCtx) -> Vec<Problem> {
        let mut problems = config_problems(parse(&node.config, Stage::Stored));
        if node.branches.len() < 2 {
            problems.push(Problem::new(
                "branches",
                format!(
                    "a parallel node needs two or more named branches, not {}",
                    node.branches.len()
                ),
            ));
        }
        for name in node.branches.keys() {
            if name.trim().is_empty() {
                problems.push(Problem::new(
                    format!("branches.{name}"),
                    "a branch needs a non-empty name",
                ));
            }
        }
        problems
    }

    async fn run(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let mode = parse(&scope.render(&node.config), Stage::Rendered).map_err(config_error)?;
        Ok(Outcome::Parallel(mode))
    }

    fn accepts_branch(&self, _node: &Node, _name: &str) -> bool {
        true
    }
}
