//! Replays: new executions queued with the recorded context (the executor running them is
//! tested in ingress's end-to-end tests; here the queued message and the record are read).

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::broker::{AmqpBroker, Broker, Incoming, Source};
use shared::messages::ExecutionMessage;
use uuid::Uuid;

use crate::helpers::{TestApi, id_of, simple};

async fn insert_execution(
    api: &TestApi,
    workflow: &str,
    version: i32,
    status: &str,
    created_at: DateTime<Utc>,
) -> Uuid {
    let id = Uuid::now_v7();
    let workflow: Uuid = workflow.parse().expect("uuid");
    let client = api.env.pool().get().await.expect("connection");
    client
        .execute(
            "INSERT INTO executions (id, workflow_id, version, status, context, created_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
            &[
                &id,
                &workflow,
                &version,
                &status,
                &json!({"body": {"original": id.to_string()}}),
                &created_at,
            ],
        )
        .await
        .expect("insert execution");
    id
}

async fn next_message(
    messages: &mut BoxStream<'static, Incoming>,
) -> (ExecutionMessage, Option<String>) {
    let incoming = tokio::time::timeout(Duration::from_secs(10), messages.next())
        .await
        .expect("a message within 10 s")
        .expect("stream open");
    incoming.settle.ack().await.expect("ack");
    let message = serde_json::from_slice(&incoming.payload).expect("an execution message");
    (message, incoming.reply_to)
}

