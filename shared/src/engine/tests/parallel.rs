use serde_json::{Value, json};

use super::{calc, doc, iterations, keys, run, trail};
use crate::engine::JobRecord;
use crate::messages::ExecutionStatus;

fn parallel(key: &str, mode: &str, branches: Value) -> Value {
    json!({"key": key, "type": "parallel", "config": {"mode": mode}, "branches": branches})
}

fn delay(key: &str, ms: u64) -> Value {
    json!({"key": key, "type": "delay", "config": {"duration": ms}})
}

fn fail(key: &str) -> Value {
    json!({"key": key, "type": "end", "config": {"endStatus": -1}})
}

fn job<'r>(jobs: &'r [JobRecord], key: &str) -> &'r JobRecord {
    jobs.iter()
        .find(|job| job.node_key == key)
        .unwrap_or_else(|| panic!("no job {key}"))
}

#[tokio::test]
async fn branches_run_at_the_same_time() {
    let workflow = doc(json!([
        parallel(
            "both",
            "all",
            json!({
                "a": [delay("waitA", 200), calc("x", "1")],
                "b": [delay("waitB", 200), calc("y", "2")],
            })
        ),
        calc("sum", "jobs.x + jobs.y")
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
    let (a, b) = (job(&result.jobs, "waitA"), job(&result.jobs, "waitB"));
    assert!(
        a.started_at < b.finished_at && b.started_at < a.finished_at,
        "both delays started before either finished: {a:?} {b:?}"
    );
    assert_eq!(
        trail(&result),
        keys(&[
            ("both", "resolved"),
            ("waitA", "resolved"),
            ("x", "resolved"),
            ("waitB", "resolved"),
            ("y", "resolved"),
            ("sum", "resolved")
        ])
    );
    assert_eq!(
        result.jobs[0].result,
        json!({"a": "resolved", "b": "resolved"})
    );
    assert_eq!(
        job(&result.jobs, "sum").result,
        json!(3),
        "outputs of both branches are merged"
    );
}

#[tokio::test]
async fn all_fails_as_soon_as_one_branch_fails_and_stops_the_others() {
    let workflow = doc(json!([
        parallel(
            "p",
            "all",
            json!({
                "quick": [fail("no")],
                "slow": [delay("wait", 10_000), calc("never", "1")],
            })
        ),
        calc("after", "1")
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Failed);
    assert_eq!(
        trail(&result),
        keys(&[("p", "failed"), ("no", "failed"), ("wait", "aborted")])
    );
    assert_eq!(
        result.jobs[0].result,
        json!({"quick": "failed", "slow": "aborted"})
    );
    let wait = job(&result.jobs, "wait");
    assert!((wait.finished_at - wait.started_at).num_milliseconds() < 5_000);
    assert!(
        wait.result["error"]
            .as_str()
            .unwrap_or_default()
            .contains("was no longer needed")
    );
}

#[tokio::test]
async fn an_error_in_a_branch_is_the_workflow_error() {
    let workflow = doc(json!([parallel(
        "p",
        "all",
        json!({
            "a": [calc("boom", "context.missing.field")],
            "b": [delay("wait", 10_000)],
        })
    )]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Error);
    assert!(
        result
            .error
            .as_deref()
            .unwrap_or_default()
            .starts_with("node \"boom\"")
    );
    assert_eq!(
        trail(&result),
        keys(&[("p", "failed"), ("boom", "error"), ("wait", "aborted")])
    );
}

#[tokio::test]
async fn any_resolves_with_the_first_branch_that_resolves() {
    let workflow = doc(json!([
        parallel(
            "p",
            "any",
            json!({
                "broken": [fail("no")],
                "fine": [delay("short", 50), calc("x", "7")],
                "slow": [delay("long", 10_000)],
            })
        ),
        calc("after", "jobs.x")
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
    assert_eq!(
        trail(&result),
        keys(&[
            ("p", "resolved"),
            ("no", "failed"),
            ("short", "resolved"),
            ("x", "resolved"),
            ("long", "aborted"),
            ("after", "resolved")
        ])
    );
    assert_eq!(
        result.jobs[0].result,
        json!({"broken": "failed", "fine": "resolved", "slow": "aborted"})
    );
    assert_eq!(job(&result.jobs, "after").result, json!(7));
}

#[tokio::test]
async fn any_fails_when_every_branch_failed() {
    let workflow = doc(json!([
        parallel(
            "p",
            "any",
            json!({
                "a": [fail("no")],
                "b": [delay("wait", 30), fail("neither")],
            })
        ),
        calc("after", "1")
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Failed);
    assert_eq!(
        trail(&result),
        keys(&[
            ("p", "failed"),
            ("no", "failed"),
            ("wait", "resolved"),
            ("neither", "failed")
        ])
    );
}

#[tokio::test]
async fn race_takes_the_first_branch_to_finish() {
    let workflow = doc(json!([
        parallel(
            "p",
            "race",
            json!({
                "fast": [delay("a", 30), fail("no")],
                "slow": [delay("b", 10_000)],
            })
        ),
        calc("after", "1")
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Failed);
    assert_eq!(
        trail(&result),
        keys(&[
            ("p", "failed"),
            ("a", "resolved"),
            ("no", "failed"),
            ("b", "aborted")
        ])
    );

    let workflow = doc(json!([
        parallel(
            "p",
            "race",
            json!({
                "fast": [delay("a", 30)],
                "slow": [delay("b", 10_000), fail("no")],
            })
        ),
        calc("after", "1")
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert_eq!(
        trail(&result),
        keys(&[
            ("p", "resolved"),
            ("a", "resolved"),
            ("b", "aborted"),
            ("after", "resolved")
        ])
    );
    assert_eq!(
        result.jobs[0].result,
        json!({"fast": "resolved", "slow": "aborted"})
    );
}

#[tokio::test]
async fn a_response_in_a_branch_answers_and_ends_the_whole_workflow() {
    let workflow = doc(json!([
        parallel(
            "p",
            "all",
            json!({
                "answer": [delay("a", 20), {"key": "reply", "type": "response", "config": {"statusCode": 202, "body": {"ok": true}}}],
                "work": [delay("b", 10_000)],
            })
        ),
        calc("after", "1")
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    let reply = result.response.clone().expect("reply");
    assert_eq!((reply.status_code, reply.body), (202, json!({"ok": true})));
    assert_eq!(
        trail(&result),
        keys(&[
            ("p", "resolved"),
            ("a", "resolved"),
            ("reply", "resolved"),
            ("b", "aborted")
        ])
    );
}

#[tokio::test]
async fn stopped_loops_inside_a_branch_leave_aborted_jobs_at_every_level() {
    let workflow = doc(json!([parallel(
        "p",
        "race",
        json!({
            "fast": [delay("a", 20)],
            "slow": [{"key": "l", "type": "loop", "config": {"target": 3},
                      "branches": {"body": [delay("b", 10_000)]}}],
        })
    )]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert_eq!(
        iterations(&result),
        vec![
            ("p".to_owned(), "resolved", vec![]),
            ("a".to_owned(), "resolved", vec![]),
            ("l".to_owned(), "aborted", vec![]),
            ("b".to_owned(), "aborted", vec![0]),
        ]
    );
}

#[tokio::test]
async fn branches_inside_a_loop_record_the_iteration() {
    let workflow = doc(
        json!([{"key": "l", "type": "loop", "config": {"target": 2}, "branches": {"body": [
        parallel("p", "all", json!({"a": [calc("x", "scopes.l.index")], "b": [calc("y", "1")]})),
    ]}}, calc("after", "jobs.x")]),
    );
    let result = run(&workflow, json!({})).await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
    let x: Vec<Vec<usize>> = result
        .jobs
        .iter()
        .filter(|j| j.node_key == "x")
        .map(|j| j.iteration.clone())
        .collect();
    assert_eq!(x, [vec![0], vec![1]]);
    assert_eq!(
        job(&result.jobs, "after").result,
        json!(1),
        "the latest iteration's output"
    );
}

#[tokio::test]
async fn a_parallel_node_inside_a_stopped_branch_records_its_branches_as_aborted() {
    let workflow = doc(json!([parallel(
        "outer",
        "race",
        json!({
            "fast": [delay("a", 30)],
            "slow": [parallel("inner", "all", json!({
                "x": [delay("x1", 10_000)],
                "y": [calc("y1", "1"), delay("y2", 10_000)],
            }))],
        })
    )]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert_eq!(
        trail(&result),
        keys(&[
            ("outer", "resolved"),
            ("a", "resolved"),
            ("inner", "aborted"),
            ("x1", "aborted"),
            ("y1", "resolved"),
            ("y2", "aborted")
        ])
    );
}

#[tokio::test]
async fn every_branch_reads_the_one_context_by_template_and_expression() {
    let respond_body = json!({"a": "{{$jobsMapByNodeKey.a}}", "b": "{{$jobsMapByNodeKey.b}}",
        "id": "{{$context.body.items[0].id}}", "text": "id {{$context.body.items.0.id}}"});
    let workflow = doc(json!([
        parallel(
            "p",
            "all",
            json!({
                "a": [calc("a", "context.body.items[0].id + 1")],
                "b": [{"key": "l", "type": "loop", "config": {"target": "{{$context.body.items}}"},
                    "branches": {"body": [calc("b", "scopes.l.item.id + 2")]}}],
            })
        ),
        {"key": "answer", "type": "response", "config": {"body": respond_body}},
    ]));
    let result = run(&workflow, json!({"body": {"items": [{"id": 40}]}})).await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
    assert_eq!(
        result.response.map(|reply| reply.body),
        Some(json!({"a": 41, "b": 42, "id": 40, "text": "id 40"}))
    );
}
