//! `response`: answers the sync caller with a templated status, headers and body, and ends
//! the workflow as resolved.

use async_trait::async_trait;
use serde_json::Value;

use crate::engine::{NodeError, NodeType, Outcome, Problem, RunScope, ValidationCtx};
use crate::header_name;
use crate::messages::HttpReply;
use crate::model::{HeaderSpec, Node};

const DEFAULT_STATUS: u16 = 200;

/// The `response` node type.
pub(crate) struct Response;

#[async_trait]
impl NodeType for Response {
    fn kind(&self) -> &'static str {
        "response"
    }

    fn validate(&self, node: &Node, ctx: &ValidationCtx) -> Vec<Problem> {
        let mut problems = Vec::new();
        if !ctx.sync {
            problems.push(Problem::new(
                "",
                "a response node only runs in a sync workflow; this workflow is async",
            ));
        }
        match node.config.get("statusCode") {
            None | Some(Value::Null) => {}
            // A template is checked when it renders.
            Some(Value::String(text)) if text.contains("{{") => {}
            Some(value) => {
                if let Err(message) = status_code(value) {
                    problems.push(Problem::new("config.statusCode", message));
                }
            }
        }
        match node.config.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Array(headers)) => {
                for (i, header) in headers.iter().enumerate() {
                    let name_ok = header
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(header_name::is_valid);
                    if !name_ok {
                        problems.push(Problem::new(
                            format!("config.headers[{i}].name"),
                            "a header needs a valid name",
                        ));
                    }
                    if !header.get("value").is_some_and(Value::is_string) {
                        problems.push(Problem::new(
                            format!("config.headers[{i}].value"),
                            "a header value must be a string",
                        ));
                    }
                }
            }
            Some(_) => problems.push(Problem::new(
                "config.headers",
                "headers must be a list of {\"name\", \"value\"}",
            )),
        }
        problems
    }

    async fn run(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let config = &node.config;
        let status_code = match config.get("statusCode") {
            None | Some(Value::Null) => DEFAULT_STATUS,
            Some(value) => status_code(&scope.render(value)).map_err(NodeError::Config)?,
        };
        let mut headers = Vec::new();
        for header in config
            .get("headers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = header
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !header_name::is_valid(name) {
                return Err(NodeError::Config(format!("invalid header name \"{name}\"")));
            }
            let value = match header.get("value") {
                Some(Value::String(text)) => header_value(scope.render_str(text)),
                _ => String::new(),
            };
            headers.push(HeaderSpec {
                name: name.to_owned(),
                value,
            });
        }
        let body = config
            .get("body")
            .map(|body| scope.render(body))
            .unwrap_or(Value::Null);
        Ok(Outcome::Respond(HttpReply {
            status_code,
            headers,
            body,
        }))
    }

    fn terminates(&self, _node: &Node) -> bool {
        true
    }
}

fn status_code(value: &Value) -> Result<u16, String> {
    let code = match value {
        Value::String(text) => text.trim().parse::<u16>().ok(),
        other => other.as_u64().and_then(|n| u16::try_from(n).ok()),
    };
    match code {
        Some(code) if (200..=599).contains(&code) => Ok(code),
        _ => Err(format!(
            "the status code must be a number between 200 and 599, not {value}"
        )),
    }
}

/// A header value as text; a rendered placeholder may be any JSON value, and caller data
/// must not smuggle line breaks into the response head.
fn header_value(rendered: Value) -> String {
    let text = match rendered {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    };
    text.chars()
        .filter(|c| *c == '\t' || !c.is_control())
        .collect()
}
