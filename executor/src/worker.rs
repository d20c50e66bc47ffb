//! Handling one delivery: run an execution exactly once, record it, reply, acknowledge.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;
use shared::broker::{Broker, BrokerError, Incoming, Outgoing, Route, Topology};
use shared::engine::{Engine, ExecutionMeta, RunResult};
use shared::messages::{ExecutionMessage, ExecutionStatus, SyncReply};
use shared::retry::{self, BackoffBuilder};
use shared::store::{Begin, Execution, Finished, Recording, Store, StoreError, StoredContext};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::{
    batch::{Batcher, Bound},
    instruments, spans,
    variables::Variables,
    versions::Versions,
};

/// Why a delivery could not be completed now; it is given back to the queue.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RetryLater {
    /// The database did not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sync reply could not be published.
    #[error("publishing the reply failed: {0}")]
    Reply(#[from] BrokerError),
}

/// How long an execution run without `begin` may take before it is recorded as `started`
/// (it waits, e.g. in a delay node). Quicker ones are written once, when they finish.
const STARTED_AFTER: Duration = Duration::from_millis(100);

/// Store calls that deliveries share: at most this many batches at once each…
/// Two record lanes by measurement (the benchmark, 2,000 calls × 2 rounds, 1, 2 and 4
/// lanes): 4 made batches of ~3 executions and cost PostgreSQL the most per execution; 1
/// made batches of ~7 but halved the rate of 64 KiB bodies, whose statements then queue
/// behind one another; 2 makes batches of ~5 and keeps both.
const RECORD_LANES: usize = 2;
const LOOKUP_LANES: usize = 2;
/// …of at most this many executions.
const MOST_PER_BATCH: usize = 256;
/// …and records of contexts of at most this many bytes together (unless the first alone is
/// larger). A connection keeps buffers as large as the largest statement it carried, and
/// every connection of the pool carries records in turn: unbounded, 64 KiB bodies made
/// statements of megabytes and kept the executor at 150 MiB after a long load.
const MOST_RECORD_BYTES: usize = 512 * 1024;

/// What a record weighs in its batch's statement: its context's text.
fn record_weight(recording: &Arc<Recording>) -> usize {
    match &recording.execution.context {
        StoredContext::Message(text) => text.len(),
        StoredContext::Value(value) => shared::shape::approximate_size(value),
    }
}

/// The store calls of many deliveries, grouped: whether executions are recorded already,
/// and the records of the ones that ran (group commit).
pub(crate) struct Batches {
    /// Whether each execution is recorded, and the variables' generation.
    lookups: Batcher<Uuid, Result<(bool, Option<i64>), StoreError>>,
    records: Batcher<Arc<Recording>, Result<Finished, StoreError>>,
}

impl Batches {
    pub(crate) fn start(store: &Arc<dyn Store>) -> Batches {
        let looking = Arc::clone(store);
        let lookups = Batcher::start(
            LOOKUP_LANES,
            Bound::items(MOST_PER_BATCH),
            move |ids: Vec<Uuid>| {
                let store = Arc::clone(&looking);
                async move {
                    match store.recorded_among(&ids).await {
                        Ok(recorded) => {
                            let generation = recorded.variables;
                            let recorded: HashSet<Uuid> = recorded.ids.into_iter().collect();
                            ids.iter()
                                .map(|id| Ok((recorded.contains(id), generation)))
                                .collect()
                        }
                        Err(err) => ids.iter().map(|_| Err(each(&err))).collect(),
                    }
                }
            },
        );
        let recording = Arc::clone(store);
        let bound = Bound {
            items: MOST_PER_BATCH,
            weight: MOST_RECORD_BYTES,
            weigh: record_weight,
        };
        let records = Batcher::start(RECORD_LANES, bound, move |batch: Vec<Arc<Recording>>| {
            let store = Arc::clone(&recording);
            instruments::record_batch(batch.len());
            async move {
                match store.record(&batch).await {
                    Ok(outcomes) => outcomes,
                    Err(err) => batch.iter().map(|_| Err(each(&err))).collect(),
                }
            }
        });
        Batches { lookups, records }
    }
}

