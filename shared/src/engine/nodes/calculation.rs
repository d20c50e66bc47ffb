//! `calculation`: evaluates a CEL expression; its result is the node's output.

use async_trait::async_trait;

use super::{cel_problems, engine};
use crate::engine::node::config_str;
use crate::engine::{NodeError, NodeType, Outcome, Problem, RunScope, ValidationCtx};
use crate::model::Node;

/// The `calculation` node type.
pub(crate) struct Calculation;

#[async_trait]
impl NodeType for Calculation {
    fn kind(&self) -> &'static str {
        "calculation"
    }

    fn validate(&self, node: &Node, _ctx: &ValidationCtx) -> Vec<Problem> {
        if let Err(problem) = engine(node, &["cel"], "cel") {
            return vec![problem];
        }
        cel_problems(node)
    }

    async fn run(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let expression = config_str(node, "expression")
            .ok_or_else(|| NodeError::Config("expression must be a string".into()))?;
        scope.cel(expression).map(Outcome::Continue)
    }
}
