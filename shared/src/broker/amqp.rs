//! RabbitMQ behind [`Broker`]: a supervisor keeps one connection alive, declares the
//! topology on every (re)connect, and subscriptions re-consume after each reconnect.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use futures_util::{StreamExt, stream::BoxStream};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, Event,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions,
        BasicQosOptions, BasicRejectOptions, ConfirmSelectOptions,
    },
    types::{AMQPValue, FieldTable},
};
use tokio::sync::{Notify, mpsc, watch};

use super::{Broker, BrokerError, Incoming, Outgoing, Route, Settle, Source, Topology, declare};
use crate::config::Config;

/// Longest pause between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A live connection and its confirm-mode publishing channel.
#[derive(Clone)]
struct Session {
    connection: Arc<Connection>,
    publisher: Channel,
}

struct Inner {
    url: String,
    topology: Topology,
    delivery_limit: u32,
    publish_timeout: Duration,
    instance: String,
    session: watch::Sender<Option<Session>>,
    ready: watch::Sender<bool>,
    closed: watch::Sender<bool>,
    /// Asks the supervisor to drop the session and reconnect (e.g. a dead channel).
    reset: Notify,
    consumer_seq: AtomicU64,
}

/// RabbitMQ broker. Cheap to share; connects and reconnects in the background.
pub struct AmqpBroker {
    inner: Arc<Inner>,
}

impl AmqpBroker {
    /// Starts connecting to `config.amqp_url` in the background and keeps reconnecting
    /// with backoff for as long as the broker is alive.
    pub fn start(config: &Config) -> Arc<AmqpBroker> {
        let inner = Arc::new(Inner {
            url: config.amqp_url.clone(),
            topology: Topology::new(config.amqp_prefix.clone()),
            delivery_limit: config.delivery_limit,
            publish_timeout: Duration::from_millis(config.publish_timeout_ms),
            instance: uuid::Uuid::now_v7().simple().to_string(),
            session: watch::Sender::new(None),
            ready: watch::Sender::new(false),
            closed: watch::Sender::new(false),
            reset: Notify::new(),
            consumer_seq: AtomicU64::new(0),
        });
        tokio::spawn(supervise(Arc::downgrade(&inner)));
        Arc::new(AmqpBroker { inner })
    }

    /// Waits until the broker is connected, at most `timeout`; whether it is.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let mut ready = self.inner.ready.subscribe();
        tokio::time::timeout(timeout, ready.wait_for(|r| *r))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The names this broker uses.
    pub fn topology(&self) -> &Topology {
        &self.inner.topology
    }
}

impl Drop for AmqpBroker {
    fn drop(&mut self) {
        self.inner.closed.send_replace(true);
    }
}

async fn open_session(inner: &Inner) -> Result<Session, lapin::Error> {
    let properties = ConnectionProperties::default()
        .with_connection_name(format!("hookflow-{}", inner.instance).into());
    let connection = Connection::connect(&inner.url, properties).await?;
    let setup = connection.create_channel().await?;
    declare::topology(&setup, &inner.topology, inner.delivery_limit).await?;
    let _ = setup.close(200, "topology declared".into()).await;
    let publisher = connection.create_channel().await?;
    publisher
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    Ok(Session {
        connection: Arc::new(connection),
        publisher,
    })
}