async fn execution_queue(
    api: &TestApi,
) -> (std::sync::Arc<dyn Broker>, BoxStream<'static, Incoming>) {
    let broker = AmqpBroker::start(&api.config);
    assert!(broker.wait_ready(Duration::from_secs(10)).await);
    let messages = broker
        .subscribe(Source::Executions {
            sync: false,
            prefetch: 10,
        })
        .await
        .expect("subscribe");
    (broker, messages)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_execution_is_replayed_on_the_current_or_the_original_version() {
    let api = TestApi::start().await;
    let (_broker, mut messages) = execution_queue(&api).await;
    let mut doc = simple("replayed");
    doc["sync"] = json!(true);
    let workflow = api.create(doc.clone()).await;
    let workflow_id = id_of(&workflow).to_owned();
    api.put(&format!("/api/workflows/{workflow_id}"), doc).await;
    let original = insert_execution(&api, &workflow_id, 1, "error", Utc::now()).await;

    let replayed = api
        .call(
            reqwest::Method::POST,
            &format!("/api/executions/{original}/replay"),
            None,
        )
        .await;
    assert_eq!(replayed.status, StatusCode::CREATED, "{:?}", replayed.body);
    let new_id: Uuid = replayed.body["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    assert_ne!(new_id, original);
    assert_eq!(new_id.get_version_num(), 7);
    assert_eq!(replayed.body["replayOf"], original.to_string());
    assert_eq!(replayed.body["status"], "queued");
    assert_eq!(
        replayed.body["version"], 2,
        "the current version by default"
    );
    assert_eq!(
        replayed.body["context"]["body"]["original"],
        original.to_string()
    );

    // Queued for the executor with the recorded context; nobody waits for it.
    let (message, reply_to) = next_message(&mut messages).await;
    assert_eq!(message.execution_id, new_id);
    assert_eq!(message.version, 2);
    assert!(!message.sync);
    assert_eq!(reply_to, None);
    assert_eq!(message.context["body"]["original"], original.to_string());
    assert_eq!(message.workflow_key, workflow["key"].as_str().expect("key"));

    let shown = api.get(&format!("/api/executions/{new_id}")).await;
    assert_eq!(shown.body["replayOf"], original.to_string());
    let listed = api.get("/api/executions").await;
    assert_eq!(listed.body["items"][0]["replayOf"], original.to_string());
    assert_eq!(listed.body["items"][1]["replayOf"], Value::Null);

    let on_original = api
        .post(
            &format!("/api/executions/{original}/replay"),
            json!({"version": "original"}),
        )
        .await;
    assert_eq!(on_original.status, StatusCode::CREATED);
    assert_eq!(on_original.body["version"], 1);
    assert_eq!(next_message(&mut messages).await.0.version, 1);

    let bad = api
        .post(
            &format!("/api/executions/{original}/replay"),
            json!({"version": "latest"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let unknown = api
        .post(
            &format!("/api/executions/{}/replay", Uuid::now_v7()),
            json!({}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn executions_of_disabled_or_deleted_workflows_are_not_replayed() {
    let api = TestApi::start().await;
    let workflow = api.create(simple("off")).await;
    let workflow_id = id_of(&workflow).to_owned();
    let original = insert_execution(&api, &workflow_id, 1, "failed", Utc::now()).await;
    api.post(&format!("/api/workflows/{workflow_id}/disable"), json!({}))
        .await;
    let disabled = api
        .post(&format!("/api/executions/{original}/replay"), json!({}))
        .await;
    assert_eq!(disabled.status, StatusCode::CONFLICT, "{:?}", disabled.body);
    assert_eq!(disabled.body["error"], "workflow_disabled");
    let bulk = api
        .post("/api/executions/replay", json!({"workflowId": workflow_id}))
        .await;
    assert_eq!(bulk.status, StatusCode::CONFLICT);

    api.delete(&format!("/api/workflows/{workflow_id}")).await;
    let deleted = api
        .post(&format!("/api/executions/{original}/replay"), json!({}))
        .await;
    assert_eq!(deleted.status, StatusCode::CONFLICT);
    assert_eq!(deleted.body["error"], "workflow_deleted");
    // Only the original is recorded: nothing was queued.
    assert_eq!(
        api.get("/api/executions").await.body["items"]
            .as_array()
            .expect("items")
            .len(),
        1
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_replays_follow_the_filters_oldest_first() {
    let api = TestApi::start().await;
    let (_broker, mut messages) = execution_queue(&api).await;
    let one = id_of(&api.create(simple("one")).await).to_owned();
    let two = id_of(&api.create(simple("two")).await).to_owned();
    let hour = chrono::Duration::hours(1);
    let start = Utc::now() - hour * 10;
    let old_error = insert_execution(&api, &one, 1, "error", start).await;
    let failed = insert_execution(&api, &one, 1, "failed", start + hour).await;
    let resolved = insert_execution(&api, &one, 1, "resolved", start + hour * 2).await;
    let _running = insert_execution(&api, &one, 1, "started", start + hour * 3).await;
    let late_error = insert_execution(&api, &one, 1, "error", start + hour * 4).await;
    let other = insert_execution(&api, &two, 1, "error", start + hour * 2).await;

    let replayed = api
        .post(
            "/api/executions/replay",
            json!({"workflowId": one, "status": ["error", "failed"], "since": start, "until": start + hour * 4}),
        )
        .await;
    assert_eq!(replayed.status, StatusCode::CREATED, "{:?}", replayed.body);
    assert_eq!(replayed.body["queued"], 2);
    let ids: Vec<Uuid> =
        serde_json::from_value(replayed.body["executionIds"].clone()).expect("ids");
    let mut replay_of = Vec::new();
    for id in &ids {
        let shown = api.get(&format!("/api/executions/{id}")).await;
        replay_of.push(
            shown.body["replayOf"]
                .as_str()
                .expect("replayOf")
                .to_owned(),
        );
        assert_eq!(next_message(&mut messages).await.0.execution_id, *id);
    }
    assert_eq!(replay_of, [old_error.to_string(), failed.to_string()]);

    // Defaults: every workflow, every finished status, at most `limit`.
    let limited = api
        .post(
            "/api/executions/replay",
            json!({"limit": 3, "until": start + hour * 5}),
        )
        .await;
    assert_eq!(limited.body["queued"], 3, "{:?}", limited.body);
    let all = api
        .post("/api/executions/replay", json!({"until": start + hour * 5}))
        .await;
    assert_eq!(
        all.body["queued"], 5,
        "the running one is left out: {:?}",
        all.body
    );
    let ids: Vec<Uuid> = serde_json::from_value(all.body["executionIds"].clone()).expect("ids");
    let mut replay_of = Vec::new();
    for id in &ids {
        let shown = api.get(&format!("/api/executions/{id}")).await;
        replay_of.push(
            shown.body["replayOf"]
                .as_str()
                .expect("replayOf")
                .to_owned(),
        );
    }
    // In the order they arrived (execution ids are time-ordered).
    let expected: Vec<String> = [old_error, failed, resolved, late_error, other]
        .iter()
        .map(Uuid::to_string)
        .collect();
    assert_eq!(replay_of, expected);

    for (body, status) in [
        (json!({"limit": 0}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"limit": 1001}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"since": start, "until": start}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"status": ["done"]}), StatusCode::BAD_REQUEST),
        (json!({"workflowId": Uuid::now_v7()}), StatusCode::NOT_FOUND),
    ] {
        let refused = api.post("/api/executions/replay", body.clone()).await;
        assert_eq!(refused.status, status, "{body}: {:?}", refused.body);
    }
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_routes_answer_other_methods_and_null_bodies_plainly() {
    let api = TestApi::start().await;
    let (_broker, _messages) = execution_queue(&api).await;
    let workflow = api.create(simple("plain")).await;
    let original = insert_execution(&api, id_of(&workflow), 1, "resolved", Utc::now()).await;
    let wrong_method = api.get("/api/executions/replay").await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.body["error"], "method_not_allowed");
    let null_body = api
        .post(&format!("/api/executions/{original}/replay"), Value::Null)
        .await;
    assert_eq!(
        null_body.status,
        StatusCode::CREATED,
        "{:?}",
        null_body.body
    );
    // Options are an object, not the fields in a list.
    let mut listed = simple("listed options");
    listed["options"] = json!([null, null]);
    let refused = api.post("/api/workflows", listed).await;
    assert!(refused.status.is_client_error(), "{:?}", refused.body);
    api.stop().await;
}