/// A batch's error, for each of its items: an outage stays one, so that it is waited out.
fn each(err: &StoreError) -> StoreError {
    if err.is_outage() {
        StoreError::Unavailable(err.to_string())
    } else {
        StoreError::Invalid(err.to_string())
    }
}

/// What a batch answers when it stopped or left the item out.
fn unanswered() -> StoreError {
    StoreError::Unavailable("the batch was not answered".into())
}

/// What every delivery handler shares.
pub(crate) struct Worker {
    pub(crate) broker: Arc<dyn Broker>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) batches: Batches,
    pub(crate) engine: Engine,
    pub(crate) versions: Versions,
    /// `$env`.
    pub(crate) variables: Variables,
    /// Queue and exchange names, for the messaging spans.
    pub(crate) topology: Topology,
    /// Cancelled when the service drains: a delivery waiting for the database or to be
    /// requeued stops waiting.
    pub(crate) stopping: CancellationToken,
}

impl Worker {
    /// Handles one delivery of an execution queue.
    pub(crate) async fn handle_execution(&self, mut incoming: Incoming) {
        let message: ExecutionMessage = match serde_json::from_slice(&incoming.payload) {
            Ok(message) => message,
            Err(err) => {
                // Retrying cannot make it parse: reject it into the dead-letter queue,
                // where it is recorded as an `error` execution.
                tracing::warn!(error = %err, bytes = incoming.payload.len(), "unreadable execution message");
                if let Err(err) = incoming.settle.reject().await {
                    tracing::warn!(error = %err, "rejecting an unreadable message failed");
                }
                return;
            }
        };
        let span = spans::process(&self.topology, &message, &incoming);
        instruments::delivered(&message, incoming.redelivered);
        // Kept for the record, which takes the context from it.
        let payload = std::mem::take(&mut incoming.payload);
        self.process(message, payload, incoming)
            .instrument(span)
            .await;
    }

    async fn process(&self, message: ExecutionMessage, payload: Vec<u8>, incoming: Incoming) {
        match self.execute(message, payload, &incoming).await {
            Ok(()) => {
                if let Err(err) = incoming.settle.ack().await {
                    // The message comes back; the recorded execution will not run again.
                    tracing::warn!(error = %err, "acknowledging failed");
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "execution not completed; it will be redelivered");
                spans::failed(&tracing::Span::current());
                self.requeue_later(&incoming).await;
            }
        }
    }

    async fn execute(
        &self,
        mut message: ExecutionMessage,
        payload: Vec<u8>,
        incoming: &Incoming,
    ) -> Result<(), RetryLater> {
        // A first delivery of an execution that nothing recorded yet runs at once and is
        // written once, when it finished. The others are begun first: a redelivery, a
        // repeated publish, an idempotency key to claim.
        if message.idempotency.is_none() && !incoming.redelivered {
            let looking = Instant::now();
            let (recorded, variables) = self
                .patiently(|| self.is_recorded(message.execution_id))
                .await?;
            instruments::looked_up(message.sync, looking.elapsed());
            if !recorded {
                return self
                    .run_and_record(&mut message, payload, false, variables, incoming)
                    .await;
            }
        }
        match self.patiently(|| self.store.begin(&message)).await? {
            Begin::Finished(finished) => {
                tracing::info!(
                    status = finished.status.as_str(),
                    "already finished; not running it again"
                );
                if message.sync {
                    self.reply(message.execution_id, incoming, finished).await?;
                }
                Ok(())
            }
            Begin::Duplicate { original } => self.answer_repeat(&message, incoming, original).await,
            Begin::Conflict { original } => {
                self.answer_conflict(&message, incoming, original).await
            }
            Begin::Run => {
                self.run_and_record(&mut message, payload, true, None, incoming)
                    .await
            }
        }
    }