/// Keeps a session alive until the broker is dropped or closed.
async fn supervise(weak: Weak<Inner>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(inner) = weak.upgrade() else { return };
        if *inner.closed.borrow() {
            return;
        }
        let session = match open_session(&inner).await {
            Ok(session) => session,
            Err(err) => {
                tracing::warn!(error = %err, retry_in = ?backoff, "cannot connect to RabbitMQ");
                drop(inner);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        let connection = session.connection.clone();
        inner.session.send_replace(Some(session));
        inner.ready.send_replace(true);
        tracing::info!("connected to RabbitMQ");
        let mut events = connection.events_listener();
        let mut closed = inner.closed.subscribe();
        drop(inner);
        loop {
            let Some(inner) = weak.upgrade() else {
                let _ = connection.close(200, "broker dropped".into()).await;
                return;
            };
            tokio::select! {
                event = events.next() => match event {
                    Some(Event::Error(err)) => {
                        tracing::warn!(error = %err, "RabbitMQ connection failed");
                        break;
                    }
                    None => break,
                    Some(_) => {}
                },
                _ = inner.reset.notified() => break,
                _ = closed.changed() => {
                    inner.ready.send_replace(false);
                    inner.session.send_replace(None);
                    let _ = connection.close(200, "shutting down".into()).await;
                    return;
                }
                _ = tokio::time::sleep(Duration::from_secs(1)) => {
                    if !connection.status().connected() {
                        break;
                    }
                }
            }
        }
        if let Some(inner) = weak.upgrade() {
            inner.ready.send_replace(false);
            inner.session.send_replace(None);
        }
        let _ = connection.close(320, "reconnecting".into()).await;
    }
}

fn properties(message: &Outgoing, persistent: bool) -> BasicProperties {
    let mut headers = FieldTable::default();
    for (name, value) in &message.headers {
        headers.insert(
            name.clone().into(),
            AMQPValue::LongString(value.clone().into()),
        );
    }
    let mut props = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(if persistent { 2 } else { 1 })
        .with_headers(headers);
    if let Some(id) = &message.message_id {
        props = props.with_message_id(id.clone().into());
    }
    if let Some(id) = &message.correlation_id {
        props = props.with_correlation_id(id.clone().into());
    }
    if let Some(reply_to) = &message.reply_to {
        props = props.with_reply_to(reply_to.clone().into());
    }
    props
}

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

struct AmqpSettle(lapin::Acker);

fn settle_error(err: lapin::Error) -> BrokerError {
    BrokerError::Unavailable(err.to_string())
}

#[async_trait]
impl Settle for AmqpSettle {
    async fn ack(&self) -> Result<(), BrokerError> {
        self.0
            .ack(BasicAckOptions::default())
            .await
            .map(|_| ())
            .map_err(settle_error)
    }
    async fn requeue(&self) -> Result<(), BrokerError> {
        let options = BasicNackOptions {
            requeue: true,
            ..BasicNackOptions::default()
        };
        self.0.nack(options).await.map(|_| ()).map_err(settle_error)
    }
    async fn reject(&self) -> Result<(), BrokerError> {
        let options = BasicRejectOptions { requeue: false };
        self.0
            .reject(options)
            .await
            .map(|_| ())
            .map_err(settle_error)
    }
}

fn incoming(delivery: lapin::message::Delivery) -> Incoming {
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
        correlation_id: props
            .correlation_id()
            .as_ref()
            .map(|s| s.as_str().to_owned()),
        reply_to: props.reply_to().as_ref().map(|s| s.as_str().to_owned()),
        redelivered: delivery.redelivered,
        payload: delivery.data,
        settle: Box::new(AmqpSettle(delivery.acker)),
    }
}

async fn next_session(sessions: &mut watch::Receiver<Option<Session>>) -> Option<Session> {
    sessions
        .wait_for(Option::is_some)
        .await
        .ok()
        .and_then(|s| s.clone())
}

async fn until_closed(closed: &mut watch::Receiver<bool>) {
    let _ = closed.wait_for(|c| *c).await;
}

