//! docs/observability.md: one webhook call is one trace — the ingress's server span, its `send` span, the
//! executor's `process` span, a span per node and the reply — exported over OTLP/HTTP
//! (`http/json`); a caller's `traceparent` is continued.

use std::{collections::BTreeSet, sync::Arc};

use serde_json::{Value, json};
use shared::{
    config::{LogFormat, OtlpProtocol, Service},
    testkit::TestEnv,
};
use uuid::Uuid;

use crate::{
    common::Stack,
    receiver::{CONSUMER, ExportedSpan, PRODUCER, Receiver, SERVER},
};

/// POSTs `body` to the webhook of `key`, with the caller's `traceparent` if given: the
/// status and the body (as JSON when it is JSON).
pub async fn call(
    stack: &Stack,
    key: &str,
    body: Value,
    traceparent: Option<&str>,
) -> (u16, Value) {
    let mut request = stack.http.post(stack.webhook(key)).json(&body);
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let response = request.send().await.expect("ingress");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// A sync workflow: a condition choosing between two Response nodes, each answering with
/// the execution id so that the test can find the call's spans.
pub fn payment_workflow() -> Value {
    json!({
        "title": "Traced payment callback",
        "sync": true,
        "enabled": true,
        "trigger": {"type": "webhook"},
        "options": {"timeout": 10000},
        "nodes": [
            {"key": "paid", "type": "condition",
             "config": {"rejectOnFalse": false, "engine": "basic",
                        "calculation": {"group": {"type": "and", "calculations": [
                          {"calculator": "equal", "operands": ["{{$context.body.status}}", "paid"]}]}}},
             "branches": {
               "true": [{"key": "ok", "type": "response",
                         "config": {"statusCode": 200,
                                    "body": {"id": "{{$context.body.id}}", "executionId": "{{$execution.id}}"}}}],
               "false": [{"key": "bad", "type": "response",
                          "config": {"statusCode": 400,
                                     "body": {"message": "not paid", "executionId": "{{$execution.id}}"}}}]
             }}
        ]
    })
}

/// The spans of one call, found from the execution id its `send` span carries.
struct CallTrace {
    server: ExportedSpan,
    send: ExportedSpan,
    process: ExportedSpan,
    nodes: Vec<ExportedSpan>,
    reply: ExportedSpan,
    all: Vec<ExportedSpan>,
}

/// `None` until every expected span of the call arrived (the executor may end `process`
/// after the caller already has its answer).
fn call_trace(spans: &[ExportedSpan], execution_id: &str, nodes: usize) -> Option<CallTrace> {
    let send = spans.iter().find(|span| {
        span.kind == PRODUCER && span.attribute("messaging.message.id") == Some(execution_id)
    })?;
    let all: Vec<ExportedSpan> = spans
        .iter()
        .filter(|span| span.trace_id == send.trace_id)
        .cloned()
        .collect();
    let find = |kind: i64, name: &str| {
        all.iter()
            .find(|span| span.kind == kind && span.name == name && span.span_id != send.span_id)
            .cloned()
    };
    let found: Vec<ExportedSpan> = all
        .iter()
        .filter(|span| span.name.starts_with("node "))
        .cloned()
        .collect();
    if found.len() < nodes {
        return None;
    }
    Some(CallTrace {
        server: find(SERVER, "POST /api/webhook:trigger/{key}")?,
        send: send.clone(),
        process: find(CONSUMER, "process")?,
        nodes: found,
        reply: find(PRODUCER, "send")?,
        all,
    })
}

/// Checks the parent of every span of the call; `caller` is the span the server span must
/// continue (none: it is the root).
fn assert_one_tree(call: &CallTrace, caller: Option<&str>, prefix: &str, nodes: &[&str]) {
    let ids: BTreeSet<&str> = call.all.iter().map(|span| span.span_id.as_str()).collect();
    for span in &call.all {
        let parent = span.parent_span_id.as_str();
        assert!(
            ids.contains(parent) || (span.span_id == call.server.span_id),
            "{} has a parent outside the call's trace: {span:#?}",
            span.name
        );
    }
    let servers = call.all.iter().filter(|span| span.kind == SERVER).count();
    assert_eq!(servers, 1, "one server span per call: {:#?}", call.all);
    assert_eq!(call.server.parent_span_id, caller.unwrap_or_default());
    assert_eq!(call.server.attribute("http.request.method"), Some("POST"));
    assert_eq!(
        call.server.attribute("http.route"),
        Some("/api/webhook:trigger/{key}")
    );

    assert_eq!(call.send.name, "send");
    assert_eq!(call.send.parent_span_id, call.server.span_id);
    assert_eq!(call.send.attribute("messaging.system"), Some("rabbitmq"));
    assert_eq!(
        call.send.attribute("messaging.operation.type"),
        Some("send")
    );
    let exchange = format!("{prefix}.executions");
    assert_eq!(
        call.send.attribute("messaging.destination.name"),
        Some(exchange.as_str())
    );
    assert_eq!(
        call.send
            .attribute("messaging.rabbitmq.destination.routing_key"),
        Some("sync")
    );

    assert_eq!(call.process.parent_span_id, call.send.span_id);
    assert_eq!(call.process.attribute("messaging.system"), Some("rabbitmq"));
    assert_eq!(
        call.process.attribute("messaging.operation.type"),
        Some("process")
    );
    assert_eq!(
        call.process.attribute("messaging.message.id"),
        call.send.attribute("messaging.message.id")
    );

    let mut names: Vec<&str> = call.nodes.iter().map(|span| span.name.as_str()).collect();
    names.sort_unstable();
    let mut expected: Vec<String> = nodes.iter().map(|key| format!("node {key}")).collect();
    expected.sort_unstable();
    assert_eq!(names, expected);
    for node in &call.nodes {
        assert_eq!(node.parent_span_id, call.process.span_id, "{node:#?}");
        assert!(node.attribute("hookflow.node.type").is_some(), "{node:#?}");
    }

    assert_eq!(call.reply.parent_span_id, call.process.span_id);
    assert_eq!(
        call.reply.attribute("messaging.operation.type"),
        Some("send")
    );
}

fn execution_id(body: &Value) -> String {
    body["executionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no executionId in {body}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_call_is_one_trace_from_ingress_through_every_node() {
    let receiver = Receiver::start().await;
    let env = TestEnv::new().await;
    let mut telemetry_config = env.config(Service::Ingress);
    telemetry_config.otel_endpoint = Some(receiver.url.clone());
    telemetry_config.otel_protocol = OtlpProtocol::HttpJson;
    telemetry_config.log_format = LogFormat::Json;
    let telemetry = Arc::new(shared::telemetry::init(&telemetry_config).expect("telemetry"));
    let prefix = env.prefix.clone();
    let stack = Stack::start_in(env, |_, _| {}).await;
    let key = stack.create_workflow(payment_workflow()).await.key;

    // Without a caller trace: the server span is the root of a new trace.
    let (status, body) = call(&stack, &key, json!({"id": "o-1", "status": "paid"}), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "o-1");
    let first = execution_id(&body);

    // With a caller trace: it is continued.
    let caller_trace = Uuid::now_v7().simple().to_string();
    let caller_span = &Uuid::now_v7().simple().to_string()[16..];
    let traceparent = format!("00-{caller_trace}-{caller_span}-01");
    let (status, body) = call(
        &stack,
        &key,
        json!({"id": "o-2", "status": "refused"}),
        Some(&traceparent),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let second = execution_id(&body);

    let plain = receiver
        .wait_for(&telemetry, |spans| call_trace(spans, &first, 2))
        .await;
    assert_one_tree(&plain, None, &prefix, &["paid", "ok"]);
    assert_ne!(plain.server.trace_id, caller_trace);
    assert_eq!(
        plain.server.attribute("http.response.status_code"),
        Some("200")
    );

    let continued = receiver
        .wait_for(&telemetry, |spans| call_trace(spans, &second, 2))
        .await;
    assert_eq!(continued.server.trace_id, caller_trace);
    assert_one_tree(&continued, Some(caller_span), &prefix, &["paid", "bad"]);
    assert_eq!(
        continued.server.attribute("http.response.status_code"),
        Some("400")
    );

    stack.stop().await.expect("services stop");
    receiver.stop().await;
}
