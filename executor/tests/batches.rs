//! Executions recorded in batches (group commit) on a real PostgreSQL and RabbitMQ: each
//! one recorded once with its jobs, whatever else shares its batch.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use shared::engine::RunResult;
use shared::messages::{ExecutionStatus, JobStatus};
use shared::store::{Execution, PgStore, Recording, Store, StoredContext};
use support::Harness;
use uuid::Uuid;

/// How many executions are published at once: more than an executor holds (its prefetch),
/// so that they arrive while batches are being written.
const MANY: usize = 300;

/// `(status, attempts, jobs)` of every execution of `workflow`, by id.
async fn recorded(harness: &Harness, workflow: Uuid) -> HashMap<Uuid, (String, i32, i64)> {
    let client = harness.pool.get().await.expect("db");
    client
        .query(
            "SELECT e.id, e.status, e.attempts, (SELECT count(*) FROM jobs j WHERE j.execution_id = e.id) \
             FROM executions e WHERE e.workflow_id = $1",
            &[&workflow],
        )
        .await
        .expect("select executions")
        .into_iter()
        .map(|row| (row.get(0), (row.get(1), row.get(2), row.get(3))))
        .collect()
}

/// Waits until `count` executions of `workflow` are final.
async fn all_final(
    harness: &Harness,
    workflow: Uuid,
    count: usize,
) -> HashMap<Uuid, (String, i32, i64)> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let records = recorded(harness, workflow).await;
        let done = records
            .values()
            .filter(|(status, ..)| status != "started")
            .count();
        if done >= count {
            return records;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {done} of {count} executions recorded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn many_executions_at_once_are_each_recorded_once_with_their_jobs() {
    let harness = Harness::start().await;
    let workflow = harness
        .create_workflow(&json!({"title": "t", "sync": false, "trigger": {}, "nodes": [
            {"key": "double", "type": "calculation", "config": {"engine": "cel", "expression": "context.body.n * 2"}},
            {"key": "big", "type": "condition", "config": {"engine": "cel", "expression": "jobs.double > 10"}}]}))
        .await;
    let messages: Vec<_> = (0..MANY)
        .map(|n| support::message(workflow, false, json!({"body": {"n": n}})))
        .collect();
    for message in &messages {
        harness.publish(message).await;
    }

    let records = all_final(&harness, workflow, MANY).await;
    assert_eq!(records.len(), MANY);
    for message in &messages {
        let (status, attempts, jobs) = &records[&message.execution_id];
        assert_eq!((status.as_str(), *attempts, *jobs), ("resolved", 1, 2));
    }
    // Each record holds its own context and its own jobs' results.
    let client = harness.pool.get().await.expect("db");
    let rows = client
        .query(
            "SELECT e.context -> 'body' -> 'n', j.result FROM executions e \
             JOIN jobs j ON j.execution_id = e.id AND j.node_key = 'double' WHERE e.workflow_id = $1",
            &[&workflow],
        )
        .await
        .expect("select");
    assert_eq!(rows.len(), MANY);
    for row in rows {
        let (n, doubled): (Value, Value) = (row.get(0), row.get(1));
        assert_eq!(doubled, json!(n.as_i64().expect("n") * 2));
    }
}

#[tokio::test]
async fn executions_delivered_twice_at_once_are_recorded_once() {
    let mut harness = Harness::start().await;
    let workflow = harness
        .create_workflow(&json!({"title": "t", "sync": true, "trigger": {}, "nodes": [
            {"key": "clock", "type": "calculation", "config": {"expression": "system.now"}},
            {"key": "answer", "type": "response", "config": {"body": {"at": "{{$jobsMapByNodeKey.clock}}"}}}]}))
        .await;
    let messages: Vec<_> = (0..50)
        .map(|_| support::message(workflow, true, json!({})))
        .collect();
    // Each one twice in a row: the copies are taken together, often into one batch.
    for message in &messages {
        harness.publish(message).await;
        harness.publish(message).await;
    }
    let mut answers: HashMap<Uuid, Vec<Value>> = HashMap::new();
    for _ in 0..messages.len() * 2 {
        let (reply, _) = harness.next_reply().await;
        assert_eq!(reply.status, ExecutionStatus::Resolved);
        let body = reply.response.expect("the Response node's answer").body;
        answers.entry(reply.execution_id).or_default().push(body);
    }

    let records = all_final(&harness, workflow, messages.len()).await;
    assert_eq!(records.len(), messages.len());
    let client = harness.pool.get().await.expect("db");
    for message in &messages {
        let (status, _, jobs) = &records[&message.execution_id];
        assert_eq!((status.as_str(), *jobs), ("resolved", 2), "recorded once");
        let answered = &answers[&message.execution_id];
        assert_eq!(answered.len(), 2);
        // Each copy is answered as soon as it ran, before the record: one of the two
        // answers is the recorded one (docs/guarantees.md, sync answers).
        let response: Value = client
            .query_one(
                "SELECT response FROM executions WHERE id = $1",
                &[&message.execution_id],
            )
            .await
            .expect("select")
            .get(0);
        assert!(
            answered.contains(&response["body"]),
            "{answered:?} holds the recorded {response}"
        );
    }
}

#[tokio::test]
async fn an_execution_that_waits_shows_as_started_until_it_is_recorded() {
    let harness = Harness::start().await;
    let workflow = harness
        .create_workflow(
            &json!({"title": "t", "sync": false, "trigger": {}, "nodes": [
            {"key": "wait", "type": "delay", "config": {"duration": 1500}}]}),
        )
        .await;
    let message = support::message(workflow, false, json!({"body": {"order": 7}}));
    harness.publish(&message).await;

    let deadline = tokio::time::Instant::now() + support::WAIT;
    let waiting = loop {
        if let Some(recorded) = harness.execution(message.execution_id).await {
            break recorded;
        }
        assert!(tokio::time::Instant::now() < deadline, "never recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(waiting.status, "started");
    assert_eq!(waiting.context, json!({"body": {"order": 7}}));
    assert_eq!(waiting.finished_at, None);

    let done = harness.finished(message.execution_id).await;
    assert_eq!((done.status.as_str(), done.attempts), ("resolved", 1));
    assert_eq!(done.context, json!({"body": {"order": 7}}));
    assert_eq!(harness.jobs(message.execution_id).await.len(), 1);
}

/// A recording of an execution of `workflow` that ran one calculation node.
fn recording(workflow: Uuid, error: Option<&str>) -> Arc<Recording> {
    let id = Uuid::now_v7();
    let message = support::message(workflow, false, json!({"body": {"id": id}}));
    let now = Utc::now();
    Arc::new(Recording {
        execution: Execution {
            id,
            workflow_id: workflow,
            version: 1,
            received_at: now,
            started_at: now,
            context: StoredContext::Message(serde_json::to_vec(&message).expect("json")),
        },
        result: RunResult {
            status: if error.is_some() {
                ExecutionStatus::Error
            } else {
                ExecutionStatus::Resolved
            },
            jobs: vec![shared::engine::JobRecord {
                node_key: "double".into(),
                node_type: "calculation".into(),
                status: JobStatus::Resolved,
                result: json!(42),
                iteration: Vec::new(),
                started_at: now,
                finished_at: now,
            }],
            response: None,
            error: error.map(str::to_owned),
        },
    })
}

#[tokio::test]
async fn an_execution_the_database_refuses_fails_alone_and_its_batch_is_recorded() {
    let harness = Harness::start().await;
    let workflow = Uuid::now_v7();
    let store = PgStore::new(harness.pool.clone());
    let mut batch: Vec<_> = (0..20).map(|_| recording(workflow, None)).collect();
    // PostgreSQL's text cannot hold NUL: this record is refused.
    batch.insert(7, recording(workflow, Some("bad \0 text")));

    let outcomes = store.record(&batch).await.expect("the batch as a whole");
    assert_eq!(outcomes.len(), 21);
    for (index, outcome) in outcomes.iter().enumerate() {
        if index == 7 {
            assert!(outcome.is_err(), "the refused one fails");
        } else {
            let finished = outcome.as_ref().expect("recorded");
            assert_eq!(finished.status, ExecutionStatus::Resolved);
        }
    }
    let records = recorded(&harness, workflow).await;
    assert_eq!(records.len(), 20);
    for (index, recording) in batch.iter().enumerate() {
        let record = records.get(&recording.execution.id);
        if index == 7 {
            assert!(record.is_none());
        } else {
            assert_eq!(record, Some(&("resolved".to_owned(), 1, 1)));
        }
    }
    // Its context came from the message text.
    let client = harness.pool.get().await.expect("db");
    let context: Value = client
        .query_one(
            "SELECT context FROM executions WHERE id = $1",
            &[&batch[0].execution.id],
        )
        .await
        .expect("select")
        .get(0);
    assert_eq!(context, json!({"body": {"id": batch[0].execution.id}}));

    // Recorded again (a redelivery), nothing changes and the first outcome is answered.
    let again = Arc::new(Recording {
        execution: batch[0].execution.clone(),
        result: RunResult {
            status: ExecutionStatus::Failed,
            jobs: Vec::new(),
            response: None,
            error: None,
        },
    });
    let outcomes = store
        .record(&[again, Arc::clone(&batch[1])])
        .await
        .expect("batch");
    assert_eq!(
        outcomes[0].as_ref().expect("answered").status,
        ExecutionStatus::Resolved
    );
    assert_eq!(
        outcomes[1].as_ref().expect("answered").status,
        ExecutionStatus::Resolved
    );
    assert_eq!(recorded(&harness, workflow).await, records);
}
