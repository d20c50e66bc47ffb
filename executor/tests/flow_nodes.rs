//! Loop and parallel nodes in the executor on a real PostgreSQL and RabbitMQ: what they
//! record (iteration paths, aborted branches, overlapping times) and what they answer.

mod support;

use serde_json::{Value, json};
use shared::messages::ExecutionStatus;
use support::{Harness, JobRow};

fn workflow(sync: bool, nodes: Value) -> Value {
    json!({"title": "t", "sync": sync, "trigger": {}, "nodes": nodes})
}

/// `(key, status, iteration)` of each job row.
fn trail(rows: &[JobRow]) -> Vec<(&str, &str, Option<Vec<i32>>)> {
    rows.iter()
        .map(|row| (row.key.as_str(), row.status.as_str(), row.iteration.clone()))
        .collect()
}

fn row<'r>(rows: &'r [JobRow], key: &str) -> &'r JobRow {
    rows.iter()
        .find(|row| row.key == key)
        .unwrap_or_else(|| panic!("no job {key} in {rows:?}"))
}

#[tokio::test]
async fn a_loop_records_each_iteration_of_its_body_with_its_index() {
    let harness = Harness::start().await;
    let id = harness
        .create_workflow(&workflow(false, json!([
            {"key": "items", "type": "loop",
             "config": {"target": "{{$context.body.items}}", "exit": "continue",
                        "condition": {"engine": "cel", "expression": "scopes.items.item.qty < 100"}},
             "branches": {"body": [
                {"key": "ok", "type": "condition",
                 "config": {"rejectOnFalse": true, "engine": "cel", "expression": "scopes.items.item.qty > 0"}},
                {"key": "line", "type": "calculation",
                 "config": {"engine": "cel", "expression": "scopes.items.item.qty * scopes.items.item.price"}},
             ]}},
            {"key": "count", "type": "calculation", "config": {"engine": "cel", "expression": "jobs.items"}},
        ])))
        .await;
    let items = json!([{"qty": 2, "price": 5}, {"qty": 0, "price": 9}, {"qty": 3, "price": 1},
                       {"qty": 500, "price": 1}, {"qty": 1, "price": 1}]);
    let message = support::message(id, false, json!({"body": {"items": items}}));
    harness.publish(&message).await;

    let recorded = harness.finished(message.execution_id).await;
    assert_eq!(recorded.status, "resolved", "{:?}", recorded.error);
    let rows = harness.job_rows(message.execution_id).await;
    assert_eq!(
        trail(&rows),
        vec![
            ("items", "resolved", None),
            ("ok", "resolved", Some(vec![0])),
            ("line", "resolved", Some(vec![0])),
            ("ok", "failed", Some(vec![1])),
            ("ok", "resolved", Some(vec![2])),
            ("line", "resolved", Some(vec![2])),
            ("count", "resolved", None),
        ],
        "the second item fails its iteration (exit continue); the fourth stops the loop"
    );
    let lines: Vec<Option<Value>> = rows
        .iter()
        .filter(|r| r.key == "line")
        .map(|r| r.result.clone())
        .collect();
    assert_eq!(lines, [Some(json!(10)), Some(json!(3))]);
    assert_eq!(row(&rows, "count").result, Some(json!(3)));
}

#[tokio::test]
async fn a_number_target_with_exit_fail_fails_the_execution_at_the_failed_iteration() {
    let harness = Harness::start().await;
    let id = harness
        .create_workflow(&workflow(false, json!([
            {"key": "times", "type": "loop", "config": {"target": 5},
             "branches": {"body": [
                {"key": "third", "type": "condition",
                 "config": {"rejectOnFalse": true, "engine": "cel", "expression": "scopes.times.index != 2"}},
             ]}},
            {"key": "never", "type": "calculation", "config": {"expression": "1"}},
        ])))
        .await;
    let message = support::message(id, false, json!({}));
    harness.publish(&message).await;
    let recorded = harness.finished(message.execution_id).await;
    assert_eq!(recorded.status, "failed");
    let rows = harness.job_rows(message.execution_id).await;
    assert_eq!(
        trail(&rows),
        vec![
            ("times", "failed", None),
            ("third", "resolved", Some(vec![0])),
            ("third", "resolved", Some(vec![1])),
            ("third", "failed", Some(vec![2])),
        ]
    );
    assert_eq!(rows[0].result, Some(json!(3)));
}

#[tokio::test]
async fn a_loop_beyond_the_configured_limit_is_an_error() {
    let harness = Harness::start_with(|config| config.max_loop_iterations = 2).await;
    let id = harness
        .create_workflow(&workflow(false, json!([
            {"key": "many", "type": "loop", "config": {"target": "{{$context.n}}"},
             "branches": {"body": [{"key": "x", "type": "calculation", "config": {"expression": "1"}}]}},
        ])))
        .await;
    let message = support::message(id, false, json!({"n": 3}));
    harness.publish(&message).await;
    let recorded = harness.finished(message.execution_id).await;
    assert_eq!(recorded.status, "error");
    assert_eq!(
        recorded.error.as_deref(),
        Some(
            "node \"many\" (loop): the loop target asks for 3 iterations; a loop runs at most 2 (HOOKFLOW_MAX_LOOP_ITERATIONS)"
        )
    );
    assert_eq!(
        trail(&harness.job_rows(message.execution_id).await),
        vec![("many", "error", None)]
    );

    let message = support::message(id, false, json!({"n": 2}));
    harness.publish(&message).await;
    assert_eq!(
        harness.finished(message.execution_id).await.status,
        "resolved"
    );
}