    /// Runs `message` and records how it ended; `begun` when [`Store::begin`] recorded it
    /// first, else it is recorded as `started` only if it takes a while. `variables` is the
    /// variables' generation its lookup saw, if it was looked up. A sync caller is answered
    /// as soon as the run ended, while the record is written: the message is acknowledged
    /// only once both are done, so a crash in between runs it again.
    async fn run_and_record(
        &self,
        message: &mut ExecutionMessage,
        payload: Vec<u8>,
        begun: bool,
        variables: Option<i64>,
        incoming: &Incoming,
    ) -> Result<(), RetryLater> {
        // The record takes the context from the message text, so the engine gets the parsed
        // one without a copy, unless PostgreSQL cannot read that text (`\u0000`).
        let context = if has_nul_escape(&payload) {
            StoredContext::Value(message.context.clone())
        } else {
            StoredContext::Message(payload)
        };
        let execution = Execution {
            id: message.execution_id,
            workflow_id: message.workflow_id,
            version: message.version,
            received_at: message.received_at,
            started_at: Utc::now(),
            context,
        };
        let engine_context = std::mem::take(&mut message.context);
        let run = self.run(message, engine_context, variables);
        let result = if begun {
            run.await?
        } else {
            self.noting_a_wait(run, &execution).await?
        };
        let recording = Arc::new(Recording { execution, result });
        let record = self.patiently(|| self.record(Arc::clone(&recording)));
        let (recorded, replied) = if message.sync {
            let outcome = Finished {
                status: recording.result.status,
                response: recording.result.response.clone(),
            };
            tokio::join!(record, self.reply(message.execution_id, incoming, outcome))
        } else {
            (record.await, Ok(()))
        };
        let finished = recorded?;
        instruments::execution_recorded(finished.status);
        tracing::info!(
            status = finished.status.as_str(),
            jobs = recording.result.jobs.len(),
            "execution recorded"
        );
        // A reply that could not be sent is sent again from the record on redelivery.
        replied?;
        Ok(())
    }

    /// Awaits `run`; once it has taken [`STARTED_AFTER`], `execution` is recorded as
    /// started meanwhile.
    async fn noting_a_wait(
        &self,
        run: impl Future<Output = Result<RunResult, StoreError>>,
        execution: &Execution,
    ) -> Result<RunResult, StoreError> {
        let mut run = std::pin::pin!(run);
        tokio::select! {
            result = &mut run => return result,
            () = tokio::time::sleep(STARTED_AFTER) => {}
        }
        let (result, noted) = tokio::join!(run, self.patiently(|| self.store.started(execution)));
        if let Err(err) = noted {
            // Only the `started` status is missing meanwhile; the record follows.
            tracing::warn!(error = %err, "recording a waiting execution as started failed");
        }
        result
    }

    /// Whether anything is recorded for `execution_id`, asked together with the other
    /// deliveries that ask now, and the variables' generation then.
    async fn is_recorded(&self, execution_id: Uuid) -> Result<(bool, Option<i64>), StoreError> {
        (self.batches.lookups.call(execution_id).await).unwrap_or_else(|| Err(unanswered()))
    }

    /// Records `recording` in the next batch (group commit).
    async fn record(&self, recording: Arc<Recording>) -> Result<Finished, StoreError> {
        (self.batches.records.call(recording).await).unwrap_or_else(|| Err(unanswered()))
    }

    async fn run(
        &self,
        message: &ExecutionMessage,
        context: Value,
        variables: Option<i64>,
    ) -> Result<RunResult, StoreError> {
        let document = match self
            .patiently(|| self.versions.get(message.workflow_id, message.version))
            .await
        {
            Ok(Some(document)) => document,
            Ok(None) => {
                return Ok(cannot_run(format!(
                    "workflow {} has no version {}",
                    message.workflow_id, message.version
                )));
            }
            Err(err) if !err.is_transient() => return Ok(cannot_run(err.to_string())),
            Err(err) => return Err(err),
        };
        let meta = ExecutionMeta {
            execution_id: message.execution_id,
            workflow_id: message.workflow_id,
            workflow_key: message.workflow_key.clone(),
        };
        let env = self.patiently(|| self.variables.current(variables)).await?;
        let started = Instant::now();
        let result = self
            .engine
            .run_with_env(&document, &meta, context, &env)
            .await;
        instruments::run_timed(&result, started.elapsed());
        Ok(result)
    }

