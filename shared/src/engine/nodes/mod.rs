//! The built-in node types, one module each (SPEC §3).

pub(crate) mod calculation;
pub(crate) mod condition;
pub(crate) mod delay;
pub(crate) mod end;
pub(crate) mod response;

use serde_json::Value;

use crate::engine::Problem;
use crate::expr;
use crate::model::Node;

/// The `engine` setting when it is one of `allowed` (absent means `default`), or the problem.
pub(crate) fn engine<'a>(
    node: &'a Node,
    allowed: &[&str],
    default: &'a str,
) -> Result<&'a str, Problem> {
    match node.config.get("engine") {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(name)) if allowed.contains(&name.as_str()) => Ok(name),
        Some(other) => Err(Problem::new(
            "config.engine",
            format!(
                "engine must be one of {}, not {other}",
                allowed
                    .iter()
                    .map(|name| format!("\"{name}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Problems of the CEL `expression` setting: missing, not a string, or not compiling.
pub(crate) fn cel_problems(node: &Node) -> Vec<Problem> {
    let path = "config.expression";
    match node.config.get("expression") {
        Some(Value::String(source)) => match expr::compile(source) {
            Ok(_) => Vec::new(),
            Err(err) => vec![Problem::new(
                path,
                format!("the CEL expression does not compile: {err}"),
            )],
        },
        None | Some(Value::Null) => vec![Problem::new(path, "a CEL expression is required")],
        Some(_) => vec![Problem::new(path, "the CEL expression must be a string")],
    }
}
