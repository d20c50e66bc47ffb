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
/// before it (`$jobsMapByNodeKey`), `$system.now`, `$execution.id`, `$workflow.key`, the
/// variables (`$env`) and, inside loops, `$scopes.<loopKey>`.
pub struct RunScope<'a> {
    vars: Value,
    cel: &'a CelCache,
    env: &'a Env,
    /// The index of each loop the running node is inside, outer loop first.
    iteration: Vec<usize>,
}

/// The variables of a scope given none.
static NO_ENV: std::sync::LazyLock<Env> = std::sync::LazyLock::new(Env::default);

impl<'a> RunScope<'a> {
    pub(crate) fn new(meta: &ExecutionMeta, context: Value, cel: &'a CelCache) -> Self {
        let mut vars = json!({
            "$jobsMapByNodeKey": {},
            "$scopes": {},
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
            iteration: Vec::new(),
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

    /// The index of each loop the running node is inside, outer loop first (empty outside
    /// loops): what tells one iteration's call from another's, e.g. in an idempotency key.
    pub fn iteration(&self) -> &[usize] {
        &self.iteration
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

    /// Evaluates a CEL expression over `context`, `jobs`, `system`, `env` and `scopes`.
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
            "scopes" => "$scopes",
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

    /// A copy for a parallel branch, which sees the outputs recorded so far and records its
    /// own apart from the other branches'.
    pub(crate) fn fork(&self) -> RunScope<'a> {
        RunScope {
            vars: self.vars.clone(),
            cel: self.cel,
            env: self.env,
            iteration: self.iteration.clone(),
        }
    }

    /// Takes over the outputs that the nodes named `keys` recorded in a finished or stopped
    /// branch. Only those: the branch's copy of every other output may be older than what
    /// another branch recorded meanwhile.
    pub(crate) fn merge_outputs<'k>(
        &mut self,
        branch: &mut RunScope<'_>,
        keys: impl IntoIterator<Item = &'k str>,
    ) {
        let (Some(Value::Object(mine)), Value::Object(mut theirs)) = (
            self.vars.get_mut("$jobsMapByNodeKey"),
            branch.vars["$jobsMapByNodeKey"].take(),
        ) else {
            return;
        };
        for key in keys {
            if let Some(output) = theirs.remove(key) {
                mine.insert(key.to_owned(), output);
            }
        }
    }

    /// Opens a loop: the iteration path gets a level for it.
    pub(crate) fn enter_loop(&mut self) {
        self.iteration.push(0);
    }

    /// Sets `$scopes.<key>` to iteration `index` of `length`, whose item is `item`.
    pub(crate) fn iterate(&mut self, key: &str, index: usize, item: Value, length: usize) {
        if let Some(level) = self.iteration.last_mut() {
            *level = index;
        }
        if let Some(Value::Object(scopes)) = self.vars.get_mut("$scopes") {
            scopes.insert(
                key.to_owned(),
                json!({"item": item, "index": index, "length": length}),
            );
        }
    }

    /// Closes loop `key`: its `$scopes` entry and iteration level go away.
    pub(crate) fn leave_loop(&mut self, key: &str) {
        self.iteration.pop();
        if let Some(Value::Object(scopes)) = self.vars.get_mut("$scopes") {
            scopes.remove(key);
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
