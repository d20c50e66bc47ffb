//! The request node against a real PostgreSQL and RabbitMQ, calling an HTTP API the test
//! starts on 127.0.0.1 (opened with the allow-list, as an operator would).

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::config::Config;
use shared::messages::ExecutionStatus;
use support::{Harness, outside_api::OutsideApi};
use uuid::Uuid;

/// Opens 127.0.0.1 to request nodes, which the policy refuses by default.
fn allow_loopback(config: &mut Config) {
    config.request_allowed_networks = vec!["127.0.0.1/32".parse().expect("a network")];
}

/// A sync workflow: `nodes`, then a response node answering with the output of `call`.
fn answering(nodes: Value) -> Value {
    let mut nodes = nodes.as_array().expect("nodes").clone();
    nodes.push(json!({"key": "answer", "type": "response",
                      "config": {"body": "{{$jobsMapByNodeKey.call}}"}}));
    json!({"title": "t", "sync": true, "trigger": {}, "nodes": nodes})
}

fn asynchronous(nodes: Value) -> Value {
    json!({"title": "t", "sync": false, "trigger": {}, "nodes": nodes})
}

/// Runs `document` once with `context`: the execution id, its status and its jobs.
async fn run(
    harness: &Harness,
    document: &Value,
    context: Value,
) -> (Uuid, String, Vec<(String, String, String, Value)>) {
    let workflow = harness.create_workflow(document).await;
    let message = support::message(workflow, false, context);
    harness.publish(&message).await;
    let recorded = harness.finished(message.execution_id).await;
    let jobs = harness.jobs(message.execution_id).await;
    (message.execution_id, recorded.status, jobs)
}

fn statuses(jobs: &[(String, String, String, Value)]) -> Vec<(&str, &str)> {
    jobs.iter()
        .map(|(key, _, status, _)| (key.as_str(), status.as_str()))
        .collect()
}

#[tokio::test]
async fn a_call_sends_data_params_and_headers_and_its_answer_is_the_output() {
    let api = OutsideApi::start().await;
    let mut harness = Harness::start_with(allow_loopback).await;
    let workflow = harness
        .create_workflow(&answering(json!([
            {"key": "call", "type": "request", "config": {
                "url": format!("{}/echo?source=hookflow", api.url),
                "params": [{"name": "order", "value": "{{$context.body.id}}"}],
                "headers": [{"name": "Authorization", "value": "Bearer tok-{{$context.body.id}}"},
                            {"name": "X-Shop", "value": "north"}],
                "data": {"order": "{{$context.body.id}}", "paid": true},
            }},
        ])))
        .await;
    let message = support::message(workflow, true, json!({"body": {"id": 42}}));
    harness.publish(&message).await;

    let (reply, _) = harness.next_reply().await;
    assert_eq!(reply.status, ExecutionStatus::Resolved);
    let output = reply.response.expect("the answer").body;
    assert_eq!(output["status"], 200);
    assert_eq!(output["data"], json!({"ok": true}));
    assert_eq!(output["headers"]["x-answer"], "1");
    assert_eq!(output["headers"]["content-type"], "application/json");

    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    let call = &seen[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("POST", "/echo")
    );
    assert_eq!(call.query, "source=hookflow&order=42");
    assert_eq!(call.headers["content-type"], "application/json");
    assert_eq!(call.headers["authorization"], "Bearer tok-42");
    assert_eq!(call.headers["x-shop"], "north");
    assert_eq!(
        call.headers["idempotency-key"],
        format!("{}:call", message.execution_id)
    );
    let sent: Value = serde_json::from_str(&call.body).expect("a JSON body");
    assert_eq!(sent, json!({"order": 42, "paid": true}));

    // The record keeps the call and the whole answer, never the request's headers.
    let jobs = harness.jobs(message.execution_id).await;
    let record = &jobs[0].3;
    assert_eq!(record["request"]["method"], "POST");
    assert_eq!(
        record["request"]["url"],
        format!("{}/echo?source=hookflow&order=42", api.url)
    );
    assert_eq!(record["status"], 200);
    assert_eq!(record["data"], json!({"ok": true}));
    assert_eq!(record["headers"]["x-answer"], "1");
    let written = record.to_string();
    for secret in ["tok-42", "north", "idempotency-key", "authorization"] {
        assert!(
            !written.to_lowercase().contains(secret),
            "{secret} in {written}"
        );
    }
}

