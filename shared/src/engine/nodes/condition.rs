//! `condition`: a boolean from a basic calculation or a CEL expression; runs the `true` or
//! `false` branch, or fails the workflow on false with `rejectOnFalse`.

use async_trait::async_trait;
use serde_json::Value;

use super::{ConditionEngine, config_problems, engine_message, expression};
use crate::condition;
use crate::engine::error::NodeError;
use crate::engine::node::{EndStatus, NodeType, Outcome, ValidationCtx, config_error};
use crate::engine::scope::RunScope;
use crate::fields::{Fields, Stage};
use crate::model::Node;
use crate::problem::Problem;

/// The `condition` node type.
pub(crate) struct Condition;

/// How a condition node decides.
#[derive(Debug)]
pub(crate) enum Test {
    /// `engine: "basic"`: a basic `calculation` (a group of comparisons).
    Basic(Value),
    /// `engine: "cel"`: a CEL `expression` yielding a boolean.
    Cel(String),
}

impl Test {
    /// Whether the (rendered) test holds.
    pub(crate) fn holds(&self, scope: &RunScope<'_>) -> Result<bool, NodeError> {
        match self {
            Test::Cel(expression) => scope.cel_bool(expression),
            Test::Basic(calculation) => {
                condition::evaluate(calculation).map_err(|e| NodeError::Condition(e.to_string()))
            }
        }
    }
}

/// A condition node's settings.
#[derive(Debug)]
pub(crate) struct ConditionConfig {
    /// Whether false fails the workflow instead of running the `false` branch.
    reject_on_false: bool,
    /// How it decides.
    pub(crate) test: Test,
}

/// Reads a condition node's config.
pub(crate) fn parse(config: &Value, stage: Stage) -> Result<ConditionConfig, Vec<Problem>> {
    let mut fields = Fields::new(config, stage);
    let reject_on_false = fields.optional("rejectOnFalse", |_| {
        "rejectOnFalse must be true or false".to_owned()
    });
    let engine = fields.optional("engine", |v| engine_message(&["basic", "cel"], v));
    let test = match engine {
        Some(ConditionEngine::Cel) => expression(&mut fields).map(Test::Cel),
        None if fields.raw("engine").is_some() => None,
        Some(ConditionEngine::Basic) | None => Some(Test::Basic(calculation(&mut fields))),
    };
    fields.finish(|| {
        Some(ConditionConfig {
            reject_on_false: reject_on_false.unwrap_or(false),
            test: test?,
        })
    })
}

/// The basic `calculation`; as stored, also checked (a running node reports what does
/// not evaluate as a condition error).
fn calculation(fields: &mut Fields<'_>) -> Value {
    let calculation = fields.raw("calculation").cloned().unwrap_or(Value::Null);
    if fields.stage() == Stage::Stored {
        for message in condition::validate(&calculation) {
            fields.problem("calculation", message);
        }
    }
    calculation
}

fn rejects_on_false(node: &Node) -> bool {
    node.config.get("rejectOnFalse").and_then(Value::as_bool) == Some(true)
}

#[async_trait]
impl NodeType for Condition {
    fn kind(&self) -> &'static str {
        "condition"
    }

    fn validate(&self, node: &Node, _ctx: &ValidationCtx) -> Vec<Problem> {
        config_problems(parse(&node.config, Stage::Stored))
    }

    async fn run(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let config = parse(&scope.render(&node.config), Stage::Rendered).map_err(config_error)?;
        let result = config.test.holds(scope)?;
        if !result && config.reject_on_false {
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
