//! `calculation`: evaluates a CEL expression; its result is the node's output.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

use super::{config_problems, engine_message, expression};
use crate::engine::error::NodeError;
use crate::engine::node::{NodeType, Outcome, ValidationCtx, config_error};
use crate::engine::scope::RunScope;
use crate::fields::{Fields, Stage};
use crate::model::Node;
use crate::problem::Problem;

/// The `calculation` node type.
pub(crate) struct Calculation;

/// The only engine a calculation knows.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum CelOnly {
    Cel,
}

/// A calculation node's settings.
#[derive(Debug)]
pub(crate) struct CalculationConfig {
    /// The CEL expression.
    expression: String,
}

/// Reads a calculation node's config.
pub(crate) fn parse(config: &Value, stage: Stage) -> Result<CalculationConfig, Vec<Problem>> {
    let mut fields = Fields::new(config, stage);
    let _: Option<CelOnly> = fields.optional("engine", |v| engine_message(&["cel"], v));
    if fields.has_problems() {
        return fields.finish(|| None);
    }
    let expression = expression(&mut fields);
    fields.finish(|| {
        Some(CalculationConfig {
            expression: expression?,
        })
    })
}

#[async_trait]
impl NodeType for Calculation {
    fn kind(&self) -> &'static str {
        "calculation"
    }

    fn validate(&self, node: &Node, _ctx: &ValidationCtx) -> Vec<Problem> {
        config_problems(parse(&node.config, Stage::Stored))
    }

    async fn run(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let config = parse(&scope.render(&node.config)?, Stage::Rendered).map_err(config_error)?;
        scope.cel(&config.expression).await.map(Outcome::Continue)
    }
}
