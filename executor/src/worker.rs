//! Handling one delivery: run an execution exactly once, record it, reply, acknowledge.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use shared::broker::{Broker, BrokerError, Incoming, Outgoing, Route, Topology};
use shared::engine::{Engine, ExecutionMeta, RunResult};
use shared::messages::{ExecutionMessage, ExecutionStatus, SyncReply};
use shared::retry::{self, BackoffBuilder};
use shared::store::{Begin, Finished, Store, StoreError};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::{instruments, spans, variables::Variables, versions::Versions};

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

/// What every delivery handler shares.
pub(crate) struct Worker {
    pub(crate) broker: Arc<dyn Broker>,
    pub(crate) store: Arc<dyn Store>,
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
    pub(crate) async fn handle_execution(&self, incoming: Incoming) {
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
        self.process(message, incoming).instrument(span).await;
    }

    async fn process(&self, message: ExecutionMessage, incoming: Incoming) {
        match self.execute(message, &incoming).await {
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
        incoming: &Incoming,
    ) -> Result<(), RetryLater> {
        let finished = match self.patiently(|| self.store.begin(&message)).await? {
            Begin::Finished(finished) => {
                tracing::info!(
                    status = finished.status.as_str(),
                    "already finished; not running it again"
                );
                finished
            }
            Begin::Duplicate { original } => {
                return self.answer_repeat(&message, incoming, original).await;
            }
            Begin::Run => {
                // Recorded by `begin`, the context is the engine's now: no copy of it.
                let context = std::mem::take(&mut message.context);
                let result = self.run(&message, context).await?;
                let result = &result;
                let finished = self
                    .patiently(|| self.store.finish(message.execution_id, result))
                    .await?;
                instruments::execution_recorded(finished.status);
                tracing::info!(
                    status = finished.status.as_str(),
                    jobs = result.jobs.len(),
                    "execution recorded"
                );
                finished
            }
        };
        if message.sync {
            self.reply(message.execution_id, incoming, finished).await?;
        }
        Ok(())
    }

    async fn run(
        &self,
        message: &ExecutionMessage,
        context: Value,
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
        let env = self.patiently(|| self.variables.current()).await?;
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
        let Some(reply_to) = incoming.reply_to.clone() else {
            tracing::warn!("sync execution without a reply address; nobody to answer");
            return Ok(());
        };
        let reply = SyncReply {
            execution_id,
            status: finished.status,
            response: finished.response,
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

/// The result of an execution whose workflow version cannot be run at all.
fn cannot_run(error: String) -> RunResult {
    RunResult {
        status: ExecutionStatus::Error,
        jobs: Vec::new(),
        response: None,
        error: Some(error),
    }
}
