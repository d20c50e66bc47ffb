//! The executor against a real PostgreSQL and RabbitMQ: what it records and what it replies.

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use shared::engine::RunResult;
use shared::fixtures::payment_callback;
use shared::messages::{ExecutionMessage, ExecutionStatus};
use shared::model::WorkflowDocument;
use shared::store::{Begin, DeadLetter, Finished, PgStore, Store, StoreError};
use support::Harness;
use uuid::Uuid;

fn trail(jobs: &[(String, String, String, Value)]) -> Vec<(&str, &str, &str)> {
    jobs.iter()
        .map(|(key, kind, status, _)| (key.as_str(), kind.as_str(), status.as_str()))
        .collect()
}

#[tokio::test]
async fn a_sync_execution_is_answered_and_recorded() {
    let mut harness = Harness::start().await;
    let workflow = harness.create_workflow(&payment_callback()).await;
    let message = support::message(
        workflow,
        true,
        json!({"body": {"id": 42, "status": "paid"}}),
    );
    harness.publish(&message).await;

    let (reply, correlation) = harness.next_reply().await;
    assert_eq!(correlation, Some(message.execution_id.to_string()));
    assert_eq!(reply.execution_id, message.execution_id);
    assert_eq!(reply.status, ExecutionStatus::Resolved);
    let response = reply.response.expect("the Response node's answer");
    assert_eq!(response.status_code, 200);
    assert_eq!(response.body, json!({"code": 0, "id": 42}));

    // The record is written while the caller is answered.
    let recorded = harness.finished(message.execution_id).await;
    assert_eq!(recorded.status, "resolved");
    assert_eq!(recorded.workflow_id, workflow);
    assert_eq!(
        recorded.context,
        json!({"body": {"id": 42, "status": "paid"}})
    );
    assert_eq!(
        recorded.response.expect("response")["body"],
        json!({"code": 0, "id": 42})
    );
    let jobs = harness.jobs(message.execution_id).await;
    assert_eq!(
        trail(&jobs),
        vec![
            ("paid", "condition", "resolved"),
            ("ok", "response", "resolved")
        ]
    );
    assert_eq!(jobs[0].3, json!(true));
}

#[tokio::test]
async fn an_async_execution_records_every_node_in_order() {
    let harness = Harness::start().await;
    let workflow = harness
        .create_workflow(&json!({
            "title": "t", "sync": false, "trigger": {},
            "nodes": [
                {"key": "double", "type": "calculation", "config": {"engine": "cel", "expression": "context.body.n * 2"}},
                {"key": "big", "type": "condition", "config": {"engine": "cel", "expression": "jobs.double > 10"},
                 "branches": {"true": [{"key": "wait", "type": "delay", "config": {"duration": 10}}], "false": []}},
                {"key": "stop", "type": "end", "config": {"endStatus": -1}},
            ]
        }))
        .await;
    let message = support::message(workflow, false, json!({"body": {"n": 21}}));
    harness.publish(&message).await;

    let recorded = harness.finished(message.execution_id).await;
    assert_eq!(recorded.status, "failed");
    assert_eq!(recorded.response, None);
    let jobs = harness.jobs(message.execution_id).await;
    assert_eq!(
        trail(&jobs),
        vec![
            ("double", "calculation", "resolved"),
            ("big", "condition", "resolved"),
            ("wait", "delay", "resolved"),
            ("stop", "end", "failed"),
        ]
    );
    assert_eq!(jobs[0].3, json!(42));
}

#[tokio::test]
async fn a_node_that_raises_is_recorded_as_an_error() {
    let mut harness = Harness::start().await;
    let workflow = harness
        .create_workflow(&json!({
            "title": "t", "sync": true, "trigger": {},
            "nodes": [{"key": "broken", "type": "calculation", "config": {"expression": "context.nothing.here"}}]
        }))
        .await;
    let message = support::message(workflow, true, json!({}));
    harness.publish(&message).await;

    let (reply, _) = harness.next_reply().await;
    assert_eq!(reply.status, ExecutionStatus::Error);
    assert_eq!(reply.response, None);
    let recorded = harness.finished(message.execution_id).await;
    assert_eq!(recorded.status, "error");
    assert!(recorded.error.expect("error text").contains("broken"));
    assert_eq!(
        trail(&harness.jobs(message.execution_id).await),
        vec![("broken", "calculation", "error")]
    );
}

