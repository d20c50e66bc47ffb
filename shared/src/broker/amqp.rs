//! RabbitMQ behind [`Broker`]: a supervisor keeps one connection alive, declares the
//! topology on every (re)connect, and subscriptions re-consume after each reconnect.

use std::{
    sync::{Arc, Weak, atomic::AtomicU64},
    time::Duration,
};

use async_trait::async_trait;
use futures_util::{StreamExt, stream::BoxStream};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, Event,
    options::{BasicPublishOptions, ConfirmSelectOptions},
    types::{AMQPValue, FieldTable},
};
use tokio::sync::{Notify, mpsc, watch};
use tokio_util::task::TaskTracker;

use super::{Broker, BrokerError, Incoming, Outgoing, Route, Source, Topology, declare};
use crate::config::Config;
use crate::retry::{self, BackoffBuilder};
use crate::tls;

mod acks;
mod deliveries;
mod stream;

/// How long closing waits for the consumers to send their pending acknowledgements and close
/// their channels.
const CONSUMERS_CLOSING: Duration = Duration::from_secs(2);

/// How long one step of reaching RabbitMQ may take: opening a session (TCP, TLS, the AMQP
/// handshake, declaring the topology, opening its channels) or a consumer. A server that
/// accepts a connection and then says nothing (still booting, or gone without a reset)
/// would otherwise hold the reconnecting for good; past this the attempt fails and is
/// made again.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// How long closing a connection or channel may wait for RabbitMQ's answer; a dead one
/// never answers.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// `step` bounded by [`STEP_TIMEOUT`]; past it, an error naming `what`.
async fn bounded<T>(
    what: &str,
    step: impl Future<Output = Result<T, lapin::Error>>,
) -> Result<T, lapin::Error> {
    tokio::time::timeout(STEP_TIMEOUT, step)
        .await
        .unwrap_or_else(|_| {
            Err(lapin::Error::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("{what} took more than {STEP_TIMEOUT:?}"),
            )))
        })
}

/// Awaits `close` (of a connection or a channel) at most [`CLOSE_TIMEOUT`]; whether it
/// succeeded does not matter to anyone waiting on it.
async fn close_quietly(close: impl Future<Output = Result<(), lapin::Error>>) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, close).await;
}

/// Closes `connection`, waiting at most [`CLOSE_TIMEOUT`] for RabbitMQ to answer.
async fn close_connection(connection: &Connection, code: u16, reason: &str) {
    close_quietly(connection.close(code, reason.into())).await;
}

/// A live connection, its confirm-mode publishing channel, and a channel without
/// confirms for sync replies.
#[derive(Clone)]
struct Session {
    connection: Arc<Connection>,
    publisher: Channel,
    /// Replies are not persistent and go to a queue that vanishes with its ingress: a
    /// confirm would say only that RabbitMQ took one into memory, and costs a frame and a
    /// wait per reply.
    replier: Channel,
}

struct Inner {
    url: String,
    tls: Arc<rustls::ClientConfig>,
    topology: Topology,
    delivery_limit: u32,
    publish_timeout: Duration,
    instance: String,
    session: watch::Sender<Option<Session>>,
    ready: watch::Sender<bool>,
    closed: watch::Sender<bool>,
    /// Asks the supervisor to drop the session and reconnect (e.g. a dead channel).
    reset: Notify,
    /// The consuming tasks. Closing lets them send the acknowledgements still pending on their
    /// channels before the connection goes, so that what was handled is not delivered again.
    consumers: TaskTracker,
    consumer_seq: AtomicU64,
}

/// RabbitMQ broker. Cheap to share; connects and reconnects in the background.
pub struct AmqpBroker {
    inner: Arc<Inner>,
}

impl AmqpBroker {
    /// Starts connecting to `config.amqp_url` in the background and keeps reconnecting
    /// with backoff for as long as the broker is alive; `amqps://` connects with TLS,
    /// trusting the system's roots and `HOOKFLOW_TLS_CA_FILE`.
    pub fn start(config: &Config) -> Arc<AmqpBroker> {
        let inner = Arc::new(Inner {
            url: config.amqp_url.clone(),
            tls: Arc::new(tls::verifying_client_config(&config.tls_ca)),
            topology: Topology::new(config.amqp_prefix.clone()),
            delivery_limit: config.delivery_limit,
            publish_timeout: Duration::from_millis(config.publish_timeout_ms.get()),
            instance: uuid::Uuid::now_v7().simple().to_string(),
            session: watch::Sender::new(None),
            ready: watch::Sender::new(false),
            closed: watch::Sender::new(false),
            reset: Notify::new(),
            consumers: TaskTracker::new(),
            consumer_seq: AtomicU64::new(0),
        });
        tokio::spawn(supervise(Arc::downgrade(&inner)));
        Arc::new(AmqpBroker { inner })
    }

