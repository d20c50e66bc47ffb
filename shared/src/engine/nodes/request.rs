//! `request`: calls an HTTP API (NocoBase's request node) and makes its answer the node's
//! output. Every call carries an `Idempotency-Key` that stays the same across retries and
//! redeliveries of the execution, so an API that honours it applies the call once.
//!
//! The execution record keeps the method, the URL and the answer (status, headers, data),
//! never the request's headers or body.

mod call;
mod config;
mod parts;

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use url::Url;

use super::config_problems;
use crate::engine::error::NodeError;
use crate::engine::node::{EndStatus, NodeType, Outcome, ValidationCtx, config_error};
use crate::engine::scope::RunScope;
use crate::fields::Stage;
use crate::model::Node;
use crate::outbound::Outbound;
use crate::problem::Problem;

pub(crate) use config::parse;

/// The status of an `ignoreFail` output when the API gave no answer.
const NO_ANSWER_STATUS: u16 = 502;

/// The `request` node type; without an [`Outbound`] client it only validates.
pub(crate) struct Request {
    pub(crate) outbound: Option<Arc<Outbound>>,
}

/// The `Idempotency-Key` of one call: `<execution id>:<node key>`, followed by the
/// iteration index of every loop around the node, outermost first.
pub(crate) fn idempotency_key(execution_id: &str, node_key: &str, iteration: &[usize]) -> String {
    let mut key = format!("{execution_id}:{node_key}");
    for index in iteration {
        key.push(':');
        key.push_str(&index.to_string());
    }
    key
}

/// The URL as the execution record keeps it: a password in it masked.
// Masking the query values that came from secret `$env` variables belongs here too, once
// the scope knows which rendered values are secret.
fn recorded_url(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("********"));
    }
    shown.to_string()
}

#[async_trait]
impl NodeType for Request {
    fn kind(&self) -> &'static str {
        "request"
    }

    fn validate(&self, node: &Node, _ctx: &ValidationCtx) -> Vec<Problem> {
        config_problems(parse(&node.config, Stage::Stored))
    }

    async fn run(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let Some(outbound) = &self.outbound else {
            return Err(NodeError::Config(
                "this engine has no HTTP client for request nodes".into(),
            ));
        };
        let config = parse(&scope.render(&node.config), Stage::Rendered).map_err(config_error)?;
        // Loops add their iteration path here (`scope`'s, outermost first).
        let key = idempotency_key(scope.execution_id(), &node.key, &[]);
        let headers = request_headers(&config, &key)?;
        let (outcome, attempts) = call::call(outbound, &config, &headers).await;
        let request = json!({
            "method": config.method.as_str(),
            "url": recorded_url(&config.url),
            "attempts": attempts,
        });
        Ok(match outcome {
            Ok(answer) => {
                let full = json!({
                    "status": answer.status,
                    "headers": answer.headers,
                    "data": answer.data,
                });
                let mut record = full.clone();
                record["request"] = request;
                let output = match config.only_data {
                    true => full["data"].clone(),
                    false => full,
                };
                Outcome::Recorded { output, record }
            }
            Err(failure) => {
                let mut output = match failure.answer() {
                    Some(answer) => json!({
                        "status": answer.status,
                        "headers": answer.headers,
                        "data": answer.data,
                    }),
                    None => json!({"status": NO_ANSWER_STATUS}),
                };
                output["error"] = Value::String(failure.message());
                let mut record = output.clone();
                record["request"] = request;
                if config.ignore_fail {
                    Outcome::Recorded { output, record }
                } else {
                    Outcome::End {
                        status: EndStatus::Failed,
                        output: record,
                    }
                }
            }
        })
    }
}

/// The headers of every attempt: the body's content type, the Idempotency-Key, then the
/// configured headers, which replace either.
fn request_headers(config: &config::RequestConfig, key: &str) -> Result<HeaderMap, NodeError> {
    let mut headers = HeaderMap::new();
    if config.body.is_some() {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(config.content_type.header()),
        );
    }
    let key = HeaderValue::from_str(key)
        .map_err(|_| NodeError::Config("the node key cannot be sent in a header".into()))?;
    headers.insert(HeaderName::from_static("idempotency-key"), key);
    for (name, value) in &config.headers {
        headers.insert(name.clone(), value.clone());
    }
    Ok(headers)
}

#[cfg(test)]
mod tests;