#[tokio::test]
async fn each_method_and_content_type_is_sent_as_configured() {
    let api = OutsideApi::start().await;
    let harness = Harness::start_with(allow_loopback).await;
    let url = format!("{}/echo", api.url);
    let (_, status, jobs) = run(
        &harness,
        &asynchronous(json!([
            {"key": "get", "type": "request",
             "config": {"method": "GET", "url": url, "data": {"never": "sent"}}},
            {"key": "put", "type": "request",
             "config": {"method": "PUT", "url": url, "contentType": "application/x-www-form-urlencoded",
                        "data": [{"name": "status", "value": "{{$context.body.status}}"},
                                 {"name": "note", "value": "paid in full"}]}},
            {"key": "patch", "type": "request",
             "config": {"method": "PATCH", "url": url, "contentType": "text/plain",
                        "data": "order {{$context.body.id}} is {{$context.body.status}}"}},
            {"key": "delete", "type": "request",
             "config": {"method": "DELETE", "url": url, "contentType": "application/xml",
                        "data": "<order id=\"{{$context.body.id}}\"/>"}},
            {"key": "post", "type": "request",
             "config": {"url": url, "data": "{{$context.body}}"}},
        ])),
        json!({"body": {"id": 7, "status": "paid"}}),
    )
    .await;
    assert_eq!(status, "resolved");
    assert_eq!(jobs.len(), 5);

    let seen = api.seen();
    let sent: Vec<(&str, Option<&str>, &str)> = seen
        .iter()
        .map(|s| {
            let content_type = s.headers.get("content-type").map(String::as_str);
            (s.method.as_str(), content_type, s.body.as_str())
        })
        .collect();
    assert_eq!(
        sent,
        [
            ("GET", None, ""),
            (
                "PUT",
                Some("application/x-www-form-urlencoded"),
                "status=paid&note=paid+in+full"
            ),
            ("PATCH", Some("text/plain"), "order 7 is paid"),
            ("DELETE", Some("application/xml"), "<order id=\"7\"/>"),
            (
                "POST",
                Some("application/json"),
                r#"{"id":7,"status":"paid"}"#
            ),
        ]
    );
    let methods: Vec<&Value> = jobs.iter().map(|job| &job.3["request"]["method"]).collect();
    assert_eq!(methods, ["GET", "PUT", "PATCH", "DELETE", "POST"]);
}

#[tokio::test]
async fn only_data_hands_on_just_the_data_and_a_text_answer_stays_text() {
    let api = OutsideApi::start().await;
    let mut harness = Harness::start_with(allow_loopback).await;
    let workflow = harness
        .create_workflow(&answering(json!([
            {"key": "call", "type": "request",
             "config": {"method": "GET", "url": format!("{}/text", api.url), "onlyData": true}},
        ])))
        .await;
    let message = support::message(workflow, true, json!({}));
    harness.publish(&message).await;

    let (reply, _) = harness.next_reply().await;
    assert_eq!(
        reply.response.expect("the answer").body,
        json!("plain answer")
    );
    // The record keeps the whole answer all the same.
    let jobs = harness.jobs(message.execution_id).await;
    assert_eq!(jobs[0].3["status"], 200);
    assert_eq!(jobs[0].3["headers"]["content-type"], "text/plain");
    assert_eq!(jobs[0].3["data"], "plain answer");
}

#[tokio::test]
async fn a_failed_call_fails_the_workflow_unless_failures_are_ignored() {
    let api = OutsideApi::start().await;
    let harness = Harness::start_with(allow_loopback).await;
    let (_, status, jobs) = run(
        &harness,
        &asynchronous(json!([
            {"key": "call", "type": "request", "config": {"url": format!("{}/status/404", api.url)}},
            {"key": "after", "type": "calculation", "config": {"engine": "cel", "expression": "1"}},
        ])),
        json!({}),
    )
    .await;
    assert_eq!(status, "failed");
    assert_eq!(statuses(&jobs), [("call", "failed")]);
    assert_eq!(jobs[0].3["status"], 404);
    assert_eq!(jobs[0].3["data"], json!({"code": 404}));
    assert_eq!(jobs[0].3["error"], "the API answered 404 Not Found");

    // Nothing listens on the port of a listener just closed: the connection is refused.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("its address").port()
    };
    let (_, status, jobs) = run(
        &harness,
        &asynchronous(json!([
            {"key": "missing", "type": "request",
             "config": {"url": format!("{}/status/500", api.url), "ignoreFail": true}},
            {"key": "nobody", "type": "request",
             "config": {"url": format!("http://127.0.0.1:{closed}/"), "ignoreFail": true}},
            {"key": "after", "type": "calculation", "config": {"engine": "cel",
             "expression": "jobs.missing.status + jobs.nobody.status"}},
        ])),
        json!({}),
    )
    .await;
    assert_eq!(status, "resolved");
    assert_eq!(
        statuses(&jobs),
        [
            ("missing", "resolved"),
            ("nobody", "resolved"),
            ("after", "resolved")
        ]
    );
    assert_eq!(
        jobs[0].3["error"],
        "the API answered 500 Internal Server Error"
    );
    assert_eq!(jobs[1].3["status"], 502);
    let error = jobs[1].3["error"].as_str().expect("an error");
    assert!(error.starts_with("the call failed"), "{error}");
    assert_eq!(jobs[2].3, json!(1002));
}

