//! `/metrics` after traffic: the named series are there, histograms have explicit buckets,
//! and no label carries a webhook key or an execution id.

use std::time::Duration;

use serde_json::json;
use shared::{
    broker::{AmqpBroker, Broker, Outgoing, Route},
    config::Service,
};

use crate::{
    common::{Stack, sample},
    traces::{call, payment_workflow},
};

#[track_caller]
fn assert_at_least(text: &str, name: &str, labels: &[(&str, &str)], minimum: f64) {
    let value = sample(text, name, labels);
    assert!(
        value.is_some_and(|value| value >= minimum),
        "{name}{labels:?}: expected at least {minimum}, found {value:?} in\n{text}"
    );
}

/// Scrapes `url` until `ready` accepts the text (things recorded after the answer).
async fn scrape_until(stack: &Stack, executor: bool, ready: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let service = if executor {
            &stack.executor
        } else {
            &stack.ingress
        };
        let text = stack.scrape(service).await;
        if ready(&text) || tokio::time::Instant::now() >= deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_requests_publishes_executions_nodes_and_caches() {
    let stack = Stack::start().await;
    let sync_key = stack.create_workflow(payment_workflow()).await.key;
    let async_key = stack
        .create_workflow(json!({
            "title": "Count", "sync": false, "enabled": true,
            "trigger": {"type": "webhook"},
            "nodes": [{"key": "sum", "type": "calculation",
                       "config": {"engine": "cel", "expression": "1 + 2"}}]
        }))
        .await
        .key;
    let slow_key = stack
        .create_workflow(json!({
            "title": "Slow", "sync": true, "enabled": true,
            "trigger": {"type": "webhook"},
            "options": {"timeout": 200},
            "nodes": [{"key": "wait", "type": "delay",
                       "config": {"duration": 1000, "endStatus": 1}}]
        }))
        .await
        .key;

    let mut execution_ids = Vec::new();
    for status in ["paid", "refused"] {
        let (code, body) = call(
            &stack,
            &sync_key,
            json!({"id": "o-1", "status": status}),
            None,
        )
        .await;
        assert!(code == 200 || code == 400, "{code} {body}");
        execution_ids.extend(body["executionId"].as_str().map(str::to_owned));
    }
    let (code, body) = call(&stack, &async_key, json!({}), None).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = call(&stack, &slow_key, json!({}), None).await;
    assert_eq!(code, 408, "{body}");
    let (code, _) = call(&stack, "zzzzzzzzzzz", json!({}), None).await;
    assert_eq!(code, 404);

    // A message the executor cannot read is dead-lettered and recorded as an error.
    let broker = AmqpBroker::start(&stack.env.config(Service::Executor));
    assert!(broker.wait_ready(Duration::from_secs(10)).await);
    let unreadable = Outgoing {
        payload: b"not an execution".to_vec(),
        ..Outgoing::default()
    };
    broker
        .publish(Route::Execution { sync: false }, unreadable)
        .await
        .expect("published");
    broker.close().await;

    let ingress = stack.scrape(&stack.ingress).await;
    for (mode, class) in [
        ("sync", "2xx"),
        ("sync", "4xx"),
        ("async", "2xx"),
        ("none", "4xx"),
    ] {
        let labels = [("mode", mode), ("status_class", class)];
        assert_at_least(&ingress, "hookflow_webhook_requests_total", &labels, 1.0);
    }
    let sync = [("mode", "sync")];
    assert_at_least(
        &ingress,
        "hookflow_webhook_request_duration_seconds_count",
        &sync,
        3.0,
    );
    let explicit_bucket = [("mode", "sync"), ("le", "0.005")];
    assert!(
        sample(
            &ingress,
            "hookflow_webhook_request_duration_seconds_bucket",
            &explicit_bucket
        )
        .is_some()
    );
    for queue in ["sync", "async"] {
        let labels = [("queue", queue), ("outcome", "confirmed"), ("le", "+Inf")];
        assert_at_least(
            &ingress,
            "hookflow_publish_confirm_seconds_bucket",
            &labels,
            1.0,
        );
    }
    assert!(sample(&ingress, "hookflow_sync_waits_in_flight", &[]).is_some());
    assert_at_least(&ingress, "hookflow_sync_timeouts_total", &[], 1.0);
    assert_at_least(
        &ingress,
        "hookflow_trigger_cache_total",
        &[("result", "miss")],
        1.0,
    );
    assert_at_least(
        &ingress,
        "hookflow_trigger_cache_total",
        &[("result", "hit")],
        1.0,
    );

    let executor = scrape_until(&stack, true, |text| {
        sample(text, "hookflow_dead_lettered_total", &[]).is_some()
            && sample(
                text,
                "hookflow_consumer_lag_seconds_count",
                &[("queue", "async")],
            )
            .is_some()
    })
    .await;
    assert_at_least(
        &executor,
        "hookflow_executions_total",
        &[("status", "resolved")],
        3.0,
    );
    assert_at_least(
        &executor,
        "hookflow_executions_total",
        &[("status", "error")],
        1.0,
    );
    assert_at_least(
        &executor,
        "hookflow_execution_duration_seconds_count",
        &[],
        3.0,
    );
    for node_type in ["condition", "response", "calculation"] {
        let labels = [("type", node_type), ("le", "+Inf")];
        assert_at_least(
            &executor,
            "hookflow_node_duration_seconds_bucket",
            &labels,
            1.0,
        );
    }
    for queue in ["sync", "async"] {
        let labels = [("queue", queue), ("le", "+Inf")];
        assert_at_least(
            &executor,
            "hookflow_consumer_lag_seconds_bucket",
            &labels,
            1.0,
        );
    }
    for queue in ["sync", "async"] {
        assert_at_least(
            &executor,
            "hookflow_execution_lookup_seconds_count",
            &[("queue", queue)],
            1.0,
        );
    }
    let rejected = [("reason", "rejected")];
    assert_at_least(&executor, "hookflow_dead_lettered_total", &rejected, 1.0);
    assert_at_least(
        &executor,
        "hookflow_version_cache_total",
        &[("result", "miss")],
        1.0,
    );
    assert_at_least(
        &executor,
        "hookflow_version_cache_total",
        &[("result", "hit")],
        1.0,
    );

    for text in [&ingress, &executor] {
        let identifiers = [&sync_key, &async_key, &slow_key]
            .into_iter()
            .chain(&execution_ids);
        for identifier in identifiers {
            assert!(
                !text.contains(identifier.as_str()),
                "{identifier} in a label"
            );
        }
    }
    stack.stop().await.expect("services stop");
}
