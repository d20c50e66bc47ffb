//! The receiving side of [`AmqpBroker`](super::AmqpBroker): a consumer per subscription
//! that re-consumes after every reconnect, and deliveries turned into [`Incoming`] messages
//! settled through their channel.

use std::{
    collections::BTreeMap,
    sync::{Arc, Weak, atomic::Ordering},
};

use async_trait::async_trait;
use futures_util::StreamExt;
use lapin::{
    options::{BasicNackOptions, BasicRejectOptions},
    types::{AMQPValue, DeliveryTag},
};
use tokio::sync::{mpsc, watch};

use super::{Inner, Session, acks::Acks, bounded, close_quietly};
use crate::broker::{BrokerError, Incoming, Settle, Settled, Source, declare};
use crate::retry::{self, BackoffBuilder};

fn header_text(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(s) => Some(s.to_string()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        AMQPValue::LongLongInt(n) => Some(n.to_string()),
        AMQPValue::LongInt(n) => Some(n.to_string()),
        AMQPValue::LongUInt(n) => Some(n.to_string()),
        AMQPValue::ShortInt(n) => Some(n.to_string()),
        AMQPValue::ShortUInt(n) => Some(n.to_string()),
        AMQPValue::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Settles a delivery of an acknowledged subscription: acknowledgements go through the
/// channel's [`Acks`], coalesced; requeues and rejections are sent at once.
struct AmqpSettle {
    acker: lapin::Acker,
    tag: DeliveryTag,
    acks: Arc<Acks>,
}

fn settle_error(err: lapin::Error) -> BrokerError {
    BrokerError::Unavailable(err.to_string())
}

impl AmqpSettle {
    /// The outcome of a requeue or rejection; once it is sent, acknowledgements sent
    /// together may cover its tag.
    fn settled(&self, sent: Result<bool, lapin::Error>) -> Result<(), BrokerError> {
        self.acks.settled(self.tag);
        sent.map(|_| ()).map_err(settle_error)
    }
}

#[async_trait]
impl Settle for AmqpSettle {
    async fn ack(&self) -> Result<(), BrokerError> {
        self.acks.ack(self.tag);
        Ok(())
    }
    async fn requeue(&self) -> Result<(), BrokerError> {
        let options = BasicNackOptions {
            requeue: true,
            ..BasicNackOptions::default()
        };
        let sent = self.acker.nack(options).await;
        self.settled(sent)
    }
    async fn reject(&self) -> Result<(), BrokerError> {
        let options = BasicRejectOptions { requeue: false };
        let sent = self.acker.reject(options).await;
        self.settled(sent)
    }
}

/// `delivery` as an [`Incoming`]; `acks` for an acknowledged subscription.
fn incoming(delivery: lapin::message::Delivery, acks: Option<&Arc<Acks>>) -> Incoming {
    let props = &delivery.properties;
    let headers: BTreeMap<String, String> = props
        .headers()
        .as_ref()
        .map(|table| {
            table
                .inner()
                .iter()
                .filter_map(|(k, v)| header_text(v).map(|v| (k.as_str().to_owned(), v)))
                .collect()
        })
        .unwrap_or_default();
    Incoming {
        headers,
        message_id: props.message_id().as_ref().map(|s| s.as_str().to_owned()),
        correlation_id: props
            .correlation_id()
            .as_ref()
            .map(|s| s.as_str().to_owned()),
        reply_to: props.reply_to().as_ref().map(|s| s.as_str().to_owned()),
        redelivered: delivery.redelivered,
        payload: delivery.data,
        settle: match acks {
            Some(acks) => {
                acks.delivered(delivery.delivery_tag);
                Box::new(AmqpSettle {
                    acker: delivery.acker,
                    tag: delivery.delivery_tag,
                    acks: Arc::clone(acks),
                })
            }
            None => Box::new(Settled),
        },
    }
}

/// Closes a consuming channel once the acknowledgements still pending on it are sent.
async fn unsubscribe(channel: &lapin::Channel, acks: Option<&Acks>) {
    if let Some(acks) = acks
        && let Err(err) = acks.send().await
    {
        tracing::warn!(error = %err, "acknowledging deliveries failed; they will be delivered again");
    }
    close_quietly(channel.close(200, "unsubscribed".into())).await;
}

/// The broker's session once there is one whose connection is alive: a consumer that saw
/// its channel fail may look before the supervisor has noticed the connection is gone.
async fn next_session(sessions: &mut watch::Receiver<Option<Session>>) -> Option<Session> {
    sessions
        .wait_for(|s| {
            s.as_ref()
                .is_some_and(|s| s.connection.status().connected())
        })
        .await
        .ok()
        .and_then(|s| s.clone())
}

/// Resolves once `tx`'s receiver is gone or the broker is closed.
async fn ended(tx: &mpsc::Sender<Incoming>, closed: &mut watch::Receiver<bool>) {
    tokio::select! {
        () = tx.closed() => {}
        _ = closed.wait_for(|c| *c) => {}
    }
}

/// Consumes `source` on a fresh channel of each session until the receiver goes away.
pub(super) async fn consume(weak: Weak<Inner>, source: Source, tx: mpsc::Sender<Incoming>) {
    let mut pauses = retry::reconnect().build();
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let mut sessions = inner.session.subscribe();
        let mut closed = inner.closed.subscribe();
        let tag = format!(
            "{}-{}",
            inner.instance,
            inner.consumer_seq.fetch_add(1, Ordering::Relaxed)
        );
        let topology = inner.topology.clone();
        let instance = inner.instance.clone();
        drop(inner);
        let session = tokio::select! {
            s = next_session(&mut sessions) => match s {
                Some(s) => s,
                None => return,
            },
            () = ended(&tx, &mut closed) => return,
        };
        let consumer = match bounded(
            "opening a consumer",
            declare::consumer(&session.connection, &topology, &instance, source, &tag),
        )
        .await
        {
            Ok(consumer) => consumer,
            Err(err) => {
                let Some(pause) = pauses.next() else {
                    tracing::error!(error = %err, ?source, "cannot consume; giving up");
                    return;
                };
                tracing::warn!(error = %err, ?source, retry_in = ?pause, "cannot consume; retrying");
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        pauses = retry::reconnect().build();
        let (channel, mut deliveries) = consumer;
        let acks = source.acknowledged().then(|| Acks::start(channel.clone()));
        loop {
            tokio::select! {
                delivery = deliveries.next() => match delivery {
                    Some(Ok(delivery)) => {
                        if tx.send(incoming(delivery, acks.as_ref())).await.is_err() {
                            unsubscribe(&channel, acks.as_deref()).await;
                            return;
                        }
                    }
                    Some(Err(err)) => {
                        tracing::warn!(error = %err, ?source, "consumer failed; re-subscribing");
                        break;
                    }
                    None => break,
                },
                // When the broker closes, its connection goes once this returns.
                () = ended(&tx, &mut closed) => {
                    unsubscribe(&channel, acks.as_deref()).await;
                    return;
                }
            }
        }
        if let Some(pause) = pauses.next() {
            tokio::time::sleep(pause).await;
        }
    }
}
