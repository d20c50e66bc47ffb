//! The variables a running node sees: the template scope and the CEL data.

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use uuid::Uuid;

use super::error::NodeError;
use super::evaluator::{Budget, Evaluator, expression_failed, limit_hit};
use crate::{expr, template};

/// Who is running: the ids the templates can read as `$execution` and `$workflow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionMeta {
    /// `$execution.id`.
    pub execution_id: Uuid,
    /// `$workflow.id`.
    pub workflow_id: Uuid,
    /// `$workflow.key`, the webhook key.
    pub workflow_key: String,
}

/// What a node can read while it runs: `$context`, the outputs of the nodes that ran
/// before it (`$jobsMapByNodeKey`), `$system.now`, `$execution.id` and `$workflow.key`.
pub struct RunScope<'a> {
    vars: Value,
    eval: &'a Evaluator,
    /// The execution's evaluation time (docs/limits.md).
    budget: Budget,
}

impl<'a> RunScope<'a> {
    pub(crate) fn new(meta: &ExecutionMeta, context: Value, eval: &'a Evaluator) -> Self {
        let mut vars = json!({
            "$jobsMapByNodeKey": {},
            "$system": {"now": now()},
            "$execution": {"id": meta.execution_id.to_string()},
            "$workflow": {"key": meta.workflow_key, "id": meta.workflow_id.to_string()},
        });
        // Moved in, not written inside `json!`, which would serialise a copy of it.
        vars["$context"] = context;
        let budget = Budget::new(eval.limits().execution_time);
        RunScope { vars, eval, budget }
    }

    /// `$execution.id`.
    pub fn execution_id(&self) -> &str {
        self.vars["$execution"]["id"].as_str().unwrap_or_default()
    }

    /// The template scope, one object keyed by the `$` roots.
    pub fn vars(&self) -> &Value {
        &self.vars
    }

    /// Renders the templates inside `value` (a single placeholder keeps its type); a
    /// string that would grow past the value limit is an error.
    pub fn render(&self, value: &Value) -> Result<Value, NodeError> {
        template::render_value_within(value, &self.vars, self.eval.limits().max_value_bytes)
            .map_err(|too_large| limit_hit("size", too_large.to_string()))
    }

    /// Renders one templated string, like [`RunScope::render`].
    pub fn render_str(&self, text: &str) -> Result<Value, NodeError> {
        self.render(&Value::String(text.to_owned()))
    }

    /// Evaluates a CEL expression over `context`, `jobs` and `system`, off the async
    /// runtime and within the node and execution time limits and the value limit.
    pub async fn cel(&self, source: &str) -> Result<Value, NodeError> {
        let program = self.eval.compile(source).await?;
        // Copied, as the evaluation runs on another thread: only the roots it mentions.
        let data = program
            .variables()
            .iter()
            .filter_map(|name| Some((name.clone(), self.cel_variable(name)?.clone())))
            .collect();
        self.eval.evaluate(program, data, &self.budget).await
    }

    /// Evaluates a CEL expression that must yield a boolean.
    pub async fn cel_bool(&self, source: &str) -> Result<bool, NodeError> {
        expr::as_bool(self.cel(source).await?).map_err(expression_failed)
    }

    /// Fails once the execution has used up its evaluation time; checked before each node.
    pub(crate) fn check_budget(&self) -> Result<(), NodeError> {
        self.budget.check()
    }

    /// The template root CEL sees under `name`, borrowed: a node evaluating an expression
    /// must not copy the whole context.
    fn cel_variable(&self, name: &str) -> Option<&Value> {
        let root = match name {
            "context" => "$context",
            "jobs" => "$jobsMapByNodeKey",
            "system" => "$system",
            _ => return None,
        };
        self.vars.get(root)
    }

    /// Makes `output` visible to later nodes as `$jobsMapByNodeKey.<key>`.
    pub(crate) fn record_output(&mut self, key: &str, output: Value) {
        if let Some(Value::Object(jobs)) = self.vars.get_mut("$jobsMapByNodeKey") {
            jobs.insert(key.to_owned(), output);
        }
    }

    /// Moves `$system.now` to the present, before each node.
    pub(crate) fn tick(&mut self) {
        self.vars["$system"]["now"] = Value::String(now());
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}