    /// Opens one connection to `config.amqp_url` the way the broker does (TLS for
    /// `amqps://`), for tools and tests that talk to RabbitMQ themselves; the error says
    /// what failed (connecting, the TLS handshake, the AMQP handshake).
    pub async fn connect(config: &Config) -> Result<Connection, BrokerError> {
        let tls = Arc::new(tls::verifying_client_config(&config.tls_ca));
        stream::connect(&config.amqp_url, tls, ConnectionProperties::default())
            .await
            .map_err(|e| BrokerError::Unavailable(e.to_string()))
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
    let connection = stream::connect(&inner.url, Arc::clone(&inner.tls), properties).await?;
    let setup = connection.create_channel().await?;
    declare::topology(&setup, &inner.topology, inner.delivery_limit).await?;
    let _ = setup.close(200, "topology declared".into()).await;
    let publisher = connection.create_channel().await?;
    publisher
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let replier = connection.create_channel().await?;
    Ok(Session {
        connection: Arc::new(connection),
        publisher,
        replier,
    })
}

/// Keeps a session alive until the broker is dropped or closed.
async fn supervise(weak: Weak<Inner>) {
    let mut pauses = retry::reconnect().build();
    loop {
        let Some(inner) = weak.upgrade() else { return };
        if *inner.closed.borrow() {
            return;
        }
        let session = match bounded("opening a RabbitMQ session", open_session(&inner)).await {
            Ok(session) => session,
            Err(err) => {
                let Some(pause) = pauses.next() else {
                    tracing::error!(error = %err, "cannot connect to RabbitMQ; giving up");
                    return;
                };
                tracing::warn!(error = %err, retry_in = ?pause, "cannot connect to RabbitMQ");
                // Not holding `inner` while waiting lets a dropped broker end this task.
                drop(inner);
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        pauses = retry::reconnect().build();
        let connection = session.connection.clone();
        inner.session.send_replace(Some(session));
        inner.ready.send_replace(true);
        tracing::info!("connected to RabbitMQ");
        let mut events = connection.events_listener();
        let mut closed = inner.closed.subscribe();
        drop(inner);
        loop {
            let Some(inner) = weak.upgrade() else {
                close_connection(&connection, 200, "broker dropped").await;
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
                    inner.consumers.close();
                    let _ = tokio::time::timeout(CONSUMERS_CLOSING, inner.consumers.wait()).await;
                    inner.ready.send_replace(false);
                    inner.session.send_replace(None);
                    close_connection(&connection, 200, "shutting down").await;
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
        close_connection(&connection, 320, "reconnecting").await;
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
        // Replies go out without a confirm (see `Session::replier`).
        let confirmed = !matches!(route, Route::Reply(_));
        let channel = if confirmed {
            &session.publisher
        } else {
            &session.replier
        };
        let publish = async {
            let confirm = channel
                .basic_publish(
                    exchange.into(),
                    routing_key.into(),
                    options,
                    &message.payload,
                    properties(&message, durable),
                )
                .await?;
            if confirmed {
                confirm.await
            } else {
                Ok(Confirmation::NotRequested)
            }
        };
        match tokio::time::timeout(inner.publish_timeout, publish).await {
            Err(_) => Err(BrokerError::ConfirmTimeout),
            Ok(Err(err)) => {
                if !channel.status().connected() {
                    inner.reset.notify_one();
                }
                Err(BrokerError::Unavailable(err.to_string()))
            }
            Ok(Ok(Confirmation::Ack(None))) => Ok(()),
            Ok(Ok(Confirmation::Ack(Some(_)))) => Err(BrokerError::Unroutable),
            Ok(Ok(Confirmation::Nack(_))) => Err(BrokerError::Nacked),
            Ok(Ok(Confirmation::NotRequested)) if !confirmed => Ok(()),
            Ok(Ok(Confirmation::NotRequested)) => Err(BrokerError::Protocol(
                "channel is not in confirm mode".into(),
            )),
        }
    }

    async fn subscribe(&self, source: Source) -> Result<BoxStream<'static, Incoming>, BrokerError> {
        let buffer = match source {
            Source::Executions { prefetch, .. } => usize::from(prefetch.max(1)),
            _ => usize::from(declare::DEFAULT_PREFETCH),
        };
        let (tx, rx) = mpsc::channel(buffer);
        self.inner
            .consumers
            .spawn(deliveries::consume(Arc::downgrade(&self.inner), source, tx));
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
        let _ = tokio::time::timeout(
            CONSUMERS_CLOSING + Duration::from_secs(2),
            ready.wait_for(|r| !*r),
        )
        .await;
    }
}
