//! `delay`: waits `duration` milliseconds on a timer (no thread is held), then goes on
//! (`endStatus: 1`) or fails the workflow (`endStatus: -1`).

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::config_problems;
use crate::engine::error::NodeError;
use crate::engine::node::{
    EndStatus, NodeType, Outcome, ValidationCtx, config_error, end_status_message,
};
use crate::engine::scope::RunScope;
use crate::fields::{Fields, Stage, whole_number};
use crate::model::Node;
use crate::problem::Problem;

/// The longest delay: the execution holds its message unacknowledged while it waits, and
/// RabbitMQ closes a consumer that holds one longer than its `consumer_timeout` (30 minutes
/// by default), which would start the execution over.
pub(crate) const MAX_DURATION_MS: u64 = 15 * 60 * 1000;

/// The `delay` node type.
pub(crate) struct Delay;

/// A delay node's settings.
#[derive(Debug)]
pub(crate) struct DelayConfig {
    /// How long to wait.
    duration: Duration,
    /// How the node ends when the time is up.
    end: EndStatus,
}

/// Reads a delay node's config. `duration` is a whole number of milliseconds, written
/// as a number or as a string of digits (what a placeholder over form data renders to).
pub(crate) fn parse(config: &Value, stage: Stage) -> Result<DelayConfig, Vec<Problem>> {
    let mut fields = Fields::new(config, stage);
    let duration = fields
        .required::<Value>("duration", duration_message)
        .and_then(|value| match whole_number(&value) {
            Some(ms) if ms <= MAX_DURATION_MS => Some(ms),
            _ => {
                fields.problem("duration", duration_message(&value));
                None
            }
        });
    let end = fields.optional("endStatus", end_status_message);
    fields.finish(|| {
        Some(DelayConfig {
            duration: Duration::from_millis(duration?),
            end: end.unwrap_or_default(),
        })
    })
}

fn duration_message(_: &Value) -> String {
    format!("duration must be a whole number of milliseconds up to {MAX_DURATION_MS}")
}

#[async_trait]
impl NodeType for Delay {
    fn kind(&self) -> &'static str {
        "delay"
    }

    fn validate(&self, node: &Node, _ctx: &ValidationCtx) -> Vec<Problem> {
        config_problems(parse(&node.config, Stage::Stored))
    }

    async fn run(&self, node: &Node, scope: &RunScope<'_>) -> Result<Outcome, NodeError> {
        let config = parse(&scope.render(&node.config)?, Stage::Rendered).map_err(config_error)?;
        tokio::time::sleep(config.duration).await;
        Ok(match config.end {
            EndStatus::Resolved => Outcome::Continue(Value::Null),
            EndStatus::Failed => Outcome::End {
                status: EndStatus::Failed,
                output: Value::Null,
            },
        })
    }
}
