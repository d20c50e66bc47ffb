//! `delay`: waits `duration` milliseconds on a timer (no thread is held), then goes on
//! (`endStatus: 1`) or fails the workflow (`endStatus: -1`).

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::engine::{EndStatus, NodeError, NodeType, Outcome, Problem, RunScope, ValidationCtx};
use crate::model::Node;

/// The longest delay: the execution holds its message unacknowledged while it waits, and
/// RabbitMQ closes a consumer that holds one longer than its `consumer_timeout` (30 minutes
/// by default), which would start the execution over.
pub(crate) const MAX_DURATION_MS: u64 = 15 * 60 * 1000;

/// The `delay` node type.
pub(crate) struct Delay;

#[async_trait]
impl NodeType for Delay {
    fn kind(&self) -> &'static str {
        "delay"
    }

    fn validate(&self, node: &Node, _ctx: &ValidationCtx) -> Vec<Problem> {
        let mut problems = Vec::new();
        match node.config.get("duration") {
            // A template is checked when it renders.
            Some(Value::String(text)) if text.contains("{{") => {}
            Some(value) if value.as_u64().is_some_and(|ms| ms <= MAX_DURATION_MS) => {}
            _ => problems.push(Problem::new(
                "config.duration",
                format!("duration must be a whole number of milliseconds up to {MAX_DURATION_MS}"),
            )),
        }
        if let Err(message) = EndStatus::from_config(node.config.get("endStatus")) {
            problems.push(Problem::new("config.endStatus", message));
        }
        problems
    }

    async fn run(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let end =
            EndStatus::from_config(node.config.get("endStatus")).map_err(NodeError::Config)?;
        let duration = node
            .config
            .get("duration")
            .map(|value| scope.render(value))
            .and_then(|value| millis(&value))
            .filter(|ms| *ms <= MAX_DURATION_MS)
            .ok_or_else(|| {
                NodeError::Config(format!(
                    "duration must be a whole number of milliseconds up to {MAX_DURATION_MS}"
                ))
            })?;
        tokio::time::sleep(Duration::from_millis(duration)).await;
        Ok(match end {
            EndStatus::Resolved => Outcome::Continue(Value::Null),
            EndStatus::Failed => Outcome::End {
                status: EndStatus::Failed,
                output: Value::Null,
            },
        })
    }
}

fn millis(value: &Value) -> Option<u64> {
    match value {
        Value::String(text) => text.trim().parse().ok(),
        other => other.as_u64(),
    }
}
