//! The variables a running node sees: the template scope and the CEL data.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use uuid::Uuid;

use super::env::Env;
use super::error::NodeError;
use super::evaluator::{Budget, Evaluator, expression_failed, limit_hit};
use crate::{expr, paths, template};

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
/// before it (`$jobsMapByNodeKey`), `$system.now`, `$execution.id`, `$workflow.key` and,
/// inside loops, `$scopes.<loopKey>`, and the variables (`$env`).
pub struct RunScope<'a> {
    /// `$context`: shared, not copied, by the branches of parallel nodes.
    context: Arc<Value>,
    /// The other roots, keyed by their names.
    vars: Value,
    eval: &'a Evaluator,
    /// The execution's evaluation time (docs/limits.md).
    budget: Arc<Budget>,
    /// The index of each loop the running node is inside, outer loop first.
    iteration: Vec<usize>,
    env: &'a Env,
    /// What the execution's jobs hold, shared by its loops and parallel branches.
    held: Arc<Held>,
    /// What this parallel branch's own copy of the roots other than `$context` holds (the
    /// outputs recorded before its node, above all), counted in `held` while it lives.
    copied: usize,
}

impl Drop for RunScope<'_> {
    fn drop(&mut self) {
        self.held.release(self.copied);
    }
}

/// The variables of a scope given none.
static NO_ENV: std::sync::LazyLock<Env> = std::sync::LazyLock::new(Env::default);

impl<'a> RunScope<'a> {
    /// The scope of one execution whose trigger data is `context`; its jobs may hold
    /// `max_execution_bytes` together.
    pub(crate) fn new(
        meta: &ExecutionMeta,
        context: Value,
        eval: &'a Evaluator,
        max_execution_bytes: usize,
    ) -> Self {
        let vars = json!({
            "$jobsMapByNodeKey": {},
            "$scopes": {},
            "$system": {"now": now()},
            "$execution": {"id": meta.execution_id.to_string()},
            "$workflow": {"key": meta.workflow_key, "id": meta.workflow_id.to_string()},
        });
        let budget = Arc::new(Budget::new(eval.limits().execution_time));
        RunScope {
            // Moved in, never copied: not by `json!`, nor for a parallel branch.
            context: Arc::new(context),
            vars,
            eval,
            budget,
            iteration: Vec::new(),
            env: &NO_ENV,
            held: Arc::new(Held::new(max_execution_bytes)),
            copied: 0,
        }
    }

    /// `$execution.id`.
    pub fn execution_id(&self) -> &str {
        self.vars["$execution"]["id"].as_str().unwrap_or_default()
    }

    /// The index of each loop the running node is inside, outer loop first (empty outside
    /// loops): what tells one iteration's call from another's, e.g. in an idempotency key.
    pub fn iteration(&self) -> &[usize] {
        &self.iteration
    }

