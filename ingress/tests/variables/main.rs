//! End-to-end, on the real services: `$env` variables and secrets, the sync timeout answer,
//! and replays. The process's log lines are captured (a global subscriber at `debug` for
//! Hookflow's crates) so that a test can show a secret never reaches them.

#[path = "../common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tracing_subscriber::fmt::MakeWriter;

use common::{Stack, Workflow, json_of};

/// Every log line of this test process.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut lines) = self.0.lock() {
            lines.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let filter = tracing_subscriber::EnvFilter::new(
            "info,shared=debug,hookflow_executor=debug,hookflow_ingress=debug,hookflow_config_api=debug",
        );
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(captured.clone())
            .with_ansi(false)
            .init();
        captured
    })
}

fn logged() -> String {
    String::from_utf8_lossy(&logs().0.lock().expect("logs")).into_owned()
}

/// The whole stack, with the services' defaults.
async fn stack() -> Stack {
    logs();
    Stack::start().await
}

async fn finished(stack: &Stack, id: &str) -> Value {
    let deadline = Instant::now() + common::RECORD_WAIT;
    loop {
        let execution = stack.execution(id).await;
        if !matches!(execution["status"].as_str(), Some("queued" | "started")) {
            return execution;
        }
        assert!(
            Instant::now() < deadline,
            "not finished in time: {execution}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn set_variable(stack: &Stack, name: &str, value: &str, secret: bool) {
    let body = json!({"name": name, "value": value, "secret": secret});
    let path = format!("/variables/{name}");
    let existing = stack
        .http
        .get(format!("{}/api{path}", stack.config_api.url))
        .bearer_auth(shared::testkit::ADMIN_TOKEN)
        .send()
        .await
        .expect("config-api");
    if existing.status() == 404 {
        stack
            .admin_call(Method::POST, "/variables", Some(body), 201)
            .await;
    } else {
        stack.admin_call(Method::PUT, &path, Some(body), 200).await;
    }
}

fn sync_workflow(nodes: Value) -> Value {
    json!({"title": "vars", "sync": true, "trigger": {"type": "webhook",
           "request": {"body": [{"key": "id"}]}}, "nodes": nodes})
}

#[tokio::test(flavor = "multi_thread")]
async fn env_variables_reach_the_answer_and_a_change_reaches_the_next_execution() {
    let stack = stack().await;
    set_variable(&stack, "SHOP_URL", "https://shop.example", false).await;
    let workflow = stack
        .create_workflow(sync_workflow(json!([
            {"key": "host", "type": "calculation",
             "config": {"engine": "cel", "expression": "env.SHOP_URL + '/orders/' + string(context.body.id)"}},
            {"key": "answer", "type": "response",
             "config": {"body": {"url": "{{$env.SHOP_URL}}", "order": "{{$jobsMapByNodeKey.host}}"}}}
        ])))
        .await;
    let answer = json_of(stack.call(&workflow, json!({"id": 7})).await).await;
    assert_eq!(
        answer,
        json!({"url": "https://shop.example", "order": "https://shop.example/orders/7"})
    );

    set_variable(&stack, "SHOP_URL", "https://new.example", false).await;
    let answer = json_of(stack.call(&workflow, json!({"id": 8})).await).await;
    assert_eq!(
        answer["url"], "https://new.example",
        "the next execution reads the change"
    );

    stack.stop().await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_values_stay_out_of_records_answers_and_logs() {
    let stack = stack().await;
    let secret = format!("tok-{}", uuid::Uuid::now_v7().simple());
    set_variable(&stack, "SHOP_TOKEN", &secret, true).await;
    let workflow = stack
        .create_workflow(sync_workflow(json!([
            {"key": "auth", "type": "calculation",
             "config": {"engine": "cel", "expression": "'Bearer ' + env.SHOP_TOKEN"}},
            {"key": "check", "type": "condition",
             "config": {"engine": "cel", "rejectOnFalse": false,
                        "expression": "context.body.fail != true && size(env.SHOP_TOKEN) > 0"},
             "branches": {
               "true": [{"key": "ok", "type": "response", "config": {"body": {"auth": "{{$jobsMapByNodeKey.auth}}", "match": true}}}],
               "false": [{"key": "boom", "type": "calculation",
                          "config": {"engine": "cel", "expression": "int(env.SHOP_TOKEN)"}}]
             }}
        ])))
        .await;

    let response = stack.call(&workflow, json!({"fail": false})).await;
    let matched_id = response
        .headers()
        .get("x-hookflow-execution-id")
        .expect("execution id")
        .to_str()
        .expect("text")
        .to_owned();
    let answer = json_of(response).await;
    assert_eq!(answer, json!({"auth": "Bearer ********", "match": true}));

    // A node that fails over the secret: the error names no secret either.
    let response = stack.call(&workflow, json!({"fail": true})).await;
    assert_eq!(response.status(), 500);
    let failed_id = json_of(response).await["executionId"]
        .as_str()
        .expect("id")
        .to_owned();

    let matched = finished(&stack, &matched_id).await;
    assert_eq!(matched["status"], "resolved");
    assert_eq!(matched["jobs"][0]["result"], "Bearer ********");
    assert_eq!(matched["response"]["body"]["auth"], "Bearer ********");
    let failed = finished(&stack, &failed_id).await;
    assert_eq!(failed["status"], "error", "{failed}");
    let records = [
        matched.to_string(),
        failed.to_string(),
        stack
            .admin_call(Method::GET, "/executions", None, 200)
            .await
            .to_string(),
        stack
            .admin_call(Method::GET, "/variables", None, 200)
            .await
            .to_string(),
        stack
            .admin_call(Method::GET, "/variables/SHOP_TOKEN", None, 200)
            .await
            .to_string(),
    ];
    for record in records {
        assert!(!record.contains(&secret), "secret in {record}");
    }

    let lines = logged();
    assert!(lines.contains("execution recorded"), "logs are captured");
    let leaked: Vec<&str> = lines
        .lines()
        .filter(|line| line.contains(&secret))
        .collect();
    assert!(leaked.is_empty(), "secret logged: {leaked:?}");
    stack.stop().await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_sync_workflow_answers_with_its_timeout_response_and_goes_on() {
    let stack = stack().await;
    let mut document = sync_workflow(json!([
        {"key": "wait", "type": "delay", "config": {"duration": 1500, "endStatus": 1}},
        {"key": "done", "type": "response", "config": {"body": "late"}}
    ]));
    document["options"] = json!({"timeout": 300, "timeoutResponse": {
        "statusCode": 202,
        "headers": [{"name": "X-Order", "value": "{{$context.body.id}}"}],
        "body": {"executionId": "{{$execution.id}}", "status": "running", "order": "{{$context.body.id}}"}
    }});
    let workflow = stack.create_workflow(document).await;
    let started = Instant::now();
    let response = stack.call(&workflow, json!({"id": 41})).await;
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "answered at the timeout"
    );
    assert_eq!(response.status(), 202);
    assert_eq!(response.headers()["x-order"], "41");
    let id = response.headers()["x-hookflow-execution-id"]
        .to_str()
        .expect("text")
        .to_owned();
    let answer = json_of(response).await;
    assert_eq!(
        answer,
        json!({"executionId": id, "status": "running", "order": 41})
    );

    let execution = finished(&stack, &id).await;
    assert_eq!(execution["status"], "resolved");
    assert_eq!(execution["response"]["body"], "late");

    // Without one, a slow workflow still gets 408.
    let mut plain = sync_workflow(json!([
        {"key": "wait", "type": "delay", "config": {"duration": 1000, "endStatus": 1}}
    ]));
    plain["options"] = json!({"timeout": 200});
    let plain = stack.create_workflow(plain).await;
    assert_eq!(stack.call(&plain, json!({})).await.status(), 408);
    stack.stop().await.expect("stopped");
}

async fn replayed(stack: &Stack, workflow: &Workflow, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + common::RECORD_WAIT;
    loop {
        let items = stack.executions(workflow).await;
        let replays: Vec<Value> = items
            .into_iter()
            .filter(|item| !item["replayOf"].is_null())
            .collect();
        let done = replays
            .iter()
            .filter(|item| !matches!(item["status"].as_str(), Some("queued" | "started")))
            .count();
        if done >= count {
            return replays;
        }
        assert!(
            Instant::now() < deadline,
            "replays not finished: {replays:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn replays_run_again_with_the_recorded_context_on_the_version_asked_for() {
    let stack = stack().await;
    let v1 = sync_workflow(json!([
        {"key": "answer", "type": "response", "config": {"body": {"v": 1, "id": "{{$context.body.id}}"}}}
    ]));
    let workflow = stack.create_workflow(v1).await;
    let response = stack.call(&workflow, json!({"id": "first"})).await;
    assert_eq!(response.status(), 200);
    let original = json_of(response).await;
    assert_eq!(original, json!({"v": 1, "id": "first"}));
    let original_id = stack.finished_executions(&workflow, 1).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    stack
        .update_workflow(
            &workflow,
            sync_workflow(json!([
                {"key": "answer", "type": "response", "config": {"body": {"v": 2, "id": "{{$context.body.id}}"}}}
            ])),
        )
        .await;

    let current = stack
        .admin_call(
            Method::POST,
            &format!("/executions/{original_id}/replay"),
            Some(json!({})),
            201,
        )
        .await;
    assert_eq!(current["replayOf"], original_id.as_str());
    let current = finished(&stack, current["id"].as_str().expect("id")).await;
    assert_eq!(current["status"], "resolved");
    assert_eq!(current["version"], 2);
    assert_eq!(current["response"]["body"], json!({"v": 2, "id": "first"}));
    assert_eq!(current["attempts"], 1);
    assert_eq!(current["replayOf"], original_id.as_str());

    let original_version = stack
        .admin_call(
            Method::POST,
            &format!("/executions/{original_id}/replay"),
            Some(json!({"version": "original"})),
            201,
        )
        .await;
    let original_version = finished(&stack, original_version["id"].as_str().expect("id")).await;
    assert_eq!(
        original_version["response"]["body"],
        json!({"v": 1, "id": "first"})
    );

    // Many: the calls that failed, on the current version.
    let failing = stack
        .create_workflow(json!({"title": "failing", "trigger": {"type": "webhook"}, "nodes": [
            {"key": "gate", "type": "condition", "config": {"engine": "cel", "rejectOnFalse": true,
             "expression": "context.body.ok == true"}}
        ]}))
        .await;
    for ok in [false, true, false] {
        assert_eq!(stack.call(&failing, json!({"ok": ok})).await.status(), 200);
    }
    stack.finished_executions(&failing, 3).await;
    let bulk = stack
        .admin_call(
            Method::POST,
            "/executions/replay",
            Some(json!({"workflowId": failing.id, "status": ["failed"]})),
            201,
        )
        .await;
    assert_eq!(bulk["queued"], 2, "{bulk}");
    let replays = replayed(&stack, &failing, 2).await;
    assert_eq!(replays.len(), 2);
    for replay in &replays {
        assert_eq!(replay["status"], "failed", "the same context fails again");
        let shown = stack.execution(replay["id"].as_str().expect("id")).await;
        assert_eq!(shown["context"]["body"]["ok"], false);
    }
    stack.stop().await.expect("stopped");
}
