//! An in-process broker with the same delivery semantics as the RabbitMQ one, for unit
//! tests and a single-process mode: execution queues with redelivery and dead-lettering,
//! one reply queue, and a change fan-out.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures_util::{StreamExt, stream::BoxStream};
use tokio::sync::{broadcast, mpsc, watch};

use super::{Broker, BrokerError, Incoming, Outgoing, Route, Settle, Source};

const REPLY_ADDRESS: &str = "memory.replies";

/// A queue: one sender feeding a receiver that subscribers share.
struct Queue {
    tx: mpsc::UnboundedSender<Stored>,
    rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Stored>>>,
}

impl Queue {
    fn new() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Queue {
            tx,
            rx: Arc::new(tokio::sync::Mutex::new(rx)),
        }
    }
}

#[derive(Clone)]
struct Stored {
    message: Outgoing,
    deliveries: u32,
}

/// In-process broker.
pub struct MemoryBroker {
    sync_queue: Queue,
    async_queue: Queue,
    dead: Queue,
    replies: Queue,
    changes: broadcast::Sender<Outgoing>,
    ready: watch::Sender<bool>,
    delivery_limit: u32,
    /// Every published message, by route, for assertions in tests.
    published: Mutex<Vec<(Route, Outgoing)>>,
}

impl MemoryBroker {
    /// A ready broker that dead-letters a message after 5 deliveries.
    pub fn new() -> Arc<MemoryBroker> {
        Arc::new(MemoryBroker {
            sync_queue: Queue::new(),
            async_queue: Queue::new(),
            dead: Queue::new(),
            replies: Queue::new(),
            changes: broadcast::channel(256).0,
            ready: watch::Sender::new(true),
            delivery_limit: 5,
            published: Mutex::new(Vec::new()),
        })
    }

    /// Makes the broker (un)available, as a broker outage would.
    pub fn set_ready(&self, ready: bool) {
        self.ready.send_replace(ready);
    }

    /// Messages published so far.
    pub fn published(&self) -> Vec<(Route, Outgoing)> {
        self.published.lock().map(|p| p.clone()).unwrap_or_default()
    }

    fn queue(&self, source: Source) -> Option<&Queue> {
        match source {
            Source::Executions { sync: true, .. } => Some(&self.sync_queue),
            Source::Executions { sync: false, .. } => Some(&self.async_queue),
            Source::DeadLetters => Some(&self.dead),
            Source::Replies => Some(&self.replies),
            Source::Changes => None,
        }
    }
}

struct MemorySettle {
    stored: Stored,
    queue: mpsc::UnboundedSender<Stored>,
    dead: mpsc::UnboundedSender<Stored>,
    delivery_limit: u32,
}

#[async_trait]
impl Settle for MemorySettle {
    async fn ack(&self) -> Result<(), BrokerError> {
        Ok(())
    }
    async fn requeue(&self) -> Result<(), BrokerError> {
        let stored = self.stored.clone();
        let target = if stored.deliveries >= self.delivery_limit {
            &self.dead
        } else {
            &self.queue
        };
        target
            .send(stored)
            .map_err(|_| BrokerError::Unavailable("broker dropped".into()))
    }
    async fn reject(&self) -> Result<(), BrokerError> {
        self.dead
            .send(self.stored.clone())
            .map_err(|_| BrokerError::Unavailable("broker dropped".into()))
    }
}

#[async_trait]
impl Broker for MemoryBroker {
    async fn publish(&self, route: Route, message: Outgoing) -> Result<(), BrokerError> {
        if !*self.ready.borrow() {
            return Err(BrokerError::Unavailable("broker is down".into()));
        }
        if let Ok(mut published) = self.published.lock() {
            published.push((route.clone(), message.clone()));
        }
        let stored = Stored {
            message: message.clone(),
            deliveries: 0,
        };
        let queue = match &route {
            Route::Execution { sync: true } => &self.sync_queue,
            Route::Execution { sync: false } => &self.async_queue,
            Route::Reply(address) if address == REPLY_ADDRESS => &self.replies,
            Route::Reply(_) => return Ok(()),
            Route::Change => {
                let _ = self.changes.send(message);
                return Ok(());
            }
        };
        queue
            .tx
            .send(stored)
            .map_err(|_| BrokerError::Unavailable("queue closed".into()))
    }

    async fn subscribe(&self, source: Source) -> Result<BoxStream<'static, Incoming>, BrokerError> {
        let Some(queue) = self.queue(source) else {
            let rx = self.changes.subscribe();
            return Ok(futures_util::stream::unfold(rx, |mut rx| async move {
                loop {
                    match rx.recv().await {
                        Ok(message) => return Some((incoming(message, 1, None), rx)),
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            })
            .boxed());
        };
        let rx = queue.rx.clone();
        let requeue = queue.tx.clone();
        let dead = self.dead.tx.clone();
        let limit = self.delivery_limit;
        Ok(futures_util::stream::unfold(rx, move |rx| {
            let requeue = requeue.clone();
            let dead = dead.clone();
            async move {
                let mut stored = rx.lock().await.recv().await?;
                stored.deliveries += 1;
                let settle = MemorySettle {
                    stored: stored.clone(),
                    queue: requeue,
                    dead,
                    delivery_limit: limit,
                };
                let item = incoming(stored.message, stored.deliveries, Some(Box::new(settle)));
                Some((item, rx))
            }
        })
        .boxed())
    }

    fn reply_address(&self) -> String {
        REPLY_ADDRESS.into()
    }

    fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    fn readiness(&self) -> watch::Receiver<bool> {
        self.ready.subscribe()
    }

    async fn close(&self) {
        self.ready.send_replace(false);
    }
}

fn incoming(message: Outgoing, deliveries: u32, settle: Option<Box<dyn Settle>>) -> Incoming {
    Incoming {
        payload: message.payload,
        headers: message.headers,
        message_id: message.message_id,
        correlation_id: message.correlation_id,
        reply_to: message.reply_to,
        redelivered: deliveries > 1,
        settle: settle.unwrap_or_else(|| Box::new(super::Settled)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> Outgoing {
        Outgoing {
            payload: body.as_bytes().to_vec(),
            ..Outgoing::default()
        }
    }

    #[tokio::test]
    async fn requeued_messages_are_redelivered_then_dead_lettered() {
        let broker = MemoryBroker::new();
        let mut executions = broker
            .subscribe(Source::Executions {
                sync: false,
                prefetch: 1,
            })
            .await
            .expect("subscribe");
        let mut dead = broker.subscribe(Source::DeadLetters).await.expect("dead");
        broker
            .publish(Route::Execution { sync: false }, message("x"))
            .await
            .expect("publish");
        for attempt in 1..=5 {
            let delivery = executions.next().await.expect("delivery");
            assert_eq!(delivery.redelivered, attempt > 1);
            delivery.settle.requeue().await.expect("requeue");
        }
        let parked = dead.next().await.expect("dead letter");
        assert_eq!(parked.payload, b"x");
    }

    #[tokio::test]
    async fn publishing_fails_while_down() {
        let broker = MemoryBroker::new();
        broker.set_ready(false);
        let err = broker
            .publish(Route::Execution { sync: true }, message("x"))
            .await
            .expect_err("down");
        assert!(matches!(err, BrokerError::Unavailable(_)));
    }
}
