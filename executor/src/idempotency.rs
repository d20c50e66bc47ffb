//! Repeated idempotency keys (trigger setting `idempotencyKey`): no new execution; a sync
//! caller gets the original execution's answer. Expired keys are purged in the background.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use shared::broker::Incoming;
use shared::messages::{ExecutionMessage, ExecutionStatus, SyncReply};
use shared::model::DEFAULT_SYNC_TIMEOUT_MS;
use shared::retry::{self, BackoffBuilder};
use shared::store::{Finished, Store, StoreError};
use tokio::time::Instant;
use uuid::Uuid;

use crate::worker::{RetryLater, Worker};

/// How often expired keys are purged.
const PURGE_EVERY: Duration = Duration::from_secs(600);

impl Worker {
    /// Settles a message whose idempotency key `original` holds. Ingress already gave an
    /// async caller its configured answer; a sync caller gets `original`'s outcome, waited
    /// for while it runs, but no longer than the caller itself waits.
    pub(crate) async fn answer_repeat(
        &self,
        message: &ExecutionMessage,
        incoming: &Incoming,
        original: Uuid,
    ) -> Result<(), RetryLater> {
        metrics::counter!("hookflow_idempotent_repeats_total").increment(1);
        tracing::info!(%original, "idempotency key already used; not running it again");
        if !message.sync {
            return Ok(());
        }
        match self
            .outcome_within(original, caller_deadline(message))
            .await?
        {
            Some(finished) => self.reply(original, incoming, finished).await?,
            None => {
                tracing::info!(%original, "original execution still running when the caller gave up");
            }
        }
        Ok(())
    }

    /// Settles a message that repeats `original`'s idempotency key with another request:
    /// nothing runs and nothing is recorded; a sync caller is told of the conflict (ingress
    /// answers 409), never `original`'s answer. Ingress already gave an async caller its
    /// configured answer.
    pub(crate) async fn answer_conflict(
        &self,
        message: &ExecutionMessage,
        incoming: &Incoming,
        original: Uuid,
    ) -> Result<(), RetryLater> {
        metrics::counter!("hookflow_idempotency_conflicts_total").increment(1);
        tracing::warn!(
            %original,
            "idempotency key already used by another request; not running it"
        );
        if message.sync {
            let reply = SyncReply {
                execution_id: original,
                // Not read when `idempotency_conflict` is set.
                status: ExecutionStatus::Failed,
                response: None,
                idempotency_conflict: true,
            };
            self.send_reply(incoming, reply).await?;
        }
        Ok(())
    }

    /// `original`'s outcome once it is final, or `None` if it is not by `deadline`.
    async fn outcome_within(
        &self,
        original: Uuid,
        deadline: Instant,
    ) -> Result<Option<Finished>, StoreError> {
        let mut pauses = retry::poll().build();
        loop {
            if let Some(finished) = self.patiently(|| self.store.outcome(original)).await? {
                return Ok(Some(finished));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let Some(pause) = pauses.next() else {
                return Ok(None);
            };
            tokio::time::sleep(pause.min(deadline - now)).await;
        }
    }
}

/// When the sync caller of `message` stops waiting: its timeout counted from when ingress
/// accepted the call.
fn caller_deadline(message: &ExecutionMessage) -> Instant {
    let timeout = Duration::from_millis(message.sync_timeout_ms.unwrap_or(DEFAULT_SYNC_TIMEOUT_MS));
    let waited = (Utc::now() - message.received_at)
        .to_std()
        .unwrap_or_default();
    Instant::now() + timeout.saturating_sub(waited)
}

/// Deletes expired idempotency keys now and then, for as long as the service runs; several
/// executors doing it at once only share the work.
pub(crate) async fn purge_expired_keys(store: Arc<dyn Store>) {
    let mut every = tokio::time::interval(PURGE_EVERY);
    loop {
        every.tick().await;
        match store.purge_expired_keys().await {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "expired idempotency keys purged"),
            Err(err) => tracing::warn!(error = %err, "purging expired idempotency keys failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(sync_timeout_ms: Option<u64>, age: chrono::TimeDelta) -> ExecutionMessage {
        ExecutionMessage {
            execution_id: Uuid::now_v7(),
            workflow_id: Uuid::now_v7(),
            workflow_key: "abcdefghijk".into(),
            version: 1,
            sync: true,
            context: json!({}),
            received_at: Utc::now() - age,
            idempotency: None,
            sync_timeout_ms,
        }
    }

    #[test]
    fn a_repeat_waits_only_as_long_as_its_caller_still_does() {
        let fresh = caller_deadline(&message(Some(5000), chrono::TimeDelta::zero()));
        let left = fresh - Instant::now();
        assert!(left > Duration::from_millis(4000) && left <= Duration::from_millis(5000));

        let stale = caller_deadline(&message(Some(5000), chrono::TimeDelta::seconds(10)));
        assert!(stale <= Instant::now());

        let defaulted = caller_deadline(&message(None, chrono::TimeDelta::zero()));
        assert!(defaulted - Instant::now() > Duration::from_millis(DEFAULT_SYNC_TIMEOUT_MS - 1000));
    }
}
