//! Redelivery and dead-lettering, driven by a store that fails on demand and the
//! in-process broker (the database's failures cannot be staged on the real one).

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use serde_json::json;
use shared::broker::{Broker, MemoryBroker, Outgoing, Route, Source};
use shared::config::{Config, Service};
use shared::engine::RunResult;
use shared::health::ReadinessCheck;
use shared::messages::{ExecutionMessage, ExecutionStatus, HttpReply, SyncReply};
use shared::model::WorkflowDocument;
use shared::store::{Begin, DeadLetter, Finished, Store, StoreError};
use shared::testkit::start_service;
use uuid::Uuid;

/// Executions in memory. The first store call of a delivery (`begin`, or `outcome` when
/// the message repeats `original`'s idempotency key) fails while `failures` is above zero:
/// as if the database were down when `outage` is set, otherwise with an error that waiting
/// cannot cure.
#[derive(Default)]
struct FlakyStore {
    failures: AtomicU32,
    outage: AtomicBool,
    begins: AtomicU32,
    outcomes: AtomicU32,
    /// Records that fail (with an error that waiting cannot cure) before one is written.
    record_failures: AtomicU32,
    /// Records asked for, written or not.
    records: AtomicU32,
    /// When set, every message repeats this execution's idempotency key.
    original: Mutex<Option<(Uuid, Finished)>>,
    finished: Mutex<HashMap<Uuid, RunResult>>,
    dead: Mutex<Vec<(Option<Uuid>, String)>>,
}

impl FlakyStore {
    fn flake(&self) -> Result<(), StoreError> {
        let failed = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        match failed {
            Err(_) => Ok(()),
            Ok(_) if self.outage.load(Ordering::SeqCst) => {
                Err(StoreError::Unavailable("staged outage".into()))
            }
            Ok(_) => Err(StoreError::Invalid("staged failure".into())),
        }
    }
}

#[async_trait]
impl Store for FlakyStore {
    async fn load_version(&self, _: Uuid, _: i32) -> Result<Option<WorkflowDocument>, StoreError> {
        let document = json!({"title": "t", "sync": true, "trigger": {}, "nodes": [
            {"key": "answer", "type": "response", "config": {"statusCode": 202}}]});
        Ok(Some(serde_json::from_value(document).expect("document")))
    }

    async fn begin(&self, message: &ExecutionMessage) -> Result<Begin, StoreError> {
        self.begins.fetch_add(1, Ordering::SeqCst);
        if let Some((original, _)) = *self.original.lock().expect("lock") {
            return Ok(Begin::Duplicate { original });
        }
        self.flake()?;
        let finished = self.finished.lock().expect("lock");
        Ok(match finished.get(&message.execution_id) {
            Some(result) => Begin::Finished(Finished {
                status: result.status,
                response: result.response.clone(),
            }),
            None => Begin::Run,
        })
    }

    async fn outcome(&self, _: Uuid) -> Result<Option<Finished>, StoreError> {
        self.outcomes.fetch_add(1, Ordering::SeqCst);
        self.flake()?;
        let original = self.original.lock().expect("lock");
        Ok(original.as_ref().map(|(_, finished)| finished.clone()))
    }

    async fn finish(&self, execution_id: Uuid, result: &RunResult) -> Result<Finished, StoreError> {
        self.records.fetch_add(1, Ordering::SeqCst);
        let failed = (self.record_failures)
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failed.is_ok() {
            return Err(StoreError::Invalid("staged record failure".into()));
        }
        self.finished
            .lock()
            .expect("lock")
            .insert(execution_id, result.clone());
        Ok(Finished {
            status: result.status,
            response: result.response.clone(),
        })
    }

    async fn record_dead_letter(
        &self,
        letter: DeadLetter<'_>,
        reason: &str,
    ) -> Result<Uuid, StoreError> {
        let id = match letter {
            DeadLetter::Execution { envelope, .. } => Some(envelope.execution_id),
            DeadLetter::Unreadable(_) => None,
        };
        self.dead
            .lock()
            .expect("lock")
            .push((id, reason.to_owned()));
        Ok(id.unwrap_or_else(Uuid::now_v7))
    }
}

struct AlwaysReady;

#[async_trait]
impl ReadinessCheck for AlwaysReady {
    fn name(&self) -> &'static str {
        "database"
    }
    async fn ready(&self) -> bool {
        true
    }
}

async fn start(store: Arc<FlakyStore>) -> (Arc<MemoryBroker>, shared::testkit::Running) {
    let broker = MemoryBroker::new();
    let (for_service, for_store) = (Arc::clone(&broker), store);
    let run = move |config: Config, listener, shutdown| {
        hookflow_executor::serve(
            config,
            listener,
            for_service,
            for_store,
            Arc::new(AlwaysReady),
            shutdown,
        )
    };
    let mut config = Config::defaults(Service::Executor);
    config.shutdown_grace_secs = 2;
    let running = start_service(run, config).await;
    (broker, running)
}

async fn publish_sync(broker: &MemoryBroker) -> Uuid {
    let message = support::message(Uuid::now_v7(), true, json!({}));
    let outgoing = Outgoing {
        payload: serde_json::to_vec(&message).expect("json"),
        correlation_id: Some(message.execution_id.to_string()),
        reply_to: Some(broker.reply_address()),
        ..Outgoing::default()
    };
    broker
        .publish(Route::Execution { sync: true }, outgoing)
        .await
        .expect("publish");
    message.execution_id
}

