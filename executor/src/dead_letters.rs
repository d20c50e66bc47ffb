//! The dead-letter queue: every message parked there becomes an `error` execution that
//! names the reason, so nothing is dropped silently (docs/guarantees.md).

use std::collections::BTreeMap;

use shared::broker::Incoming;
use shared::messages::{Envelope, ExecutionStatus};
use shared::store::{DeadLetter, Finished};

use crate::{instruments, worker::Worker};

impl Worker {
    /// Handles one message of the dead-letter queue: it becomes an `error` execution.
    pub(crate) async fn handle_dead_letter(&self, incoming: Incoming) {
        let reason = reason(&incoming.headers);
        // Only the identity is read: from the headers ingress set, else from the start of the
        // body with the rest skipped. The body itself, which may be what kept failing, is
        // handed to PostgreSQL as it is.
        let envelope = Envelope::read(&incoming.headers, incoming.message_id.as_deref())
            .or_else(|| Envelope::parse(&incoming.payload));
        let letter = match &envelope {
            Some(envelope) => DeadLetter::Execution {
                envelope,
                payload: &incoming.payload,
            },
            None => DeadLetter::Unreadable(&incoming.payload),
        };
        let recorded = self.patiently(|| self.store.record_dead_letter(letter, reason));
        let execution_id = match recorded.await {
            Ok(id) => id,
            Err(err) if err.is_outage() => {
                tracing::warn!(error = %err, "recording a dead letter failed; it will be redelivered");
                self.requeue_later(&incoming).await;
                return;
            }
            Err(err) => {
                // Redelivering it would fail the same way for ever: the dead-letter path must
                // not loop. Said loudly instead.
                tracing::error!(error = %err, %reason, bytes = incoming.payload.len(),
                    "a dead letter cannot be recorded; it is dropped");
                instruments::dead_letter_unrecorded();
                if let Err(err) = incoming.settle.ack().await {
                    tracing::warn!(error = %err, "acknowledging a dead letter failed");
                }
                return;
            }
        };
        instruments::execution_recorded(ExecutionStatus::Error);
        instruments::dead_lettered(&incoming.headers);
        tracing::warn!(%execution_id, %reason, "dead-lettered message recorded as an error execution");
        // A sync caller may still be waiting: tell it now rather than let it time out.
        if envelope.is_some_and(|envelope| envelope.sync) {
            let finished = Finished {
                status: ExecutionStatus::Error,
                response: None,
            };
            if let Err(err) = self.reply(execution_id, &incoming, finished).await {
                tracing::debug!(error = %err, "no reply for a dead-lettered sync execution");
            }
        }
        if let Err(err) = incoming.settle.ack().await {
            tracing::warn!(error = %err, "acknowledging a dead letter failed");
        }
    }
}

/// Why RabbitMQ parked the message, for the `error` execution it becomes.
fn reason(headers: &BTreeMap<String, String>) -> &'static str {
    let reason = headers.get("x-first-death-reason").map(String::as_str);
    match reason {
        Some("rejected") => "the message could not be read as an execution",
        Some("delivery_limit") => "the execution kept failing and reached its delivery limit",
        Some("expired") => "the message expired before it could run",
        _ => "the message was dead-lettered",
    }
}
