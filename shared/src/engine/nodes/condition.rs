//! `condition`: a boolean from a basic calculation or a CEL expression; runs the `true` or
//! `false` branch, or fails the workflow on false with `rejectOnFalse`.

use async_trait::async_trait;
use serde_json::Value;

use super::{cel_problems, engine};
use crate::condition;
use crate::engine::node::config_str;
use crate::engine::{EndStatus, NodeError, NodeType, Outcome, Problem, RunScope, ValidationCtx};
use crate::model::Node;

const ENGINES: &[&str] = &["basic", "cel"];

/// The `condition` node type.
pub(crate) struct Condition;

fn rejects_on_false(node: &Node) -> bool {
    node.config.get("rejectOnFalse").and_then(Value::as_bool) == Some(true)
}

#[async_trait]
impl NodeType for Condition {
    fn kind(&self) -> &'static str {
        "condition"
    }

    fn validate(&self, node: &Node, _ctx: &ValidationCtx) -> Vec<Problem> {
        let mut problems = Vec::new();
        match node.config.get("rejectOnFalse") {
            None | Some(Value::Null | Value::Bool(_)) => {}
            Some(_) => problems.push(Problem::new(
                "config.rejectOnFalse",
                "rejectOnFalse must be true or false",
            )),
        }
        match engine(node, ENGINES, "basic") {
            Ok("cel") => problems.extend(cel_problems(node)),
            Ok(_) => {
                let calculation = node.config.get("calculation").unwrap_or(&Value::Null);
                problems.extend(
                    condition::validate(calculation)
                        .into_iter()
                        .map(|message| Problem::new("config.calculation", message)),
                );
            }
            Err(problem) => problems.push(problem),
        }
        problems
    }

    async fn run(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let engine = engine(node, ENGINES, "basic").map_err(|p| NodeError::Config(p.message))?;
        let result = if engine == "cel" {
            let expression = config_str(node, "expression")
                .ok_or_else(|| NodeError::Config("expression must be a string".into()))?;
            scope.cel_bool(expression)?
        } else {
            let calculation = node.config.get("calculation").unwrap_or(&Value::Null);
            condition::evaluate(&scope.render(calculation))
                .map_err(|e| NodeError::Condition(e.to_string()))?
        };
        if !result && rejects_on_false(node) {
            return Ok(Outcome::End {
                status: EndStatus::Failed,
                output: Value::Bool(false),
            });
        }
        Ok(Outcome::Branch {
            name: if result { "true" } else { "false" },
            output: Value::Bool(result),
        })
    }

    fn branch_names(&self) -> &'static [&'static str] {
        &["true", "false"]
    }

    fn required_branches(&self, node: &Node) -> &'static [&'static str] {
        if rejects_on_false(node) {
            &[]
        } else {
            &["true", "false"]
        }
    }
}
