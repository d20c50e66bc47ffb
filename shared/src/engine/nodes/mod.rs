//! The built-in node types, one module each (docs/workflows.md). Each reads its config through one
//! `parse` function: from the stored config when validating, from the rendered config
//! when running.

pub(crate) mod calculation;
pub(crate) mod condition;
pub(crate) mod delay;
pub(crate) mod end;
pub(crate) mod loops;
pub(crate) mod parallel;
pub(crate) mod request;
pub(crate) mod response;

use serde::Deserialize;
use serde_json::Value;

use crate::expr;
use crate::fields::{Fields, Stage};
use crate::problem::Problem;

/// The `engine` of a node that evaluates a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ConditionEngine {
    /// A basic calculation (`calculation`).
    #[default]
    Basic,
    /// A CEL `expression`.
    Cel,
}

/// What is wrong with an `engine` of `value` when only `allowed` are.
pub(crate) fn engine_message(allowed: &[&str], value: &Value) -> String {
    let allowed: Vec<String> = allowed.iter().map(|name| format!("\"{name}\"")).collect();
    format!("engine must be one of {}, not {value}", allowed.join(", "))
}

/// The `expression` setting, which must be a string; as stored, also a compiling one (a
/// running node compiles it through the engine's cache, where failing is an expression error).
pub(crate) fn expression(fields: &mut Fields<'_>) -> Option<String> {
    let source: String = fields.required("expression", |value| {
        if value.is_null() {
            "a CEL expression is required".to_owned()
        } else {
            "the CEL expression must be a string".to_owned()
        }
    })?;
    if fields.stage() == Stage::Stored
        && let Err(err) = expr::compile(&source)
    {
        fields.problem(
            "expression",
            format!("the CEL expression does not compile: {err}"),
        );
    }
    Some(source)
}

/// The problems of a stored config, placed under the node's `config`.
pub(crate) fn config_problems<T>(parsed: Result<T, Vec<Problem>>) -> Vec<Problem> {
    match parsed {
        Ok(_) => Vec::new(),
        Err(problems) => problems.into_iter().map(|p| p.under("config")).collect(),
    }
}
