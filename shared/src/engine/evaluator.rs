//! Where CEL expressions run: off the async runtime, on a bounded set of blocking
//! threads, each evaluation within a node time limit and an execution's time budget. A
//! light one (a short expression without loops over a few KiB of inputs,
//! [`Expression::is_light`]) runs where it is asked for: it takes microseconds, less than
//! handing it to a thread and back.
//!
//! Why `spawn_blocking` behind a semaphore rather than a thread pool of its own: tokio's
//! blocking threads are already there and reused, the semaphore hands its permits out in
//! the order they were asked for, and a permit moves into the evaluation and is given
//! back only when the evaluation returns. An evaluation the answer stopped waiting for
//! (cel cannot be cancelled) so keeps counting against the pool until it ends, and the
//! pool stays bounded; the size checks and the deadline checked inside the evaluation
//! (see `expr`) make that end come soon after the deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{cel_cache::CelCache, error::NodeError};
use crate::expr::{self, Bounds, ExprError, Expression, Inputs};

/// How much evaluating may take (docs/limits.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalLimits {
    /// Time one expression of a node may compute (`HOOKFLOW_NODE_TIMEOUT_MS`).
    pub node_time: Duration,
    /// Time all expressions of an execution may compute together; waiting (a `delay`
    /// node, an HTTP call, a free evaluation thread) does not count
    /// (`HOOKFLOW_EXECUTION_TIMEOUT_MS`).
    pub execution_time: Duration,
    /// The largest string or list an expression or template may build
    /// (`HOOKFLOW_MAX_VALUE_BYTES`).
    pub max_value_bytes: usize,
    /// Expressions evaluated at once by one engine (`HOOKFLOW_EVAL_THREADS`).
    pub threads: usize,
}

impl Default for EvalLimits {
    fn default() -> Self {
        EvalLimits {
            node_time: expr::DEFAULT_TIME_LIMIT,
            execution_time: Duration::from_millis(10_000),
            max_value_bytes: expr::DEFAULT_MAX_VALUE_BYTES,
            threads: 4,
        }
    }
}

/// Compiles (once) and evaluates expressions for an engine.
pub(crate) struct Evaluator {
    cel: CelCache,
    permits: Arc<Semaphore>,
    limits: EvalLimits,
}

impl Evaluator {
    pub(crate) fn new(limits: EvalLimits) -> Self {
        Evaluator {
            cel: CelCache::default(),
            permits: Arc::new(Semaphore::new(limits.threads.max(1))),
            limits,
        }
    }

    pub(crate) fn limits(&self) -> &EvalLimits {
        &self.limits
    }

    /// The compiled program for `source`; compiled (once) on a blocking thread too, as a
    /// source rendered from a template may hold caller data.
    pub(crate) async fn compile(&self, source: &str) -> Result<Arc<Expression>, NodeError> {
        if let Some(program) = self.cel.cached(source) {
            return Ok(program);
        }
        let permit = self.permit().await?;
        let text = source.to_owned();
        let compiled = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            expr::compile(&text)
        })
        .await
        .map_err(|panicked| {
            NodeError::Expression(format!("compiling the expression failed: {panicked}"))
        })?;
        let program = Arc::new(compiled.map_err(expression_failed)?);
        self.cel.insert(source, Arc::clone(&program));
        Ok(program)
    }

    async fn permit(&self) -> Result<OwnedSemaphorePermit, NodeError> {
        Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| NodeError::Expression("the evaluation threads are closed".to_owned()))
    }

    /// Evaluates `program` over `inputs` on a blocking thread — or in place when it is
    /// light ([`Expression::is_light`]: microseconds, less than handing it to a thread) —
    /// charging the time it takes to `budget`.
    pub(crate) async fn evaluate(
        &self,
        program: Arc<Expression>,
        inputs: Inputs,
        budget: &Budget,
    ) -> Result<Value, NodeError> {
        let (limit, which) = budget.next_limit(self.limits.node_time)?;
        let light = program.is_light(&inputs);
        let permit = if light {
            None
        } else {
            Some(self.permit().await?)
        };
        let started = Instant::now();
        let bounds = Bounds {
            deadline: started + limit,
            max_value_bytes: self.limits.max_value_bytes,
        };
        let outcome = match permit {
            None => Ok(Ok(expr::evaluate_inputs_within(&program, inputs, bounds))),
            Some(permit) => {
                let task = tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    expr::evaluate_inputs_within(&program, inputs, bounds)
                });
                // A function that runs long without a loop cannot be interrupted: the node
                // stops waiting at the deadline and the thread finishes on its own.
                let deadline = tokio::time::Instant::from_std(bounds.deadline);
                tokio::time::timeout_at(deadline, task).await
            }
        };
        budget.spend(started.elapsed());
        match outcome {
            Err(_) | Ok(Ok(Err(ExprError::TimeLimit))) => Err(which.exceeded(limit)),
            Ok(Err(panicked)) => Err(NodeError::Expression(format!(
                "the evaluation failed: {panicked}"
            ))),
            Ok(Ok(result)) => result.map_err(expression_failed),
        }
    }
}