    /// Sends the recorded outcome to the ingress holding the caller.
    pub(crate) async fn reply(
        &self,
        execution_id: Uuid,
        incoming: &Incoming,
        finished: Finished,
    ) -> Result<(), BrokerError> {
        let reply = SyncReply {
            execution_id,
            status: finished.status,
            response: finished.response,
            idempotency_conflict: false,
        };
        self.send_reply(incoming, reply).await
    }

    /// Sends `reply` to the ingress holding the caller of `incoming`.
    pub(crate) async fn send_reply(
        &self,
        incoming: &Incoming,
        reply: SyncReply,
    ) -> Result<(), BrokerError> {
        let execution_id = reply.execution_id;
        let Some(reply_to) = incoming.reply_to.clone() else {
            tracing::warn!("sync execution without a reply address; nobody to answer");
            return Ok(());
        };
        let payload =
            serde_json::to_vec(&reply).map_err(|e| BrokerError::Protocol(e.to_string()))?;
        let correlation_id = incoming
            .correlation_id
            .clone()
            .unwrap_or_else(|| execution_id.to_string());
        let span = spans::reply(&reply_to, &correlation_id);
        let mut headers = BTreeMap::new();
        span.in_scope(|| shared::telemetry::inject_current(&mut headers));
        let published = self
            .broker
            .publish(
                Route::Reply(reply_to),
                Outgoing {
                    payload,
                    headers,
                    correlation_id: Some(correlation_id),
                    ..Outgoing::default()
                },
            )
            .instrument(span.clone())
            .await;
        if published.is_err() {
            spans::failed(&span);
        }
        published
    }

    /// Runs a store operation until the database answers. An outage is waited out here,
    /// holding the delivery, rather than by requeueing: every requeue counts toward the
    /// quorum queue's delivery limit, so a database restart would otherwise dead-letter
    /// healthy executions. Every store call on the delivery path goes through it. Gives
    /// up (with the error) only when the service drains.
    pub(crate) async fn patiently<T, F, Fut>(&self, operation: F) -> Result<T, StoreError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let mut pauses = retry::store_outage().build();
        loop {
            match operation().await {
                Err(err) if err.is_outage() => {
                    let Some(pause) = pauses.next() else {
                        return Err(err);
                    };
                    tracing::warn!(error = %err, retry_in = ?pause, "database unavailable; waiting for it");
                    if !self.pause(pause).await {
                        return Err(err);
                    }
                }
                outcome => return outcome,
            }
        }
    }

    /// Gives a delivery back after a pause that grows with its delivery count, so that a
    /// failure that is not an outage does not burn through the delivery limit in
    /// milliseconds.
    pub(crate) async fn requeue_later(&self, incoming: &Incoming) {
        let deliveries: u32 = incoming
            .headers
            .get("x-delivery-count")
            .and_then(|count| count.parse().ok())
            .unwrap_or(0);
        let pause = retry::redelivery_pause(deliveries);
        // Draining: leave it unsettled; closing the channel gives it back.
        if !self.pause(pause).await {
            return;
        }
        if let Err(err) = incoming.settle.requeue().await {
            tracing::warn!(error = %err, "requeueing failed");
        }
    }

    /// Sleeps for `pause`; `false` when the service started draining meanwhile.
    async fn pause(&self, pause: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(pause) => true,
            () = self.stopping.cancelled() => false,
        }
    }
}

/// Whether a message's text holds the escape of a NUL character, which PostgreSQL's jsonb
/// refuses (a `\\u0000` written out in a string matches too; it only costs a copy).
fn has_nul_escape(payload: &[u8]) -> bool {
    payload.windows(6).any(|window| window == b"\\u0000")
}

/// The result of an execution whose workflow version cannot be run at all.
fn cannot_run(error: String) -> RunResult {
    RunResult {
        status: ExecutionStatus::Error,
        jobs: Vec::new(),
        response: None,
        error: Some(error),
    }
}
