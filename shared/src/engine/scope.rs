//! The variables a running node sees: the template scope and the CEL data.

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use uuid::Uuid;

use super::{cel_cache::CelCache, error::NodeError};
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
    cel: &'a CelCache,
}

impl<'a> RunScope<'a> {
    pub(crate) fn new(meta: &ExecutionMeta, context: Value, cel: &'a CelCache) -> Self {
        let mut vars = json!({
            "$jobsMapByNodeKey": {},
            "$system": {"now": now()},
            "$execution": {"id": meta.execution_id.to_string()},
            "$workflow": {"key": meta.workflow_key, "id": meta.workflow_id.to_string()},
        });
        // Moved in, not written inside `json!`, which would serialise a copy of it.
        vars["$context"] = context;
        RunScope { vars, cel }
    }

    /// `$execution.id`.
    pub fn execution_id(&self) -> &str {
        self.vars["$execution"]["id"].as_str().unwrap_or_default()
    }

    /// The template scope, one object keyed by the `$` roots.
    pub fn vars(&self) -> &Value {
        &self.vars
    }

    /// Renders the templates inside `value` (a single placeholder keeps its type).
    pub fn render(&self, value: &Value) -> Value {
        template::render_value(value, &self.vars)
    }

    /// Renders one templated string.
    pub fn render_str(&self, text: &str) -> Value {
        template::render_str(text, &self.vars)
    }

    /// Evaluates a CEL expression over `context`, `jobs` and `system`.
    pub fn cel(&self, source: &str) -> Result<Value, NodeError> {
        let program = self.cel.get(source).map_err(expression_failed)?;
        expr::evaluate_with(&program, |name| self.cel_variable(name)).map_err(expression_failed)
    }

    /// Evaluates a CEL expression that must yield a boolean.
    pub fn cel_bool(&self, source: &str) -> Result<bool, NodeError> {
        expr::as_bool(self.cel(source)?).map_err(expression_failed)
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

fn expression_failed(err: expr::ExprError) -> NodeError {
    NodeError::Expression(err.to_string())
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}