fn delay(key: &str, ms: u64) -> Value {
    json!({"key": key, "type": "delay", "config": {"duration": ms}})
}

#[tokio::test]
async fn parallel_branches_overlap_in_time() {
    let harness = Harness::start().await;
    let id = harness
        .create_workflow(&workflow(
            false,
            json!([
                {"key": "both", "type": "parallel", "config": {"mode": "all"},
                 "branches": {"a": [delay("waitA", 300)], "b": [delay("waitB", 300)]}},
            ]),
        ))
        .await;
    let message = support::message(id, false, json!({}));
    harness.publish(&message).await;
    assert_eq!(
        harness.finished(message.execution_id).await.status,
        "resolved"
    );
    let rows = harness.job_rows(message.execution_id).await;
    let (a, b) = (row(&rows, "waitA"), row(&rows, "waitB"));
    let (a_end, b_end) = (
        a.finished_at.expect("a finished"),
        b.finished_at.expect("b finished"),
    );
    assert!(
        a.started_at < b_end && b.started_at < a_end,
        "both branches started before either finished: {a:?} {b:?}"
    );
    assert_eq!(
        row(&rows, "both").result,
        Some(json!({"a": "resolved", "b": "resolved"}))
    );
}

#[tokio::test]
async fn each_mode_stops_the_branches_it_no_longer_needs() {
    let harness = Harness::start().await;
    let fail = json!({"key": "no", "type": "end", "config": {"endStatus": -1}});
    // (mode, branches, execution status, trail)
    let cases = [
        (
            "all",
            json!({"bad": [fail.clone()], "slow": [delay("slow1", 20_000)]}),
            "failed",
            vec![("p", "failed"), ("no", "failed"), ("slow1", "aborted")],
        ),
        (
            "any",
            json!({"bad": [fail.clone()], "good": [delay("quick", 30)], "slow": [delay("slow2", 20_000)]}),
            "resolved",
            vec![
                ("p", "resolved"),
                ("no", "failed"),
                ("quick", "resolved"),
                ("slow2", "aborted"),
                ("after", "resolved"),
            ],
        ),
        (
            "race",
            json!({"fast": [delay("first", 30)], "slow": [delay("slow3", 20_000), fail.clone()]}),
            "resolved",
            vec![
                ("p", "resolved"),
                ("first", "resolved"),
                ("slow3", "aborted"),
                ("after", "resolved"),
            ],
        ),
    ];
    for (mode, branches, status, expected) in cases {
        let id = harness
            .create_workflow(&workflow(false, json!([
                {"key": "p", "type": "parallel", "config": {"mode": mode}, "branches": branches},
                {"key": "after", "type": "calculation", "config": {"expression": "1"}},
            ])))
            .await;
        let message = support::message(id, false, json!({}));
        harness.publish(&message).await;
        let recorded = harness.finished(message.execution_id).await;
        assert_eq!(recorded.status, status, "mode {mode}");
        let rows = harness.job_rows(message.execution_id).await;
        let found: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.key.as_str(), r.status.as_str()))
            .collect();
        assert_eq!(found, expected, "mode {mode}");
        let aborted = rows
            .iter()
            .find(|r| r.status == "aborted")
            .expect("an aborted job");
        let lasted = aborted.finished_at.expect("finished") - aborted.started_at;
        assert!(
            lasted.num_seconds() < 10,
            "the stopped delay did not wait out its 20 s: {aborted:?}"
        );
    }
}

#[tokio::test]
async fn a_response_in_a_branch_answers_the_sync_caller() {
    let mut harness = Harness::start().await;
    let id = harness
        .create_workflow(&workflow(true, json!([
            {"key": "p", "type": "parallel", "config": {"mode": "all"}, "branches": {
                "answer": [delay("short", 20),
                           {"key": "reply", "type": "response",
                            "config": {"statusCode": 202, "body": {"order": "{{$context.body.id}}"}}}],
                "work": [delay("long", 20_000)],
            }},
            {"key": "after", "type": "calculation", "config": {"expression": "1"}},
        ])))
        .await;
    let message = support::message(id, true, json!({"body": {"id": "o-7"}}));
    harness.publish(&message).await;
    let (reply, _) = harness.next_reply().await;
    assert_eq!(reply.status, ExecutionStatus::Resolved);
    let response = reply.response.expect("the branch's response");
    assert_eq!(
        (response.status_code, response.body),
        (202, json!({"order": "o-7"}))
    );
    let rows = harness.job_rows(message.execution_id).await;
    let found: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.key.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            ("p", "resolved"),
            ("short", "resolved"),
            ("reply", "resolved"),
            ("long", "aborted")
        ]
    );
}
