//! `loop`: runs `branches.body` once per item of its `target` (an array), that many times (a
//! number) or once (anything else), while an optional `condition` holds. The runner drives
//! the iterations; this module reads the settings and checks the condition.

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::condition;
use crate::engine::error::NodeError;
use crate::engine::node::{LoopPlan, LoopTarget, NodeType, Outcome, ValidationCtx, config_error};
use crate::engine::scope::RunScope;
use crate::fields::{Fields, Stage};
use crate::model::Node;
use crate::problem::Problem;

/// The `loop` node type.
pub(crate) struct Loop;

/// Reads a loop node's config. `condition` is only checked as stored: while running it is
/// rendered and read again before each iteration (see [`condition_holds`]).
pub(crate) fn parse(config: &Value, stage: Stage) -> Result<LoopPlan, Vec<Problem>> {
    let mut fields = Fields::new(config, stage);
    let target = match fields.raw("target") {
        None => {
            fields.problem(
                "target",
                "a loop needs a target: an array, a number or a {{...}} template",
            );
            None
        }
        Some(value) => match target(value) {
            Ok(target) => Some(target),
            Err(message) => {
                fields.problem("target", message);
                None
            }
        },
    };
    let exit = fields.optional("exit", |value| {
        format!("exit must be \"fail\", \"break\" or \"continue\", not {value}")
    });
    let condition = match fields.raw("condition") {
        None | Some(Value::Bool(false)) => None,
        Some(value @ Value::Object(_)) => {
            if stage == Stage::Stored
                && let Err(problems) = condition::parse(value, Stage::Stored)
            {
                for problem in problems {
                    let problem = problem.under("condition");
                    fields.problem(problem.path, problem.message);
                }
            }
            Some(value.clone())
        }
        Some(_) => {
            fields.problem(
                "condition",
                "condition must be false or an object like a condition node's config \
                 ({\"engine\": \"basic\", \"calculation\": ...} or {\"engine\": \"cel\", \"expression\": ...})",
            );
            None
        }
    };
    fields.finish(|| {
        Some(LoopPlan {
            target: target?,
            condition,
            exit: exit.unwrap_or_default(),
        })
    })
}

/// What a target value runs over. A number must be whole (`3` or `3.0`, as CEL's doubles
/// and some senders write it) and not negative.
fn target(value: &Value) -> Result<LoopTarget, String> {
    match value {
        Value::Array(items) => Ok(LoopTarget::Items(items.clone())),
        Value::Number(number) => number
            .as_u64()
            .or_else(|| whole(number.as_f64()?))
            .map(LoopTarget::Times)
            .ok_or_else(|| {
                format!("a loop target number must be a whole number from 0, not {value}")
            }),
        other => Ok(LoopTarget::Once(other.clone())),
    }
}

/// `number` as a count when it is whole and from 0.
fn whole(number: f64) -> Option<u64> {
    // `as` saturates: a count past u64 stays past the iteration limit.
    (number >= 0.0 && number.fract() == 0.0).then_some(number as u64)
}

/// Whether the loop's `condition` (as stored) holds for the iteration `scope` is set up for.
pub(crate) async fn condition_holds(
    condition: &Value,
    scope: &RunScope<'_>,
) -> Result<bool, NodeError> {
    let rendered = scope.render(condition)?;
    let config = condition::parse(&rendered, Stage::Rendered).map_err(config_error)?;
    config.test.holds(scope).await
}

#[async_trait]
impl NodeType for Loop {
    fn kind(&self) -> &'static str {
        "loop"
    }

    fn validate(&self, node: &Node, _ctx: &ValidationCtx) -> Vec<Problem> {
        super::config_problems(parse(&node.config, Stage::Stored))
    }

    async fn run(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        // Everything but the condition is rendered now; the condition before each iteration.
        let mut config: Map<String, Value> = match &node.config {
            Value::Object(settings) => settings
                .iter()
                .filter(|(name, _)| name.as_str() != "condition")
                .map(|(name, value)| Ok((name.clone(), scope.render(value)?)))
                .collect::<Result<_, NodeError>>()?,
            _ => Map::new(),
        };
        if let Some(condition) = node.config.get("condition") {
            config.insert("condition".to_owned(), condition.clone());
        }
        let plan = parse(&Value::Object(config), Stage::Rendered).map_err(config_error)?;
        Ok(Outcome::Loop(plan))
    }

    fn branch_names(&self) -> &'static [&'static str] {
        &["body"]
    }

    fn required_branches(&self, _node: &Node) -> &'static [&'static str] {
        &["body"]
    }
}
