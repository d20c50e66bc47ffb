//! `response`: answers the sync caller with a templated status, headers and body, and ends
//! the workflow as resolved.

use async_trait::async_trait;
use serde_json::Value;

use super::config_problems;
use crate::engine::error::NodeError;
use crate::engine::node::{NodeType, Outcome, ValidationCtx, config_error};
use crate::engine::scope::RunScope;
use crate::fields::{Fields, Stage, whole_number};
use crate::header_name;
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
        if let Some(problem) = header_name::answer_header_problem(name) {
            fields.problem(format!("headers[{i}].name"), problem);
        }
        let value = match header.get("value") {
            Some(Value::String(text)) => text.clone(),
            Some(other) if fields.stage() == Stage::Rendered => header_text(other.clone()),
            _ => {
                fields.problem(
                    format!("headers[{i}].value"),
                    "a header value must be a string",
                );
                String::new()
            }
        };
        // As stored, a placeholder's value is only known once rendered; rendered, a value
        // that cannot travel in a header errors the node rather than being altered.
        let templated = fields.stage() == Stage::Stored && value.contains("{{");
        if !templated && let Some(problem) = header_name::value_problem(&value) {
            let problem = if fields.stage() == Stage::Rendered {
                format!("the {name} header rendered to a value it cannot carry: {problem}")
            } else {
                problem
            };
            fields.problem(format!("headers[{i}].value"), problem);
        }
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

/// A rendered placeholder as header text: a string as it is, `null` as nothing, any other
/// JSON value as JSON.
fn header_text(rendered: Value) -> String {
    match rendered {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_header_rendered_to_text_that_cannot_travel_is_a_problem_naming_it() {
        let rendered = json!({"headers": [
            {"name": "X-Ok", "value": 5},
            {"name": "X-Name", "value": "Zo\u{eb}"},
            {"name": "X-Split", "value": "a\r\nSet-Cookie: x=1"},
        ]});
        let problems = parse(&rendered, Stage::Rendered).expect_err("not ASCII");
        let named: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(named, ["headers[1].value", "headers[2].value"]);
        assert!(
            problems[0]
                .message
                .starts_with("the X-Name header rendered to a value it cannot carry: a header value must be ASCII"),
            "{}",
            problems[0].message
        );
        let fine = parse(
            &json!({"headers": [{"name": "X-Ok", "value": 5}]}),
            Stage::Rendered,
        )
        .expect("ASCII");
        assert_eq!(fine.headers[0].value, "5");
    }
}
