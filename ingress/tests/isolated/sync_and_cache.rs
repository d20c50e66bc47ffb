//! Sync replies and the trigger cache.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Harness, definition, json_of};
use shared::messages::{ExecutionMessage, ExecutionStatus, HttpReply, SyncReply};
use shared::model::HeaderSpec;

fn response_node_reply(message: &ExecutionMessage) -> SyncReply {
    SyncReply {
        execution_id: message.execution_id,
        status: ExecutionStatus::Resolved,
        response: Some(HttpReply {
            status_code: 201,
            headers: vec![HeaderSpec {
                name: "X-Order".into(),
                value: "7".into(),
            }],
            body: json!({"id": message.context["body"]["id"]}),
        }),
        idempotency_conflict: false,
    }
}

#[tokio::test]
async fn sync_call_answers_what_the_execution_replied() {
    let harness = Harness::start().await;
    harness.put(definition("syncreply01", true, json!({})));
    let _executor = harness.answer_sync_with(response_node_reply).await;
    let response = harness
        .http
        .post(harness.webhook("syncreply01"))
        .json(&json!({"id": 5}))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-order"], "7");
    assert_eq!(json_of(response).await, json!({"id": 5}));
    let (sync, outgoing, message) = &harness.executions()[0];
    assert!(sync);
    assert_eq!(
        outgoing.correlation_id.as_deref(),
        Some(message.execution_id.to_string().as_str())
    );
    assert!(outgoing.reply_to.is_some());
}

#[tokio::test]
async fn sync_call_without_a_response_node_reports_the_status() {
    let harness = Harness::start().await;
    harness.put(definition("syncstatus1", true, json!({})));
    let _executor = harness
        .answer_sync_with(|message| SyncReply {
            execution_id: message.execution_id,
            status: if message.context["body"]["fail"] == true {
                ExecutionStatus::Failed
            } else {
                ExecutionStatus::Resolved
            },
            response: None,
            idempotency_conflict: false,
        })
        .await;
    for (fail, status, name) in [(false, 200, "resolved"), (true, 500, "failed")] {
        let response = harness
            .http
            .post(harness.webhook("syncstatus1"))
            .json(&json!({"fail": fail}))
            .send()
            .await
            .expect("call");
        assert_eq!(response.status(), status);
        let body = json_of(response).await;
        assert_eq!(body["status"], name);
        assert!(body["executionId"].is_string());
    }
}

#[tokio::test]
async fn sync_call_times_out_with_408_and_is_counted() {
    let harness = Harness::start().await;
    let mut slow = definition("syncslow001", true, json!({}));
    slow.options.timeout = Some(200);
    harness.put(slow);
    // Nobody answers sync executions.
    let started = std::time::Instant::now();
    let response = harness
        .http
        .post(harness.webhook("syncslow001"))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), 408);
    assert!(started.elapsed() >= Duration::from_millis(200));
    // The execution continues: the caller learns which one it is.
    let queued = harness.executions()[0].2.execution_id.to_string();
    assert_eq!(
        response.headers()["x-hookflow-execution-id"],
        queued.as_str()
    );
    let body = json_of(response).await;
    assert_eq!(body["error"], "timeout");
    let message = body["message"].as_str().expect("message");
    assert!(message.contains("200 ms"), "{body}");
    assert!(message.contains("continues"), "{body}");
    let metrics = harness.metrics().await;
    assert!(
        metrics.contains("hookflow_sync_timeouts_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hookflow_webhook_requests_total"),
        "{metrics}"
    );
}

#[tokio::test]
async fn definitions_are_cached_until_a_change_event_names_them() {
    let harness = Harness::start().await;
    harness.put(definition("cached00001", false, json!({})));
    let call = || async {
        harness
            .http
            .post(harness.webhook("cached00001"))
            .send()
            .await
            .expect("call")
            .status()
    };
    assert_eq!(call().await, 200);
    assert_eq!(call().await, 200);
    assert_eq!(harness.config_api.definitions.fetches(), 1);

    harness.config_api.definitions.remove("cached00001");
    assert_eq!(call().await, 200, "still cached: no change event yet");
    harness.announce_change("cached00001").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    loop {
        if call().await == 404 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "change not applied within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The 404 is cached too.
    let fetches = harness.config_api.definitions.fetches();
    assert_eq!(call().await, 404);
    assert_eq!(harness.config_api.definitions.fetches(), fetches);
}

#[tokio::test]
async fn a_broker_reconnect_forgets_every_cached_definition() {
    let harness = Harness::start().await;
    harness.put(definition("reconnect01", false, json!({})));
    let call = || async {
        harness
            .http
            .post(harness.webhook("reconnect01"))
            .send()
            .await
            .expect("call")
            .status()
    };
    assert_eq!(call().await, 200);
    harness.config_api.definitions.remove("reconnect01");
    harness.broker.set_ready(false);
    harness.broker.set_ready(true);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(call().await, 404);
}

#[tokio::test]
async fn concurrent_misses_fetch_once() {
    let harness = Harness::start().await;
    harness.put(definition("concurrent1", false, json!({})));
    harness
        .config_api
        .definitions
        .slow_down(Duration::from_millis(300));
    let calls = (0..8).map(|_| harness.http.post(harness.webhook("concurrent1")).send());
    for response in futures_util::future::join_all(calls).await {
        assert_eq!(response.expect("call").status(), 200);
    }
    assert_eq!(harness.config_api.definitions.fetches(), 1);
}
