//! Sync callers waiting for their execution's reply, matched by correlation id.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;
use shared::{
    broker::{self, Broker, Incoming, Source},
    messages::SyncReply,
};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::instruments;

/// The correlation map: execution id → the caller waiting for it.
#[derive(Default)]
pub struct Replies {
    waiters: Mutex<HashMap<Uuid, oneshot::Sender<SyncReply>>>,
    consuming: AtomicBool,
}

impl Replies {
    /// An empty map.
    pub fn new() -> Arc<Self> {
        Arc::new(Replies::default())
    }

    /// Registers a caller waiting for `execution_id`; register before publishing so that
    /// a fast reply cannot arrive first. Dropping the [`Waiter`] removes the entry.
    pub fn register(self: &Arc<Self>, execution_id: Uuid) -> Waiter {
        let (sender, receiver) = oneshot::channel();
        self.lock().insert(execution_id, sender);
        instruments::sync_wait(1.0);
        Waiter {
            replies: Arc::clone(self),
            execution_id,
            receiver,
        }
    }

    /// Hands `reply` to its waiter; `false` when nobody waits (unknown or timed out).
    pub fn complete(&self, execution_id: Uuid, reply: SyncReply) -> bool {
        match self.lock().remove(&execution_id) {
            Some(sender) => sender.send(reply).is_ok(),
            None => false,
        }
    }

    /// How many callers are waiting.
    pub fn waiting(&self) -> usize {
        self.lock().len()
    }

    /// Whether the reply consumer is running.
    pub fn is_consuming(&self) -> bool {
        self.consuming.load(Ordering::SeqCst)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, oneshot::Sender<SyncReply>>> {
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One caller's pending reply.
pub struct Waiter {
    replies: Arc<Replies>,
    execution_id: Uuid,
    receiver: oneshot::Receiver<SyncReply>,
}

impl Waiter {
    /// Waits at most `timeout` for the reply; `None` on timeout.
    pub async fn wait(mut self, timeout: Duration) -> Option<SyncReply> {
        tokio::time::timeout(timeout, &mut self.receiver)
            .await
            .ok()
            .and_then(Result::ok)
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        // Covers timeouts, failed publishes and callers that went away alike.
        self.replies.lock().remove(&self.execution_id);
        instruments::sync_wait(-1.0);
    }
}

/// Consumes this instance's reply queue until the broker closes, completing waiters.
pub async fn consume(broker: Arc<dyn Broker>, replies: Arc<Replies>) {
    let Some(mut stream) = broker::subscribe_retrying(&*broker, Source::Replies).await else {
        return;
    };
    replies.consuming.store(true, Ordering::SeqCst);
    while let Some(message) = stream.next().await {
        deliver(&replies, message);
    }
    replies.consuming.store(false, Ordering::SeqCst);
    tracing::info!("sync reply consumer stopped: broker closed");
}

fn deliver(replies: &Replies, message: Incoming) {
    match serde_json::from_slice::<SyncReply>(&message.payload) {
        Ok(reply) => {
            let execution_id = message
                .correlation_id
                .as_deref()
                .and_then(|id| Uuid::parse_str(id).ok())
                .unwrap_or(reply.execution_id);
            if !replies.complete(execution_id, reply) {
                tracing::debug!(%execution_id, "reply for no waiting caller dropped");
            }
        }
        Err(err) => tracing::warn!(error = %err, "undecodable sync reply dropped"),
    }
    // Replies are consumed without acknowledgements (`Source::Replies`): nothing to settle.
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::messages::ExecutionStatus;

    fn reply(execution_id: Uuid) -> SyncReply {
        SyncReply {
            execution_id,
            status: ExecutionStatus::Resolved,
            response: None,
            idempotency_conflict: false,
        }
    }

    #[tokio::test]
    async fn a_reply_reaches_its_waiter() {
        let replies = Replies::new();
        let id = Uuid::now_v7();
        let waiter = replies.register(id);
        assert!(replies.complete(id, reply(id)));
        let got = waiter.wait(Duration::from_secs(1)).await.expect("reply");
        assert_eq!(got.execution_id, id);
        assert_eq!(replies.waiting(), 0);
    }

    #[tokio::test]
    async fn a_timed_out_waiter_leaves_no_entry_and_late_replies_are_dropped() {
        let replies = Replies::new();
        let id = Uuid::now_v7();
        let waiter = replies.register(id);
        assert_eq!(replies.waiting(), 1);
        assert!(waiter.wait(Duration::from_millis(10)).await.is_none());
        assert_eq!(replies.waiting(), 0);
        assert!(!replies.complete(id, reply(id)));
    }

    #[tokio::test]
    async fn replies_for_unknown_ids_are_dropped() {
        let replies = Replies::new();
        let waiting = Uuid::now_v7();
        let _waiter = replies.register(waiting);
        let stranger = Uuid::now_v7();
        assert!(!replies.complete(stranger, reply(stranger)));
        assert_eq!(replies.waiting(), 1);
    }
}
