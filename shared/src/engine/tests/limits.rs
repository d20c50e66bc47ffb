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

/// An engine whose executions may hold `bytes` of job results.
fn holding(bytes: usize) -> Engine {
    Engine::new().with_max_execution_bytes(bytes)
}

fn looping(key: &str, config: Value, body: Value) -> Value {
    json!({"key": key, "type": "loop", "config": config, "branches": {"body": body}})
}

fn count(result: &RunResult, key: &str) -> usize {
    result.jobs.iter().filter(|job| job.node_key == key).count()
}

#[tokio::test]
async fn a_loop_whose_results_pile_up_past_the_execution_limit_ends_as_error() {
    // Each iteration's result is 10 kB of the caller's text: 20 of them are 200 kB.
    let context = json!({"body": {"s": "x".repeat(10_000), "n": 20}});
    let workflow = doc(json!([
        looping(
            "l",
            // `continue` absorbs a failed iteration, but not this limit.
            json!({"target": "{{$context.body.n}}", "exit": "continue"}),
            json!([calc("grow", "context.body.s + string(scopes.l.index)")])
        ),
        calc("after", "1"),
    ]));

    let result = holding(64 * 1024)
        .run(&workflow, &meta(), context.clone())
        .await;
    let message = "the execution's job results exceeded the 64 KiB execution limit";
    assert_error(&result, &format!("node \"grow\" (calculation): {message}"));
    assert_eq!(
        result.jobs.last().map(|job| &job.result),
        Some(&json!({"error": message}))
    );
    // It stopped at the iteration that crossed the limit, the loop failed, nothing after it ran.
    assert_eq!(count(&result, "grow"), 7);
    assert_eq!(result.jobs[0].node_key, "l");
    assert_eq!(result.jobs[0].status, JobStatus::Failed);
    assert_eq!(count(&result, "after"), 0);

    // The same loop within the default limit runs to its end.
    let result = Engine::new().run(&workflow, &meta(), context).await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
    assert_eq!(count(&result, "grow"), 20);
}

#[tokio::test]
async fn nested_loops_count_their_jobs_not_only_their_results() {
    // 100 × 100 tiny results: what piles up is ten thousand job records.
    let workflow = doc(json!([looping(
        "rows",
        json!({"target": 100}),
        json!([looping(
            "cols",
            json!({"target": 100}),
            json!([calc("cell", "1")])
        )])
    )]));
    let result = holding(256 * 1024).run(&workflow, &meta(), json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Error, "{:?}", result.error);
    let error = result.error.as_deref().unwrap_or_default();
    assert!(
        error.ends_with("the execution's job results exceeded the 256 KiB execution limit"),
        "{error}"
    );
    assert!(count(&result, "cell") < 10_000);
}

#[tokio::test]
async fn parallel_branches_count_toward_one_execution_limit() {
    let context = json!({"body": {"s": "x".repeat(10_000)}});
    let big = |key: &str| calc(key, "context.body.s");
    let wait =
        |key: &str, ms: u64| json!({"key": key, "type": "delay", "config": {"duration": ms}});
    // About 10 kB per result: `a` holds 30 kB, `b` 20 kB before it sleeps. `a` waits so that
    // its third result comes after `b`'s two, and takes the total past 48 KiB.
    let a = json!([
        big("a1"),
        wait("aWait", 300),
        big("a2"),
        wait("aWait2", 300),
        big("a3")
    ]);
    let b = json!([big("b1"), big("b2"), wait("bSleep", 10_000), big("b3")]);
    let workflow = |branches: Value| {
        doc(json!([
            // `any` goes on while another branch may still resolve, but not past this limit.
            {"key": "p", "type": "parallel", "config": {"mode": "any"}, "branches": branches},
            calc("after", "1"),
        ]))
    };
    let engine = holding(48 * 1024);

    // One branch alone is within the limit.
    let alone = engine
        .run(&workflow(json!({"a": a.clone()})), &meta(), context.clone())
        .await;
    assert_eq!(alone.status, ExecutionStatus::Resolved, "{:?}", alone.error);

    // Both together are not: the node fails at once, stopping the sleeping branch.
    let both = engine
        .run(&workflow(json!({"a": a, "b": b})), &meta(), context)
        .await;
    let message = "the execution's job results exceeded the 48 KiB execution limit";
    assert_eq!(both.status, ExecutionStatus::Error);
    assert_eq!(
        both.error,
        Some(format!("node \"a3\" (calculation): {message}"))
    );
    let status = |key: &str| {
        both.jobs
            .iter()
            .find(|job| job.node_key == key)
            .map(|job| (job.status, job.result.clone()))
    };
    assert_eq!(
        status("a3"),
        Some((JobStatus::Error, json!({"error": message})))
    );
    assert_eq!(
        status("p").map(|(status, _)| status),
        Some(JobStatus::Failed)
    );
    assert_eq!(
        status("bSleep").map(|(status, _)| status),
        Some(JobStatus::Aborted)
    );
    assert_eq!(status("b3"), None);
    assert_eq!(count(&both, "after"), 0);
}

/// `count` parallel nodes in a row after a 40 kB output, each of `branches` one-node branches.
fn branches_over_a_large_output(count: usize, branches: usize) -> crate::model::WorkflowDocument {
    let mut nodes = vec![calc("big", "context.body.s")];
    for n in 0..count {
        let branches: serde_json::Map<String, Value> = (0..branches)
            .map(|b| (format!("b{b}"), json!([calc(&format!("p{n}b{b}"), "1")])))
            .collect();
        nodes.push(json!({"key": format!("p{n}"), "type": "parallel", "config": {"mode": "all"}, "branches": branches}));
    }
    nodes.push(calc("after", "jobs.big.size()"));
    doc(Value::Array(nodes))
}

#[tokio::test]
async fn each_branch_copy_of_earlier_outputs_counts_while_the_branch_runs() {
    let context = json!({"body": {"s": "x".repeat(40_000)}});
    let engine = holding(128 * 1024);

    // Two branches copy the 40 kB output twice: 120 kB in all, within the limit. Three such
    // nodes in a row stay within it too, as each node's copies go when its branches end.
    let within = engine
        .run(
            &branches_over_a_large_output(3, 2),
            &meta(),
            context.clone(),
        )
        .await;
    assert_eq!(
        within.status,
        ExecutionStatus::Resolved,
        "{:?}",
        within.error
    );
    assert_eq!(count(&within, "after"), 1);

    // Four branches would hold 200 kB: the first branch's first node fails, so does the node.
    let over = engine
        .run(&branches_over_a_large_output(1, 4), &meta(), context)
        .await;
    let message = "the execution's job results exceeded the 128 KiB execution limit";
    assert_eq!(over.status, ExecutionStatus::Error);
    assert_eq!(
        over.error,
        Some(format!("node \"p0b0\" (calculation): {message}"))
    );
    let p0 = over.jobs.iter().find(|job| job.node_key == "p0");
    assert_eq!(p0.map(|job| job.status), Some(JobStatus::Failed));
    assert_eq!(count(&over, "after"), 0);
}
