//! A runaway workflow ends as `error` naming the limit it hit, while the executor goes on
//! recording everyone else's executions (docs/limits.md).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use shared::messages::ExecutionStatus;
use support::Harness;

/// This process's resident memory (the executor runs in it), from `/proc`.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS")
        * 1024
}

/// Samples the resident memory every 10 ms until aborted, keeping the peak.
fn sample_peak_rss() -> (Arc<AtomicU64>, tokio::task::JoinHandle<()>) {
    let peak = Arc::new(AtomicU64::new(rss_bytes()));
    let sampler = tokio::spawn({
        let peak = Arc::clone(&peak);
        async move {
            loop {
                peak.fetch_max(rss_bytes(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
    (peak, sampler)
}

fn workflow(sync: bool, nodes: Value) -> Value {
    json!({"title": "t", "sync": sync, "trigger": {}, "nodes": nodes})
}

fn calc(key: &str, expression: &str) -> Value {
    json!({"key": key, "type": "calculation", "config": {"engine": "cel", "expression": expression}})
}

#[tokio::test]
async fn runaway_expressions_end_as_errors_while_other_executions_go_on() {
    let mut harness = Harness::start_with(|config| config.node_timeout_ms = 3000).await;
    let replace = harness
        .create_workflow(&workflow(
            false,
            json!([calc("calc", "context.body.a.replace('a', context.body.b)")]),
        ))
        .await;
    // Nine hundred million steps: minutes of work, unless stopped.
    let spin = harness
        .create_workflow(&workflow(
            false,
            json!([calc(
                "spin",
                "lists.range(30000).all(i, lists.range(30000).all(j, j >= context.body.min))"
            )]),
        ))
        .await;
    let paid = harness
        .create_workflow(&workflow(
            true,
            json!([
                {"key": "paid", "type": "condition", "config": {"rejectOnFalse": true, "engine": "cel",
                  "expression": "context.body.status == 'paid'"}},
                {"key": "ok", "type": "response", "config": {"body": {"id": "{{$context.body.id}}"}}},
            ]),
        ))
        .await;

    let spinning = support::message(spin, false, json!({"body": {"min": 0}}));
    let huge = support::message(
        replace,
        false,
        json!({"body": {"a": "a".repeat(100_000), "b": "b".repeat(100_000)}}),
    );
    let caller = support::message(paid, true, json!({"body": {"id": 7, "status": "paid"}}));
    let before = rss_bytes();
    let (peak, sampler) = sample_peak_rss();
    harness.publish(&spinning).await;
    harness.publish(&huge).await;
    harness.publish(&caller).await;

    // The other caller is answered while the runaway still computes.
    let (reply, _) = harness.next_reply().await;
    assert_eq!(reply.execution_id, caller.execution_id);
    assert_eq!(reply.status, ExecutionStatus::Resolved);
    assert_eq!(reply.response.expect("the answer").body, json!({"id": 7}));
    let answered = harness.finished(caller.execution_id).await;
    assert_eq!(answered.status, "resolved");

    let huge = harness.finished(huge.execution_id).await;
    assert_eq!(huge.status, "error");
    assert_eq!(
        huge.error.as_deref(),
        Some("node \"calc\" (calculation): exceeded the 1 MiB value limit")
    );

    let spun = harness.finished(spinning.execution_id).await;
    assert_eq!(spun.status, "error");
    assert_eq!(
        spun.error.as_deref(),
        Some("node \"spin\" (calculation): exceeded the 3000 ms node time limit")
    );
    assert!(
        answered.finished_at < spun.finished_at,
        "the caller's execution waited for the runaway"
    );
    sampler.abort();
    // The replace would have built 10 GB; what the test process grew by is what the
    // messages, their records and the bounded work took.
    let grown = peak.load(Ordering::Relaxed).saturating_sub(before);
    assert!(
        grown < 64 << 20,
        "resident memory grew by {} MiB",
        grown >> 20
    );
    let jobs = harness.jobs(spinning.execution_id).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].2, "error");
    assert_eq!(
        jobs[0].3,
        json!({"error": "exceeded the 3000 ms node time limit"})
    );

    let metrics = reqwest::get(format!("{}/metrics", harness.executor.url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    for limit in ["time", "size"] {
        let line = format!("hookflow_evaluation_limits_total{{limit=\"{limit}\"}}");
        assert!(metrics.contains(&line), "{line} missing from {metrics}");
    }
}

#[tokio::test]
async fn a_loop_whose_results_pile_up_past_the_execution_limit_ends_as_error_while_others_go_on() {
    let mut harness = Harness::start_with(|config| config.max_execution_bytes = 64 * 1024).await;
    // Each iteration holds the caller's `pad` once more: the caller decides how much piles up.
    let grow = harness
        .create_workflow(&workflow(
            true,
            json!([
                {"key": "each", "type": "loop", "config": {"target": "{{$context.body.items}}"},
                 "branches": {"body": [calc("grow", "context.body.pad + string(scopes.each.item)")]}},
                {"key": "ok", "type": "response", "config": {"body": {"done": "{{$jobsMapByNodeKey.each}}"}}},
            ]),
        ))
        .await;
    let items: Vec<u32> = (0..100).collect();
    let piling = support::message(
        grow,
        true,
        json!({"body": {"items": items, "pad": "x".repeat(10_000)}}),
    );
    let small = support::message(grow, true, json!({"body": {"items": [1, 2], "pad": "x"}}));
    harness.publish(&piling).await;
    harness.publish(&small).await;

    let mut replies = Vec::new();
    for _ in 0..2 {
        replies.push(harness.next_reply().await.0);
    }
    let reply = |id| {
        replies
            .iter()
            .find(|reply| reply.execution_id == id)
            .expect("a reply for each caller")
    };
    // The sync caller of the runaway gets the error answer (500 from ingress), no response.
    assert_eq!(reply(piling.execution_id).status, ExecutionStatus::Error);
    assert!(reply(piling.execution_id).response.is_none());
    let answered = reply(small.execution_id);
    assert_eq!(answered.status, ExecutionStatus::Resolved);
    assert_eq!(
        answered.response.as_ref().expect("the answer").body,
        json!({"done": 2})
    );

    let message = "the execution's job results exceeded the 64 KiB execution limit";
    let piled = harness.finished(piling.execution_id).await;
    assert_eq!(piled.status, "error");
    assert_eq!(
        piled.error.as_deref(),
        Some(format!("node \"grow\" (calculation): {message}").as_str())
    );
    let jobs = harness.jobs(piling.execution_id).await;
    let last = jobs.last().expect("the job that crossed the limit");
    assert_eq!((last.0.as_str(), last.2.as_str()), ("grow", "error"));
    assert_eq!(last.3, json!({"error": message}));
    // It stopped where it crossed the limit: 7 iterations of 10 kB, not 100.
    assert_eq!(jobs.iter().filter(|job| job.0 == "grow").count(), 7);
    assert_eq!(jobs[0].0, "each");
    assert_eq!(jobs[0].2, "failed");
    assert!(!jobs.iter().any(|job| job.0 == "ok"));

    // The executor goes on serving: a later execution runs as usual.
    let after = support::message(grow, true, json!({"body": {"items": [1], "pad": "y"}}));
    harness.publish(&after).await;
    let (next, _) = harness.next_reply().await;
    assert_eq!(next.execution_id, after.execution_id);
    assert_eq!(next.status, ExecutionStatus::Resolved);
    assert_eq!(
        harness.finished(after.execution_id).await.status,
        "resolved"
    );
}
