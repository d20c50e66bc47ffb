//! Evaluation bounds: a runaway node ends its execution as `error` naming the limit it hit.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::{doc, meta};
use crate::engine::{Engine, EvalLimits, RunResult};
use crate::messages::{ExecutionStatus, JobStatus};

/// Runs for minutes unless stopped: 900 million steps, building nothing large.
const RUNAWAY: &str = "lists.range(30000).all(i, lists.range(30000).all(j, j >= 0))";

fn calc(key: &str, expression: &str) -> Value {
    json!({"key": key, "type": "calculation", "config": {"engine": "cel", "expression": expression}})
}

fn limits(node_ms: u64, execution_ms: u64) -> EvalLimits {
    EvalLimits {
        node_time: Duration::from_millis(node_ms),
        execution_time: Duration::from_millis(execution_ms),
        ..EvalLimits::default()
    }
}

async fn run_with(limits: EvalLimits, nodes: Value, context: Value) -> RunResult {
    Engine::new()
        .with_limits(limits)
        .run(&doc(nodes), &meta(), context)
        .await
}

fn assert_error(result: &RunResult, message: &str) {
    assert_eq!(result.status, ExecutionStatus::Error, "{result:?}");
    assert_eq!(result.error.as_deref(), Some(message));
    let last = result.jobs.last().expect("the node that raised");
    assert_eq!(last.status, JobStatus::Error);
}

#[tokio::test]
async fn a_replace_of_caller_input_past_the_value_limit_ends_as_error() {
    let context = json!({"body": {"a": "a".repeat(100_000), "b": "b".repeat(100_000)}});
    let nodes = json!([calc("calc", "context.body.a.replace('a', context.body.b)")]);
    let result = run_with(EvalLimits::default(), nodes, context).await;
    assert_error(
        &result,
        "node \"calc\" (calculation): exceeded the 1 MiB value limit",
    );
    assert_eq!(
        result.jobs[0].result,
        json!({"error": "exceeded the 1 MiB value limit"})
    );
}

#[tokio::test]
async fn a_replace_within_the_limit_runs() {
    let context = json!({"body": {"a": "a".repeat(1000), "b": "bb"}});
    let nodes = json!([calc(
        "calc",
        "size(context.body.a.replace('a', context.body.b))"
    )]);
    let result = run_with(EvalLimits::default(), nodes, context).await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
    assert_eq!(result.jobs[0].result, json!(2000));
}

#[tokio::test]
async fn concatenation_and_lists_past_the_limit_end_as_error() {
    let small = EvalLimits {
        max_value_bytes: 4096,
        ..EvalLimits::default()
    };
    let context = json!({"body": {"s": "x".repeat(3000)}});
    for expression in [
        "context.body.s + context.body.s",
        "lists.range(200) + lists.range(200)",
        "lists.range(1000).map(i, i)",
        "lists.range(100).map(i, context.body.s)",
        "[context.body.s, context.body.s].join('')",
        "'%s%s'.format([context.body.s, context.body.s])",
        // An error that `||` absorbs still ends the node.
        "(context.body.s + context.body.s) == '' || true",
    ] {
        let result = run_with(small, json!([calc("calc", expression)]), context.clone()).await;
        assert_error(
            &result,
            "node \"calc\" (calculation): exceeded the 4 KiB value limit",
        );
    }
}

#[tokio::test]
async fn a_runaway_expression_stops_at_the_node_time_limit() {
    let result = run_with(
        limits(200, 10_000),
        json!([calc("spin", RUNAWAY)]),
        json!({}),
    )
    .await;
    assert_error(
        &result,
        "node \"spin\" (calculation): exceeded the 200 ms node time limit",
    );
}

#[tokio::test]
async fn what_is_left_of_the_execution_time_bounds_a_node() {
    let result = run_with(
        limits(10_000, 300),
        json!([calc("spin", RUNAWAY)]),
        json!({}),
    )
    .await;
    assert_error(
        &result,
        "node \"spin\" (calculation): exceeded the 300 ms execution time limit",
    );
}

#[tokio::test]
async fn waiting_does_not_count_toward_the_execution_time() {
    let nodes = json!([
        {"key": "wait", "type": "delay", "config": {"duration": 600}},
        calc("after", "1 + 1"),
    ]);
    let result = run_with(limits(500, 500), nodes, json!({})).await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
    assert_eq!(result.jobs[1].result, json!(2));
}

#[tokio::test]
async fn a_template_that_writes_past_the_value_limit_ends_as_error() {
    let context = json!({"body": {"s": "x".repeat(600_000)}});
    let respond =
        |body: &str| json!([{"key": "answer", "type": "response", "config": {"body": body}}]);
    let result = run_with(
        EvalLimits::default(),
        respond("{{$context.body.s}}-{{$context.body.s}}"),
        context.clone(),
    )
    .await;
    assert_error(
        &result,
        "node \"answer\" (response): exceeded the 1 MiB value limit",
    );

    // A single placeholder hands the value over as it is: it builds nothing.
    let context = json!({"body": {"s": "x".repeat(1_500_000)}});
    let result = run_with(
        EvalLimits::default(),
        respond("{{$context.body.s}}"),
        context,
    )
    .await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
}

#[tokio::test(flavor = "current_thread")]
async fn expressions_run_off_the_async_runtime() {
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = tokio::spawn({
        let ticks = Arc::clone(&ticks);
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    // On this one-thread runtime the ticker only ticks while the expression runs if the
    // expression runs elsewhere.
    let result = run_with(
        limits(300, 10_000),
        json!([calc("spin", RUNAWAY)]),
        json!({}),
    )
    .await;
    ticker.abort();
    assert_eq!(result.status, ExecutionStatus::Error);
    assert!(
        ticks.load(Ordering::Relaxed) >= 5,
        "the runtime was blocked"
    );
}

#[tokio::test]
async fn a_runaway_gives_its_thread_back() {
    let one_thread = EvalLimits {
        threads: 1,
        ..limits(200, 10_000)
    };
    let engine = Engine::new().with_limits(one_thread);
    let spin = engine
        .run(&doc(json!([calc("spin", RUNAWAY)])), &meta(), json!({}))
        .await;
    assert_eq!(spin.status, ExecutionStatus::Error);
    // The only evaluation thread is free again only if the runaway really stopped.
    let next = tokio::time::timeout(
        Duration::from_secs(60),
        engine.run(&doc(json!([calc("next", "1 + 1")])), &meta(), json!({})),
    )
    .await
    .expect("the evaluation thread was given back");
    assert_eq!(next.status, ExecutionStatus::Resolved, "{:?}", next.error);
}
