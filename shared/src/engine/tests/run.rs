use std::time::Duration;

use serde_json::json;

use super::{doc, keys, payment, run, trail};
use crate::messages::{ExecutionStatus, HttpReply, JobStatus};
use crate::model::HeaderSpec;

#[tokio::test]
async fn payment_example_answers_paid_callers() {
    let result = run(&payment(), json!({"body": {"id": 42, "status": "paid"}})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert_eq!(
        trail(&result),
        keys(&[("paid", "resolved"), ("ok", "resolved")])
    );
    assert_eq!(result.jobs[0].result, json!(true));
    assert_eq!(result.jobs[0].node_type, "condition");
    let reply = result.response.expect("reply");
    assert_eq!(reply.status_code, 200);
    assert_eq!(reply.body, json!({"code": 0, "id": 42}));
    assert_eq!(result.error, None);
}

#[tokio::test]
async fn payment_example_refuses_unpaid_callers() {
    let result = run(&payment(), json!({"body": {"id": 7, "status": "pending"}})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert_eq!(
        trail(&result),
        keys(&[("paid", "resolved"), ("bad", "resolved")])
    );
    assert_eq!(result.jobs[0].result, json!(false));
    let reply = result.response.expect("reply");
    assert_eq!(reply.status_code, 400);
    assert_eq!(reply.body, json!({"code": 1, "message": "not paid"}));
}

fn calc(key: &str, expression: &str) -> serde_json::Value {
    json!({"key": key, "type": "calculation", "config": {"engine": "cel", "expression": expression}})
}

fn cel_condition(
    key: &str,
    expression: &str,
    t: serde_json::Value,
    f: serde_json::Value,
) -> serde_json::Value {
    json!({"key": key, "type": "condition", "config": {"engine": "cel", "expression": expression},
           "branches": {"true": t, "false": f}})
}

#[tokio::test]
async fn a_branch_that_does_not_terminate_rejoins_after_its_condition() {
    let workflow = doc(json!([
        cel_condition(
            "big",
            "context.body.amount > 10",
            json!([calc("inTrue", "1")]),
            json!([calc("inFalse", "2")])
        ),
        calc("after", "3"),
    ]));
    let result = run(&workflow, json!({"body": {"amount": 50}})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert_eq!(
        trail(&result),
        keys(&[
            ("big", "resolved"),
            ("inTrue", "resolved"),
            ("after", "resolved")
        ])
    );
    assert_eq!(result.response, None);

    let result = run(&workflow, json!({"body": {"amount": 5}})).await;
    assert_eq!(
        trail(&result),
        keys(&[
            ("big", "resolved"),
            ("inFalse", "resolved"),
            ("after", "resolved")
        ])
    );
}

#[tokio::test]
async fn nested_branches_rejoin_level_by_level() {
    let inner = cel_condition(
        "inner",
        "context.b",
        json!([calc("innerTrue", "1")]),
        json!([]),
    );
    let workflow = doc(json!([
        cel_condition(
            "outer",
            "context.a",
            json!([inner, calc("outerTrueTail", "2")]),
            json!([])
        ),
        calc("tail", "3"),
    ]));
    let result = run(&workflow, json!({"a": true, "b": true})).await;
    assert_eq!(
        trail(&result),
        keys(&[
            ("outer", "resolved"),
            ("inner", "resolved"),
            ("innerTrue", "resolved"),
            ("outerTrueTail", "resolved"),
            ("tail", "resolved"),
        ])
    );
    let result = run(&workflow, json!({"a": true, "b": false})).await;
    assert_eq!(
        trail(&result),
        keys(&[
            ("outer", "resolved"),
            ("inner", "resolved"),
            ("outerTrueTail", "resolved"),
            ("tail", "resolved")
        ])
    );
}

#[tokio::test]
async fn a_response_inside_a_nested_branch_ends_everything() {
    let inner = cel_condition(
        "inner",
        "true",
        json!([{"key": "answer", "type": "response", "config": {"statusCode": 201}}]),
        json!([]),
    );
    let workflow = doc(json!([
        cel_condition(
            "outer",
            "true",
            json!([inner, calc("skipped", "1")]),
            json!([])
        ),
        calc("alsoSkipped", "2"),
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(
        trail(&result),
        keys(&[
            ("outer", "resolved"),
            ("inner", "resolved"),
            ("answer", "resolved")
        ])
    );
    assert_eq!(result.response.expect("reply").status_code, 201);
}

#[tokio::test]
async fn reject_on_false_fails_the_workflow_and_stops() {
    let workflow = doc(json!([
        {"key": "gate", "type": "condition",
         "config": {"rejectOnFalse": true, "engine": "cel", "expression": "context.ok"}},
        calc("after", "1"),
    ]));
    let result = run(&workflow, json!({"ok": false})).await;
    assert_eq!(result.status, ExecutionStatus::Failed);
    assert_eq!(trail(&result), keys(&[("gate", "failed")]));
    assert_eq!(result.jobs[0].result, json!(false));

    let result = run(&workflow, json!({"ok": true})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert_eq!(
        trail(&result),
        keys(&[("gate", "resolved"), ("after", "resolved")])
    );
}

#[tokio::test]
async fn end_nodes_end_with_their_status() {
    for (end_status, status, job) in [
        (-1, ExecutionStatus::Failed, "failed"),
        (1, ExecutionStatus::Resolved, "resolved"),
    ] {
        let workflow = doc(json!([
            calc("first", "1"),
            {"key": "stop", "type": "end", "config": {"endStatus": end_status}},
            calc("never", "2"),
        ]));
        let result = run(&workflow, json!({})).await;
        assert_eq!(result.status, status);
        assert_eq!(
            trail(&result),
            keys(&[("first", "resolved"), ("stop", job)])
        );
        assert_eq!(result.response, None);
    }
}

#[tokio::test]
async fn cel_sees_context_jobs_and_system() {
    let workflow = doc(json!([
        calc("double", "context.body.amount * 2"),
        calc("both", "jobs.double + 1"),
        calc("clock", "size(system.now) > 0"),
        cel_condition("big", "jobs.both > 10", json!([]), json!([])),
    ]));
    let result = run(&workflow, json!({"body": {"amount": 21}})).await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
    let results: Vec<_> = result.jobs.iter().map(|job| job.result.clone()).collect();
    assert_eq!(
        results,
        vec![json!(42), json!(43), json!(true), json!(true)]
    );
}

#[tokio::test]
async fn outputs_reach_later_templates_by_node_key() {
    let workflow = doc(json!([
        calc("total", "{'sum': context.a + context.b}"),
        {"key": "answer", "type": "response", "config": {
            "statusCode": "{{$context.code}}",
            "headers": [{"name": "X-Total", "value": "sum={{$jobsMapByNodeKey.total.sum}}"},
                        {"name": "X-Execution", "value": "{{$execution.id}}"}],
            "body": {"total": "{{$jobsMapByNodeKey.total}}", "workflow": "{{$workflow.key}}"}}},
    ]));
    let result = run(&workflow, json!({"a": 2, "b": 3, "code": 202})).await;
    let reply = result.response.clone().expect("reply");
    assert_eq!(reply.status_code, 202);
    assert_eq!(
        reply.headers[0],
        HeaderSpec {
            name: "X-Total".into(),
            value: "sum=5".into()
        }
    );
    assert_eq!(
        reply.headers[1].value.len(),
        36,
        "an execution id: {:?}",
        reply.headers[1]
    );
    assert_eq!(
        reply.body,
        json!({"total": {"sum": 5}, "workflow": "abcdefghijk"})
    );
    let recorded: HttpReply =
        serde_json::from_value(result.jobs[1].result.clone()).expect("reply job");
    assert_eq!(recorded, reply);
}

#[tokio::test]
async fn system_now_is_an_iso_8601_time_and_execution_id_the_running_one() {
    let workflow = doc(json!([
        // CEL's timestamp() accepts RFC 3339 (ISO-8601) text only.
        calc("parsed", "timestamp(system.now)"),
        {"key": "answer", "type": "response", "config": {"body": {
            "now": "{{$system.now}}", "text": "at {{$system.now}}", "execution": "{{$execution.id}}"}}},
    ]));
    let meta = super::meta();
    let before = chrono::Utc::now() - chrono::TimeDelta::milliseconds(1);
    let result = super::Engine::new().run(&workflow, &meta, json!({})).await;
    assert_eq!(
        result.status,
        ExecutionStatus::Resolved,
        "{:?}",
        result.error
    );
    let body = result.response.expect("reply").body;
    let now = body["now"].as_str().expect("$system.now is text");
    let at = chrono::DateTime::parse_from_rfc3339(now).expect("an ISO-8601 time");
    assert!(at >= before && at <= chrono::Utc::now(), "{now}");
    assert_eq!(body["text"], json!(format!("at {now}")));
    assert_eq!(body["execution"], json!(meta.execution_id.to_string()));
}

#[tokio::test]
async fn a_response_without_settings_answers_200_with_no_body() {
    let workflow = doc(json!([{"key": "r", "type": "response"}]));
    let reply = run(&workflow, json!({})).await.response.expect("reply");
    assert_eq!(
        reply,
        HttpReply {
            status_code: 200,
            headers: vec![],
            body: json!(null)
        }
    );
}

#[tokio::test]
async fn delay_waits_then_continues_or_fails() {
    let workflow = doc(json!([
        {"key": "wait", "type": "delay", "config": {"duration": 30, "endStatus": 1}},
        calc("after", "1"),
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(
        trail(&result),
        keys(&[("wait", "resolved"), ("after", "resolved")])
    );
    let waited = result.jobs[0].finished_at - result.jobs[0].started_at;
    assert!(
        waited >= chrono::Duration::milliseconds(30),
        "waited {waited}"
    );

    let workflow = doc(json!([
        {"key": "wait", "type": "delay", "config": {"duration": 1, "endStatus": -1}},
        calc("after", "1"),
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Failed);
    assert_eq!(trail(&result), keys(&[("wait", "failed")]));
}

#[tokio::test(flavor = "current_thread")]
async fn delays_do_not_hold_the_thread() {
    let workflow = doc(json!([{"key": "wait", "type": "delay", "config": {"duration": 200}}]));
    let engine = super::Engine::new();
    let meta = super::meta();
    let started = tokio::time::Instant::now();
    // Ten delays on one thread finish together only if none of them blocks it.
    let runs = (0..10).map(|_| engine.run(&workflow, &meta, json!({})));
    let results = futures_util::future::join_all(runs).await;
    assert!(
        results
            .iter()
            .all(|r| r.status == ExecutionStatus::Resolved)
    );
    assert!(started.elapsed() < Duration::from_millis(200 * 10));
}

#[tokio::test]
async fn a_node_that_raises_errors_the_execution() {
    let workflow = doc(json!([
        calc("fine", "1"),
        calc("broken", "context.missing.deeper + 1"),
        calc("never", "2"),
    ]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Error);
    assert_eq!(
        trail(&result),
        keys(&[("fine", "resolved"), ("broken", "error")])
    );
    assert!(result.jobs[1].result["error"].is_string());
    let error = result.error.expect("error message");
    assert!(error.contains("broken"), "{error}");
}

#[tokio::test]
async fn an_unknown_node_type_errors_at_run_time() {
    let workflow = doc(json!([{"key": "mystery", "type": "teleport"}]));
    let result = run(&workflow, json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Error);
    assert_eq!(result.jobs[0].status, JobStatus::Error);
    assert!(result.error.expect("error").contains("teleport"));
}

#[tokio::test]
async fn an_empty_workflow_resolves_without_jobs() {
    let result = run(&doc(json!([])), json!({})).await;
    assert_eq!(result.status, ExecutionStatus::Resolved);
    assert!(result.jobs.is_empty());
}

/// Validation and running read a node's config through the same parse, so what one
/// accepts the other runs, and a placeholder is checked once rendered.
#[tokio::test]
async fn validation_and_run_read_a_config_alike() {
    use crate::engine::validate_document;

    let written = doc(json!([{"key": "wait", "type": "delay", "config": {"duration": "5"}}]));
    assert_eq!(validate_document(&written), vec![]);
    assert_eq!(
        run(&written, json!({})).await.status,
        ExecutionStatus::Resolved
    );

    let templated = doc(json!([
        {"key": "wait", "type": "delay", "config": {"duration": "{{$context.ms}}"}},
    ]));
    assert_eq!(validate_document(&templated), vec![]);
    let form_value = run(&templated, json!({"ms": "5"})).await;
    assert_eq!(form_value.status, ExecutionStatus::Resolved);
    let too_long = run(&templated, json!({"ms": 24 * 3600 * 1000})).await;
    assert_eq!(too_long.status, ExecutionStatus::Error);
    let error = too_long.error.expect("error");
    assert!(error.contains("duration must be"), "{error}");
}