#[tokio::test]
async fn a_call_without_an_answer_in_time_fails_on_its_timeout() {
    let api = OutsideApi::start().await;
    let harness = Harness::start_with(allow_loopback).await;
    let started = Instant::now();
    let (_, status, jobs) = run(
        &harness,
        &asynchronous(json!([
            {"key": "call", "type": "request",
             "config": {"url": format!("{}/slow", api.url), "timeout": 300}},
        ])),
        json!({}),
    )
    .await;
    assert_eq!(status, "failed");
    assert_eq!(jobs[0].3["error"], "no answer within 300 ms");
    assert_eq!(jobs[0].3["status"], 502);
    // The slow answer comes after 3 s; the job did not wait for it.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retries_carry_the_same_idempotency_key_and_wait_out_retry_after() {
    let api = OutsideApi::start().await;
    let harness = Harness::start_with(allow_loopback).await;
    let (execution, status, jobs) = run(
        &harness,
        &asynchronous(json!([
            {"key": "call", "type": "request",
             "config": {"url": format!("{}/flaky/2", api.url),
                        "retry": {"attempts": 3, "backoff": 50}}},
            {"key": "give-up", "type": "request",
             "config": {"url": format!("{}/status/500", api.url), "ignoreFail": true,
                        "retry": {"attempts": 2, "backoff": 50}}},
        ])),
        json!({}),
    )
    .await;
    assert_eq!(status, "resolved");
    assert_eq!(jobs[0].3["data"], json!({"attempt": 3}));
    assert_eq!(jobs[0].3["request"]["attempts"], 3);
    assert_eq!(jobs[1].3["status"], 500);
    assert_eq!(jobs[1].3["request"]["attempts"], 2);

    let seen = api.seen();
    let flaky: Vec<_> = seen.iter().filter(|s| s.path == "/flaky/2").collect();
    assert_eq!(flaky.len(), 3);
    for call in &flaky {
        assert_eq!(call.headers["idempotency-key"], format!("{execution}:call"));
    }
    // `Retry-After: 1` outweighs the 50 ms backoff.
    for pair in flaky.windows(2) {
        let pause = pair[1].at - pair[0].at;
        assert!(pause >= Duration::from_millis(950), "{pause:?}");
    }
    let given_up: Vec<_> = seen.iter().filter(|s| s.path == "/status/500").collect();
    assert_eq!(given_up.len(), 2);
    assert_eq!(
        given_up[1].headers["idempotency-key"],
        format!("{execution}:give-up")
    );
}

#[tokio::test]
async fn calls_in_a_loop_carry_a_key_per_iteration() {
    let api = OutsideApi::start().await;
    let harness = Harness::start_with(allow_loopback).await;
    let (execution, status, jobs) = run(
        &harness,
        &asynchronous(json!([
            {"key": "each", "type": "loop", "config": {"target": 2},
             "branches": {"body": [
                {"key": "call", "type": "request",
                 "config": {"url": format!("{}/echo", api.url)}}]}},
        ])),
        json!({}),
    )
    .await;
    assert_eq!(status, "resolved");
    assert_eq!(jobs.len(), 3);
    let keys: Vec<String> = api
        .seen()
        .iter()
        .map(|call| call.headers["idempotency-key"].clone())
        .collect();
    assert_eq!(
        keys,
        [format!("{execution}:call:0"), format!("{execution}:call:1")]
    );
}

