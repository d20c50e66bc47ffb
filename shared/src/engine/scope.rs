//! The variables a running node sees: the template scope and the CEL data.

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use uuid::Uuid;

use super::{cel_cache::CelCache, env::Env, error::NodeError};
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
/// before it (`$jobsMapByNodeKey`), `$system.now`, `$execution.id`, `$workflow.key` and the
/// variables (`$env`).
pub struct RunScope<'a> {
    vars: Value,
    cel: &'a CelCache,
    env: &'a Env,
}

/// The variables of a scope given none.
static NO_ENV: std::sync::LazyLock<Env> = std::sync::LazyLock::new(Env::default);

impl<'a> RunScope<'a> {
    pub(crate) fn new(meta: &ExecutionMeta, context: Value, cel: &'a CelCache) -> Self {
        let mut vars = json!({
            "$jobsMapByNodeKey": {},
            "$system": {"now": now()},
            "$execution": {"id": meta.execution_id.to_string()},
            "$workflow": {"key": meta.workflow_key, "id": meta.workflow_id.to_string()},
            "$env": {},
        });
        // Moved in, not written inside `json!`, which would serialise a copy of it.
        vars["$context"] = context;
        RunScope {
            vars,
            cel,
            env: &NO_ENV,
        }
    }

    /// The scope with `env` as `$env` (CEL `env`).
    pub(crate) fn with_env(mut self, env: &'a Env) -> Self {
        self.vars["$env"] = Value::Object(env.values().clone());
        self.env = env;
        self
    }

    /// `value` with the value of every secret variable replaced by `********`: what a node
    /// records or logs of a rendered value goes through it (the runner masks job results,
    /// errors and the response itself).
    pub fn mask(&self, value: &Value) -> Value {
        self.env.mask(value)
    }

    /// `text` with the value of every secret variable replaced by `********`.
    pub fn mask_str<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        self.env.mask_str(text)
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

    /// Evaluates a CEL expression over `context`, `jobs`, `system` and `env`.
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
            "env" => "$env",
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
