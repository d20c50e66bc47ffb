//! `response`: answers the sync caller with a templated status, headers and body, and ends
//! the workflow as resolved.

use async_trait::async_trait;
use serde_json::Value;

use super::config_problems;
use crate::engine::error::NodeError;
use crate::engine::node::{NodeType, Outcome, ValidationCtx, config_error};
use crate::engine::scope::RunScope;
use crate::fields::{Fields, Stage, whole_number};
use crate::messages::HttpReply;
use crate::model::{HeaderSpec, Node};
use crate::problem::Problem;

const DEFAULT_STATUS: u16 = 200;

/// The `response` node type.
pub(crate) struct Response;

/// Reads a response node's config into the reply it sends. As stored, a header value must
/// be a string (it may hold placeholders); rendered, any value is written as text.
pub(crate) fn parse(config: &Value, stage: Stage) -> Result<HttpReply, Vec<Problem>> {
    let mut fields = Fields::new(config, stage);
    let status_code = fields
        .optional::<Value>("statusCode", |_| String::new())
        .and_then(|value| match status_code(&value) {
            Ok(code) => Some(code),
            Err(message) => {
                fields.problem("statusCode", message);
                None
            }
        });
    let headers = headers(&mut fields);
    let body = fields.raw("body").cloned().unwrap_or(Value::Null);
    let status_given = fields.raw("statusCode").is_some();
    fields.finish(|| {
        Some(HttpReply {
            status_code: match status_code {
                Some(code) => code,
                None if status_given => return None,
                None => DEFAULT_STATUS,
            },
            headers,
            body,
        })
    })
}

fn headers(fields: &mut Fields<'_>) -> Vec<HeaderSpec> {
    let Some(listed) = fields.raw("headers") else {
        return Vec::new();
    };
    let Some(listed) = listed.as_array() else {
        fields.problem("headers", "headers must be a list of {\"name\", \"value\"}");
        return Vec::new();
    };
    let mut headers = Vec::new();
    for (i, header) in listed.iter().enumerate() {
        let name = header
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !crate::header_name::is_valid(name) {
            fields.problem(format!("headers[{i}].name"), "a header needs a valid name");
        }
        let value = match header.get("value") {
            Some(Value::String(text)) => header_value(Value::String(text.clone())),
            Some(other) if fields.stage() == Stage::Rendered => header_value(other.clone()),
            _ => {
                fields.problem(
                    format!("headers[{i}].value"),
                    "a header value must be a string",
                );
                String::new()
            }
        };
        headers.push(HeaderSpec {
            name: name.to_owned(),
            value,
        });
    }
    headers
}

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
        problems.extend(config_problems(parse(&node.config, Stage::Stored)));
        problems
    }

    async fn run(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let reply = parse(&scope.render(&node.config)?, Stage::Rendered).map_err(config_error)?;
        Ok(Outcome::Respond(reply))
    }

    fn terminates(&self, _node: &Node) -> bool {
        true
    }
}

fn status_code(value: &Value) -> Result<u16, String> {
    let code = whole_number(value).and_then(|n| u16::try_from(n).ok());
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