#[tokio::test]
async fn a_duplicate_delivery_is_answered_from_the_record_not_run_again() {
    let mut harness = Harness::start().await;
    let workflow = harness
        .create_workflow(&json!({
            "title": "t", "sync": true, "trigger": {},
            "nodes": [
                {"key": "clock", "type": "calculation", "config": {"expression": "system.now"}},
                {"key": "answer", "type": "response", "config": {"body": {"at": "{{$jobsMapByNodeKey.clock}}"}}},
            ]
        }))
        .await;
    let message = support::message(workflow, true, json!({}));
    harness.publish(&message).await;
    let (first, _) = harness.next_reply().await;
    // The reply may come before the record: the repeat is published once it is recorded.
    harness.finished(message.execution_id).await;
    harness.publish(&message).await;
    let (second, correlation) = harness.next_reply().await;

    assert_eq!(correlation, Some(message.execution_id.to_string()));
    assert_eq!(second.status, ExecutionStatus::Resolved);
    // A second run would have read a later clock.
    assert_eq!(second.response, first.response);
    let recorded = harness.finished(message.execution_id).await;
    assert_eq!(recorded.attempts, 2);
    assert_eq!(harness.jobs(message.execution_id).await.len(), 2);
}

#[tokio::test]
async fn an_unreadable_message_ends_as_an_error_execution() {
    let harness = Harness::start().await;
    harness
        .publish_raw(false, b"this is not an execution".to_vec(), None)
        .await;

    let deadline = tokio::time::Instant::now() + support::WAIT;
    let recorded = loop {
        let client = harness.pool.get().await.expect("db");
        let row = client
            .query_opt(
                "SELECT id FROM executions WHERE workflow_id = $1",
                &[&Uuid::nil()],
            )
            .await
            .expect("select");
        if let Some(row) = row {
            break harness.finished(row.get(0)).await;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the unreadable message was not recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_recorded_unreadable(recorded, "this is not an execution");
}

/// An execution recorded as an `error` because its message could not be read, with the
/// message's `text` as its context.
fn assert_recorded_unreadable(recorded: support::Recorded, text: &str) {
    assert_eq!(recorded.status, "error");
    assert_eq!(recorded.context, json!(text));
    assert!(
        recorded
            .error
            .expect("reason")
            .contains("could not be read")
    );
}

/// A body the executor cannot read, from ingress (so with its identity in the headers): it is
/// recorded under its workflow, the body kept as text, and never run.
#[tokio::test]
async fn an_unreadable_body_with_its_identity_is_recorded_under_its_workflow() {
    let harness = Harness::start().await;
    let workflow = harness
        .create_workflow(&json!({"title": "t", "nodes": []}))
        .await;
    let message = support::message(workflow, false, json!({"body": {}}));
    harness
        .publish_as(&message, b"{\"executionId\": truncated".to_vec())
        .await;
    let recorded = harness.finished(message.execution_id).await;
    assert_eq!(recorded.workflow_id, workflow);
    assert_recorded_unreadable(recorded, "{\"executionId\": truncated");
}

/// The dead-letter path hands the body to PostgreSQL, which keeps its context; the executor
/// reads only the identity.
#[tokio::test]
async fn a_dead_letter_keeps_its_context_without_the_executor_reading_it() {
    let harness = Harness::start().await;
    let store = PgStore::new(harness.pool.clone());
    let workflow = harness
        .create_workflow(&json!({"title": "t", "nodes": []}))
        .await;
    let message = support::message(workflow, false, json!({"body": {"n": [1, 2, 3]}}));
    let payload = serde_json::to_vec(&message).expect("json");
    let envelope = shared::messages::Envelope::parse(&payload).expect("envelope");
    assert_eq!(envelope, shared::messages::Envelope::of(&message));
    let id = store
        .record_dead_letter(
            DeadLetter::Execution {
                envelope: &envelope,
                payload: &payload,
            },
            "parked",
        )
        .await
        .expect("recorded");
    assert_eq!(id, message.execution_id);
    let recorded = harness.finished(id).await;
    assert_eq!(recorded.status, "error");
    assert_eq!(recorded.workflow_id, workflow);
    assert_eq!(recorded.context, json!({"body": {"n": [1, 2, 3]}}));
    assert_eq!(recorded.error.as_deref(), Some("parked"));
}

/// Started and finished times of `ids`, in the order they started.
async fn run_times(harness: &Harness, ids: &[Uuid]) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let client = harness.pool.get().await.expect("db");
    let rows = client
        .query(
            "SELECT started_at, finished_at FROM executions WHERE id = ANY($1) ORDER BY started_at",
            &[&ids],
        )
        .await
        .expect("select");
    rows.iter().map(|row| (row.get(0), row.get(1))).collect()
}

/// Three async executions that each wait 300 ms, published together: how many ran at once.
async fn most_at_once(harness: &Harness) -> usize {
    let workflow = harness
        .create_workflow(&json!({"title": "t", "trigger": {"type": "webhook"},
            "nodes": [{"key": "wait", "type": "delay", "config": {"duration": 300}}]}))
        .await;
    let messages: Vec<_> = (0..3)
        .map(|_| support::message(workflow, false, json!({"body": {}})))
        .collect();
    for message in &messages {
        harness.publish(message).await;
    }
    let ids: Vec<Uuid> = messages.iter().map(|m| m.execution_id).collect();
    for id in &ids {
        let recorded = harness.finished(*id).await;
        assert_eq!(recorded.status, "resolved", "{:?}", recorded.error);
    }
    let times = run_times(harness, &ids).await;
    times
        .iter()
        .map(|(started, _)| {
            times
                .iter()
                .filter(|(other_started, other_finished)| {
                    other_started <= started && started < other_finished
                })
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn executions_run_at_once_within_the_in_flight_bytes_and_one_by_one_past_them() {
    let roomy = Harness::start().await;
    assert_eq!(most_at_once(&roomy).await, 3);
    // A budget smaller than any message: each one takes all of it, so they run one by one.
    let tight = Harness::start_with(|config| {
        config.executor_max_inflight_bytes = std::num::NonZeroU32::new(1).expect("1");
    })
    .await;
    assert_eq!(most_at_once(&tight).await, 1);
}

#[tokio::test]
async fn an_execution_of_a_missing_version_is_an_error() {
    let mut harness = Harness::start().await;
    let message = support::message(Uuid::now_v7(), true, json!({}));
    harness.publish(&message).await;

    let (reply, _) = harness.next_reply().await;
    assert_eq!(reply.status, ExecutionStatus::Error);
    let recorded = harness.finished(message.execution_id).await;
    assert_eq!(recorded.status, "error");
    assert!(recorded.error.expect("error").contains("no version 1"));
    assert!(harness.jobs(message.execution_id).await.is_empty());
}

#[tokio::test]
async fn a_context_with_nul_characters_is_still_recorded() {
    let mut harness = Harness::start().await;
    let workflow = harness.create_workflow(&payment_callback()).await;
    let message = support::message(
        workflow,
        true,
        json!({"body": {"id": "a\u{0}b", "status": "paid"}}),
    );
    harness.publish(&message).await;

    let (reply, _) = harness.next_reply().await;
    assert_eq!(reply.status, ExecutionStatus::Resolved);
    let recorded = harness.finished(message.execution_id).await;
    assert_eq!(recorded.status, "resolved");
    // PostgreSQL's jsonb cannot hold NUL, so it is dropped from what is stored.
    assert_eq!(recorded.context["body"]["id"], json!("ab"));
    assert_eq!(
        recorded.response.expect("response")["body"]["id"],
        json!("ab")
    );
}

/// PostgreSQL, except that every execution fails after `begin` recorded it, with an error
/// that waiting cannot cure.
struct FailingAfterBegin(PgStore);

#[async_trait]
impl Store for FailingAfterBegin {
    async fn load_version(
        &self,
        workflow_id: Uuid,
        version: i32,
    ) -> Result<Option<WorkflowDocument>, StoreError> {
        self.0.load_version(workflow_id, version).await
    }

    async fn begin(&self, message: &ExecutionMessage) -> Result<Begin, StoreError> {
        self.0.begin(message).await?;
        Err(StoreError::Invalid("staged failure".into()))
    }

    async fn finish(&self, execution_id: Uuid, result: &RunResult) -> Result<Finished, StoreError> {
        self.0.finish(execution_id, result).await
    }

    async fn record_dead_letter(
        &self,
        letter: DeadLetter<'_>,
        reason: &str,
    ) -> Result<Uuid, StoreError> {
        self.0.record_dead_letter(letter, reason).await
    }
}

#[tokio::test]
async fn an_execution_that_keeps_failing_is_recorded_as_an_error_with_the_reason() {
    let mut harness = Harness::start_wrapped(1, |store| Arc::new(FailingAfterBegin(store))).await;
    let workflow = harness.create_workflow(&payment_callback()).await;
    let message = support::message(workflow, true, json!({"body": {"status": "paid"}}));
    harness.publish(&message).await;

    // RabbitMQ parks it after its delivery limit; the sync caller hears of it.
    let (reply, correlation) = harness.next_reply().await;
    assert_eq!(correlation, Some(message.execution_id.to_string()));
    assert_eq!(reply.execution_id, message.execution_id);
    assert_eq!(reply.status, ExecutionStatus::Error);
    assert_eq!(reply.response, None);
    let recorded = harness.finished(message.execution_id).await;
    assert_eq!(recorded.status, "error");
    assert_eq!(
        recorded.error.as_deref(),
        Some("the execution kept failing and reached its delivery limit")
    );
    assert_eq!(recorded.context, json!({"body": {"status": "paid"}}));
    assert!(harness.jobs(message.execution_id).await.is_empty());
}