/// Consumes `source` on a fresh channel of each session until the receiver goes away.
async fn consume(weak: Weak<Inner>, source: Source, tx: mpsc::Sender<Incoming>) {
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
            _ = until_closed(&mut closed) => return,
            _ = tx.closed() => return,
        };
        let consumer = match declare::consumer(
            &session.connection,
            &topology,
            &instance,
            source,
            &tag,
        )
        .await
        {
            Ok(consumer) => consumer,
            Err(err) => {
                tracing::warn!(error = %err, ?source, "cannot consume; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let (channel, mut deliveries) = consumer;
        loop {
            tokio::select! {
                delivery = deliveries.next() => match delivery {
                    Some(Ok(delivery)) => {
                        if tx.send(incoming(delivery)).await.is_err() {
                            let _ = channel.close(200, "unsubscribed".into()).await;
                            return;
                        }
                    }
                    Some(Err(err)) => {
                        tracing::warn!(error = %err, ?source, "consumer failed; re-subscribing");
                        break;
                    }
                    None => break,
                },
                _ = tx.closed() => {
                    let _ = channel.close(200, "unsubscribed".into()).await;
                    return;
                }
                _ = until_closed(&mut closed) => return,
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[async_trait]
impl Broker for AmqpBroker {
    async fn publish(&self, route: Route, message: Outgoing) -> Result<(), BrokerError> {
        let inner = &self.inner;
        let session = inner
            .session
            .borrow()
            .clone()
            .ok_or_else(|| BrokerError::Unavailable("not connected".into()))?;
        let (exchange, routing_key, durable) = match &route {
            Route::Execution { sync } => (
                inner.topology.executions_exchange(),
                Topology::execution_routing_key(*sync).to_owned(),
                true,
            ),
            Route::Reply(queue) => (String::new(), queue.clone(), false),
            Route::Change => (inner.topology.changes_exchange(), String::new(), false),
        };
        let options = BasicPublishOptions {
            mandatory: durable,
            ..BasicPublishOptions::default()
        };
        let publish = async {
            let confirm = session
                .publisher
                .basic_publish(
                    exchange.into(),
                    routing_key.into(),
                    options,
                    &message.payload,
                    properties(&message, durable),
                )
                .await?;
            confirm.await
        };
        match tokio::time::timeout(inner.publish_timeout, publish).await {
            Err(_) => Err(BrokerError::ConfirmTimeout),
            Ok(Err(err)) => {
                if !session.publisher.status().connected() {
                    inner.reset.notify_one();
                }
                Err(BrokerError::Unavailable(err.to_string()))
            }
            Ok(Ok(Confirmation::Ack(None))) => Ok(()),
            Ok(Ok(Confirmation::Ack(Some(_)))) => Err(BrokerError::Unroutable),
            Ok(Ok(Confirmation::Nack(_))) => Err(BrokerError::Nacked),
            Ok(Ok(Confirmation::NotRequested)) => Err(BrokerError::Protocol(
                "channel is not in confirm mode".into(),
            )),
        }
    }

    async fn subscribe(&self, source: Source) -> Result<BoxStream<'static, Incoming>, BrokerError> {
        let buffer = match source {
            Source::Executions { prefetch, .. } => usize::from(prefetch.max(1)),
            _ => 64,
        };
        let (tx, rx) = mpsc::channel(buffer);
        tokio::spawn(consume(Arc::downgrade(&self.inner), source, tx));
        Ok(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .boxed())
    }

    fn reply_address(&self) -> String {
        self.inner.topology.reply_queue(&self.inner.instance)
    }

    fn is_ready(&self) -> bool {
        *self.inner.ready.borrow()
    }

    fn readiness(&self) -> watch::Receiver<bool> {
        self.inner.ready.subscribe()
    }

    async fn close(&self) {
        self.inner.closed.send_replace(true);
        let mut ready = self.inner.ready.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(2), ready.wait_for(|r| !*r)).await;
    }
}

/// Prefetch applied to subscriptions other than executions.
pub(super) const DEFAULT_PREFETCH: u16 = 64;

/// Applies a channel's prefetch.
pub(super) async fn qos(channel: &Channel, prefetch: u16) -> Result<(), lapin::Error> {
    channel
        .basic_qos(prefetch, BasicQosOptions::default())
        .await
}

/// Consumer options for exclusive per-instance queues.
pub(super) fn consume_options() -> BasicConsumeOptions {
    BasicConsumeOptions::default()
}