    /// The scope with `env` as `$env` (CEL `env`), read in place.
    pub(crate) fn with_env(mut self, env: &'a Env) -> Self {
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

    /// Renders the templates inside `value` (a single placeholder keeps its type); a
    /// string that would grow past the value limit is an error.
    pub fn render(&self, value: &Value) -> Result<Value, NodeError> {
        template::render_value_within(value, self, self.eval.limits().max_value_bytes)
            .map_err(|too_large| limit_hit("size", too_large.to_string()))
    }

    /// Renders one templated string, like [`RunScope::render`].
    pub fn render_str(&self, text: &str) -> Result<Value, NodeError> {
        self.render(&Value::String(text.to_owned()))
    }

    /// Evaluates a CEL expression over `context`, `jobs`, `system`, `scopes` and `env`, off the async
    /// runtime unless it is light, and within the node and execution time limits and the
    /// value limit.
    pub async fn cel(&self, source: &str) -> Result<Value, NodeError> {
        let program = self.eval.compile(source).await?;
        // Converted here, as the evaluation may run on another thread: only what it reads.
        let inputs = program.inputs(|name| self.cel_variable(name));
        self.eval.evaluate(program, inputs, &self.budget).await
    }

    /// Evaluates a CEL expression that must yield a boolean.
    pub async fn cel_bool(&self, source: &str) -> Result<bool, NodeError> {
        expr::as_bool(self.cel(source).await?).map_err(expression_failed)
    }

    /// Fails once the execution has used up its evaluation time; checked before each node.
    pub(crate) fn check_budget(&self) -> Result<(), NodeError> {
        self.budget.check()
    }

    /// Counts `bytes` more held by the execution's jobs; fails when that takes the total
    /// past `HOOKFLOW_MAX_EXECUTION_BYTES`.
    pub(crate) fn hold(&self, bytes: usize) -> Result<(), NodeError> {
        self.held.add(bytes);
        self.check_held()
    }

    /// Counts `bytes` more held by the execution's jobs, without failing: for what is
    /// recorded while the flow already ends (a node raised); the next check fails.
    pub(crate) fn charge(&self, bytes: usize) {
        self.held.add(bytes);
    }

    /// Fails once the execution's jobs hold more than their limit: checked before each
    /// node, so a bound once hit fails every later node.
    pub(crate) fn check_held(&self) -> Result<(), NodeError> {
        self.held.check()
    }

    /// Whether the execution's jobs hold more than their limit: a failure that neither a
    /// loop's `exit` nor a parallel node's `mode` may absorb.
    pub(crate) fn over_held_limit(&self) -> bool {
        self.held.check().is_err()
    }

    /// The template root CEL sees under `name`, borrowed: a node evaluating an expression
    /// must not copy the whole context.
    fn cel_variable(&self, name: &str) -> Option<&Value> {
        let root = match name {
            "context" => return Some(&self.context),
            "env" => return Some(self.env.values()),
            "jobs" => "$jobsMapByNodeKey",
            "system" => "$system",
            "scopes" => "$scopes",
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

    /// A copy for each of `branches` parallel branches, which sees the outputs recorded so
    /// far and records its own apart from the other branches'; `$context` is shared, not
    /// copied. Each copy counts toward the execution's limit until its branch is dropped, so
    /// that many branches over large earlier outputs cannot multiply them unbounded; a
    /// branch's first node fails when the copies take the total past the limit.
    pub(crate) fn forks(&self, branches: usize) -> Vec<RunScope<'a>> {
        // Measured once: every copy is the same size.
        let copied = crate::shape::approximate_size(&self.vars);
        (0..branches)
            .map(|_| {
                self.held.add(copied);
                RunScope {
                    context: Arc::clone(&self.context),
                    vars: self.vars.clone(),
                    eval: self.eval,
                    // Shared: the execution's evaluation time counts every branch's.
                    budget: Arc::clone(&self.budget),
                    iteration: self.iteration.clone(),
                    env: self.env,
                    // Shared: every branch's jobs count toward the one execution's.
                    held: Arc::clone(&self.held),
                    copied,
                }
            })
            .collect()
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

/// Placeholders read `$context` from the shared context, `$env` from the execution's
/// variables and the other roots from `vars`, as if they were one object keyed by the roots.
impl template::Scope for RunScope<'_> {
    fn lookup(&self, path: &str) -> Option<&Value> {
        [("$context", &*self.context), ("$env", self.env.values())]
            .into_iter()
            .find_map(|(name, root)| under(path, name, root))
            .unwrap_or_else(|| paths::get(&self.vars, path))
    }
}

/// What `path` names inside `root` when it starts with the root's `name` (`Some(None)`:
/// nothing there); `None` when it names another root (`$contextual`, `$context]`).
fn under<'v>(path: &str, name: &str, root: &'v Value) -> Option<Option<&'v Value>> {
    let rest = path.strip_prefix(name)?;
    if rest.is_empty() {
        return Some(Some(root));
    }
    if rest.starts_with('[') {
        return Some(paths::get(root, rest));
    }
    rest.strip_prefix('.').map(|below| paths::get(root, below))
}

/// The bytes an execution's jobs hold, counted as each job finishes, with the copies its
/// running parallel branches hold, and their limit (`HOOKFLOW_MAX_EXECUTION_BYTES`).
struct Held {
    limit: usize,
    bytes: AtomicUsize,
}

impl Held {
    fn new(limit: usize) -> Self {
        Held {
            limit,
            bytes: AtomicUsize::new(0),
        }
    }

    fn add(&self, bytes: usize) {
        // Saturating: a total stuck at the maximum is still past any limit.
        let _ = self
            .bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                Some(held.saturating_add(bytes))
            });
    }

    /// Counts `bytes` no longer held (a parallel branch's copy, dropped).
    fn release(&self, bytes: usize) {
        let _ = self
            .bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                Some(held.saturating_sub(bytes))
            });
    }

    fn check(&self) -> Result<(), NodeError> {
        if self.bytes.load(Ordering::Relaxed) > self.limit {
            return Err(NodeError::Limit(format!(
                "the execution's job results exceeded the {} execution limit",
                crate::expr::size_text(self.limit)
            )));
        }
        Ok(())
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::evaluator::EvalLimits;
    use crate::template::Scope as _;

    #[test]
    fn placeholders_see_the_shared_context_as_one_object_of_roots() {
        let eval = Evaluator::new(EvalLimits::default());
        let meta = ExecutionMeta {
            execution_id: uuid::Uuid::now_v7(),
            workflow_id: uuid::Uuid::now_v7(),
            workflow_key: "k".into(),
        };
        let context = json!({"body": {"items": [{"id": 7}], "$x": 1}, "0": "zero"});
        let env = Env::new([("SHOP".to_owned(), "acme".to_owned(), false)]);
        let mut scope = RunScope::new(&meta, context.clone(), &eval, usize::MAX).with_env(&env);
        scope.record_output("calc", json!({"n": 2}));
        // What the roots were before `$context` and `$env` were kept apart.
        let mut one = scope.vars.clone();
        one["$context"] = context;
        one["$env"] = json!({"SHOP": "acme"});
        let branch = scope.forks(1).pop().expect("one branch");
        for path in [
            "$context",
            "$context.body",
            "$context.body.items[0].id",
            "$context.body.items.0.id",
            "$context[0]",
            "$context.0",
            "$context.body.$x",
            "$context.",
            "$context..body",
            "$context]",
            "$contextual",
            "$context.missing",
            "$env",
            "$env.SHOP",
            "$env.MISSING",
            "$environment",
            "$jobsMapByNodeKey.calc.n",
            "$workflow.key",
            "$execution",
            "",
        ] {
            assert_eq!(scope.lookup(path), one.lookup(path), "{path}");
            assert_eq!(branch.lookup(path), one.lookup(path), "{path} in a branch");
        }
        assert!(Arc::ptr_eq(&scope.context, &branch.context));
    }
}