/// Counts the evaluations that hit a limit, by `limit` (`time`, `size`).
pub const LIMITS_HIT: &str = "hookflow_evaluation_limits_total";

/// The node error of a limit hit, counted.
pub(crate) fn limit_hit(limit: &'static str, message: String) -> NodeError {
    metrics::counter!(LIMITS_HIT, "limit" => limit).increment(1);
    NodeError::Limit(message)
}

/// A CEL error as the node error it raises; a limit says which.
pub(crate) fn expression_failed(err: ExprError) -> NodeError {
    match err {
        ExprError::SizeLimit(_) => limit_hit("size", err.to_string()),
        ExprError::TimeLimit => limit_hit("time", err.to_string()),
        other => NodeError::Expression(other.to_string()),
    }
}

/// Which time limit an evaluation runs under.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TimeLimit {
    /// The node's.
    Node,
    /// What is left of the execution's.
    Execution(Duration),
}

impl TimeLimit {
    fn exceeded(self, node: Duration) -> NodeError {
        let (ms, what) = match self {
            TimeLimit::Node => (node.as_millis(), "node"),
            TimeLimit::Execution(total) => (total.as_millis(), "execution"),
        };
        limit_hit("time", format!("exceeded the {ms} ms {what} time limit"))
    }
}

/// An execution's evaluation time: what its expressions computed so far, of its limit.
pub(crate) struct Budget {
    limit: Duration,
    used_nanos: AtomicU64,
}

impl Budget {
    pub(crate) fn new(limit: Duration) -> Self {
        Budget {
            limit,
            used_nanos: AtomicU64::new(0),
        }
    }

    fn used(&self) -> Duration {
        Duration::from_nanos(self.used_nanos.load(Ordering::Relaxed))
    }

    fn spend(&self, time: Duration) {
        let nanos = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
        self.used_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Fails once the execution has used up its evaluation time.
    pub(crate) fn check(&self) -> Result<(), NodeError> {
        self.next_limit(Duration::MAX).map(drop)
    }

    /// The time the next evaluation has: the node limit, or what is left of the
    /// execution's when that is less.
    fn next_limit(&self, node: Duration) -> Result<(Duration, TimeLimit), NodeError> {
        let left = self.limit.saturating_sub(self.used());
        if left.is_zero() {
            return Err(TimeLimit::Execution(self.limit).exceeded(node));
        }
        Ok(if left < node {
            (left, TimeLimit::Execution(self.limit))
        } else {
            (node, TimeLimit::Node)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_execution_spends_its_evaluation_time_across_nodes() {
        let budget = Budget::new(Duration::from_millis(100));
        let node = Duration::from_millis(80);
        assert!(matches!(budget.next_limit(node), Ok((n, TimeLimit::Node)) if n == node));
        budget.spend(Duration::from_millis(60));
        let (left, which) = budget.next_limit(node).expect("time is left");
        assert_eq!(left, Duration::from_millis(40));
        assert!(matches!(which, TimeLimit::Execution(_)));
        assert!(budget.check().is_ok());
        budget.spend(Duration::from_millis(50));
        let err = budget.check().expect_err("used up");
        assert_eq!(err.to_string(), "exceeded the 100 ms execution time limit");
    }
}