#[tokio::test]
async fn an_answer_past_the_size_limit_fails_the_job() {
    let api = OutsideApi::start().await;
    let harness = Harness::start_with(|config| {
        allow_loopback(config);
        config.request_max_response_bytes = std::num::NonZeroU64::new(1024).expect("non-zero");
    })
    .await;
    let (_, status, jobs) = run(
        &harness,
        &asynchronous(json!([
            {"key": "small", "type": "request",
             "config": {"method": "GET", "url": format!("{}/big/1024", api.url)}},
            {"key": "large", "type": "request",
             "config": {"method": "GET", "url": format!("{}/big/4096", api.url)}},
        ])),
        json!({}),
    )
    .await;
    assert_eq!(status, "failed");
    assert_eq!(
        statuses(&jobs),
        [("small", "resolved"), ("large", "failed")]
    );
    assert_eq!(jobs[0].3["data"].as_str().map(str::len), Some(1024));
    assert_eq!(
        jobs[1].3["error"],
        "the answer is larger than 1024 bytes (HOOKFLOW_REQUEST_MAX_RESPONSE_BYTES)"
    );
}

#[tokio::test]
async fn private_addresses_are_refused_by_default_and_never_called() {
    let api = OutsideApi::start().await;
    // No allow-list: the executor as it starts by default.
    let harness = Harness::start().await;
    let (_, status, jobs) = run(
        &harness,
        &asynchronous(json!([
            {"key": "literal", "type": "request", "config": {"url": format!("{}/echo", api.url), "ignoreFail": true}},
            {"key": "named", "type": "request",
             "config": {"url": format!("http://localhost:{}/echo", api.port), "ignoreFail": true}},
            {"key": "metadata", "type": "request",
             "config": {"url": "http://169.254.169.254/latest/meta-data/"}},
        ])),
        json!({}),
    )
    .await;
    assert_eq!(status, "failed");
    assert_eq!(
        jobs[0].3["error"],
        "the address 127.0.0.1 is refused: it is a loopback address \
         (HOOKFLOW_REQUEST_ALLOWED_NETWORKS can permit it)"
    );
    // A host name is refused on the addresses it resolves to.
    let named = jobs[1].3["error"].as_str().expect("an error");
    assert!(
        named.contains("is refused: it is a loopback address"),
        "{named}"
    );
    assert_eq!(jobs[1].3["status"], 502);
    assert_eq!(jobs[2].2, "failed");
    assert_eq!(
        jobs[2].3["error"],
        "the address 169.254.169.254 is refused: it is a cloud metadata address \
         (HOOKFLOW_REQUEST_ALLOWED_NETWORKS can permit it)"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        api.seen().is_empty(),
        "the API was called: {:?}",
        api.seen()
    );
}

#[tokio::test]
async fn redirects_are_checked_like_the_first_address_and_bounded() {
    let api = OutsideApi::start().await;
    let harness = Harness::start_with(allow_loopback).await;
    let echo_by_name = format!("http://localhost:{}/echo", api.port);
    let (_, status, jobs) = run(
        &harness,
        &asynchronous(json!([
            {"key": "followed", "type": "request",
             "config": {"method": "GET", "url": format!("{}/redirect?to={echo_by_name}", api.url)}},
            {"key": "refused", "type": "request", "config": {"method": "GET", "ignoreFail": true,
             "url": format!("{}/redirect?to=http://[::1]:{}/echo", api.url, api.port)}},
            {"key": "metadata", "type": "request", "config": {"method": "GET", "ignoreFail": true,
             "url": format!("{}/redirect?to=http://169.254.169.254/latest/meta-data/", api.url)}},
            {"key": "endless", "type": "request",
             "config": {"method": "GET", "url": format!("{}/loop", api.url)}},
        ])),
        json!({}),
    )
    .await;
    // A followed redirect lands on /echo (by name: the resolver permits 127.0.0.1 only).
    assert_eq!(jobs[0].3["data"], json!({"ok": true}));
    assert_eq!(
        jobs[1].3["error"],
        "the address ::1 is refused: it is a loopback address \
         (HOOKFLOW_REQUEST_ALLOWED_NETWORKS can permit it)"
    );
    assert_eq!(
        jobs[2].3["error"],
        "the address 169.254.169.254 is refused: it is a cloud metadata address \
         (HOOKFLOW_REQUEST_ALLOWED_NETWORKS can permit it)"
    );
    assert_eq!(status, "failed");
    assert_eq!(jobs[3].2, "failed");
    assert_eq!(
        jobs[3].3["error"],
        "redirect not followed: more than 5 redirects"
    );
    let paths: Vec<String> = api.seen().into_iter().map(|s| s.path).collect();
    let mut expected = vec!["/redirect", "/echo", "/redirect", "/redirect"];
    // The first call and five redirects.
    expected.extend(["/loop"; 6]);
    assert_eq!(paths, expected);
}