async fn next_reply(broker: &MemoryBroker) -> SyncReply {
    let mut replies = broker.subscribe(Source::Replies).await.expect("replies");
    let incoming = tokio::time::timeout(Duration::from_secs(20), replies.next())
        .await
        .expect("a reply in time")
        .expect("reply");
    serde_json::from_slice(&incoming.payload).expect("SyncReply")
}

#[tokio::test]
async fn a_database_error_gives_the_delivery_back_and_the_retry_runs_it_once() {
    let store = Arc::new(FlakyStore::default());
    store.failures.store(1, Ordering::SeqCst);
    let (broker, running) = start(Arc::clone(&store)).await;
    let id = publish_sync(&broker).await;

    let reply = next_reply(&broker).await;
    assert_eq!(reply.execution_id, id);
    assert_eq!(reply.status, ExecutionStatus::Resolved);
    assert_eq!(reply.response.expect("response").status_code, 202);
    assert_eq!(store.begins.load(Ordering::SeqCst), 2);
    assert_eq!(store.finished.lock().expect("lock").len(), 1);
    assert!(store.dead.lock().expect("lock").is_empty());
    running.stop().await.expect("stop");
}

#[tokio::test]
async fn a_sync_caller_answered_before_a_failed_record_is_recorded_once_on_the_retry() {
    let store = Arc::new(FlakyStore::default());
    store.record_failures.store(1, Ordering::SeqCst);
    let (broker, running) = start(Arc::clone(&store)).await;
    let mut replies = broker.subscribe(Source::Replies).await.expect("replies");
    let id = publish_sync(&broker).await;

    // The caller is answered from the run, while the record is being written (and fails).
    let first = tokio::time::timeout(Duration::from_secs(20), replies.next())
        .await
        .expect("a reply in time")
        .expect("reply");
    let first: SyncReply = serde_json::from_slice(&first.payload).expect("SyncReply");
    assert_eq!(
        (first.execution_id, first.status),
        (id, ExecutionStatus::Resolved)
    );
    assert!(
        store.finished.lock().expect("lock").is_empty(),
        "answered before anything was recorded"
    );
    // The delivery comes back (after its pause), runs again and is recorded once.
    let second = tokio::time::timeout(Duration::from_secs(20), replies.next())
        .await
        .expect("the retry's reply in time")
        .expect("reply");
    let second: SyncReply = serde_json::from_slice(&second.payload).expect("SyncReply");
    assert_eq!(second.execution_id, id);
    assert_eq!(store.records.load(Ordering::SeqCst), 2);
    assert_eq!(store.finished.lock().expect("lock").len(), 1);
    assert!(store.dead.lock().expect("lock").is_empty());
    running.stop().await.expect("stop");
}

#[tokio::test]
async fn a_database_outage_is_waited_out_without_using_up_deliveries() {
    let store = Arc::new(FlakyStore::default());
    // More failed attempts than the delivery limit (5): requeueing each one would
    // dead-letter the execution.
    store.failures.store(6, Ordering::SeqCst);
    store.outage.store(true, Ordering::SeqCst);
    let (broker, running) = start(Arc::clone(&store)).await;
    let id = publish_sync(&broker).await;

    let reply = next_reply(&broker).await;
    assert_eq!(reply.execution_id, id);
    assert_eq!(reply.status, ExecutionStatus::Resolved);
    assert_eq!(store.begins.load(Ordering::SeqCst), 7);
    assert!(store.dead.lock().expect("lock").is_empty());
    running.stop().await.expect("stop");
}

#[tokio::test]
async fn a_database_outage_while_a_repeat_waits_for_its_original_is_waited_out() {
    let store = Arc::new(FlakyStore::default());
    let original = Uuid::now_v7();
    let first_answer = HttpReply {
        status_code: 201,
        headers: Vec::new(),
        body: json!("first"),
    };
    *store.original.lock().expect("lock") = Some((
        original,
        Finished {
            status: ExecutionStatus::Resolved,
            response: Some(first_answer.clone()),
        },
    ));
    // More failed looks than the delivery limit (5), as in the outage test above.
    store.failures.store(6, Ordering::SeqCst);
    store.outage.store(true, Ordering::SeqCst);
    let (broker, running) = start(Arc::clone(&store)).await;
    publish_sync(&broker).await;

    // The repeat's caller gets the original execution's answer.
    let reply = next_reply(&broker).await;
    assert_eq!(reply.execution_id, original);
    assert_eq!(reply.status, ExecutionStatus::Resolved);
    assert_eq!(reply.response, Some(first_answer));
    assert_eq!(store.begins.load(Ordering::SeqCst), 1, "requeued");
    assert_eq!(store.outcomes.load(Ordering::SeqCst), 7);
    assert!(store.dead.lock().expect("lock").is_empty());
    running.stop().await.expect("stop");
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_dead_lettered_as_an_error() {
    let store = Arc::new(FlakyStore::default());
    store.failures.store(u32::MAX, Ordering::SeqCst);
    let (broker, running) = start(Arc::clone(&store)).await;
    let id = publish_sync(&broker).await;

    // The sync caller hears of the error instead of waiting for its timeout.
    let reply = next_reply(&broker).await;
    assert_eq!(reply.execution_id, id);
    assert_eq!(reply.status, ExecutionStatus::Error);
    assert_eq!(reply.response, None);
    let dead = store.dead.lock().expect("lock").clone();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0, Some(id));
    assert!(store.finished.lock().expect("lock").is_empty());
    running.stop().await.expect("stop");
}
