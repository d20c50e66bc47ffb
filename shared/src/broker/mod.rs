//! The message broker behind a small interface: RabbitMQ in production, an in-process
//! broker for unit tests and a single-process mode.

mod amqp;
mod declare;
mod memory;
mod topology;

use std::collections::BTreeMap;

use async_trait::async_trait;
use futures_util::stream::BoxStream;

use crate::retry::{self, Retryable};

pub use amqp::AmqpBroker;
pub use memory::MemoryBroker;
pub use topology::Topology;

/// Why a broker operation failed. Messages are for logs, never for webhook callers.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// No usable connection right now; retrying later may succeed.
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    /// The broker refused the message (negative confirm).
    #[error("broker refused the message")]
    Nacked,
    /// No queue took the message (returned as unroutable).
    #[error("message was unroutable")]
    Unroutable,
    /// The confirm did not arrive in time; the message may or may not be queued.
    #[error("publisher confirm timed out")]
    ConfirmTimeout,
    /// Any other protocol error.
    #[error("broker error: {0}")]
    Protocol(String),
}

/// Where a published message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The execution queue for sync or async workflows.
    Execution {
        /// Sync executions have their own queue so they never wait behind async ones.
        sync: bool,
    },
    /// A reply queue of one ingress instance (its [`Broker::reply_address`]).
    Reply(String),
    /// The workflow change fan-out.
    Change,
}

/// What a subscription consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Execution messages of sync or async workflows, with the given prefetch.
    Executions {
        /// Which queue.
        sync: bool,
        /// How many unacknowledged messages the consumer holds.
        prefetch: u16,
    },
    /// Messages dead-lettered after their delivery limit.
    DeadLetters,
    /// This instance's sync replies, consumed without acknowledgements
    /// ([`Source::acknowledged`]): settling one does nothing.
    Replies,
    /// Workflow change events.
    Changes,
}

impl Source {
    /// Whether its deliveries are acknowledged; sync replies are not (consumed with
    /// `no_ack`): one frame less per reply, and nothing to redeliver, since a reply whose
    /// caller is gone is dropped anyway.
    pub fn acknowledged(self) -> bool {
        self != Source::Replies
    }
}

/// A message to publish.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outgoing {
    /// Body bytes (JSON).
    pub payload: Vec<u8>,
    /// Application headers (e.g. `traceparent`).
    pub headers: BTreeMap<String, String>,
    /// Message id.
    pub message_id: Option<String>,
    /// Correlation id (the execution id for replies).
    pub correlation_id: Option<String>,
    /// Where the consumer should reply.
    pub reply_to: Option<String>,
}

/// Settles a received message.
#[async_trait]
pub trait Settle: Send + Sync {
    /// Acknowledges: the message is done.
    async fn ack(&self) -> Result<(), BrokerError>;
    /// Gives the message back for another delivery.
    async fn requeue(&self) -> Result<(), BrokerError>;
    /// Rejects it for good: it is dead-lettered.
    async fn reject(&self) -> Result<(), BrokerError>;
}

/// How a message that needs no settling is settled: one of a subscription consumed without
/// acknowledgements (settled when it was delivered; acknowledging it again would close the
/// channel), or one the in-process broker delivered to nobody in particular.
pub(crate) struct Settled;

#[async_trait]
impl Settle for Settled {
    async fn ack(&self) -> Result<(), BrokerError> {
        Ok(())
    }
    async fn requeue(&self) -> Result<(), BrokerError> {
        Ok(())
    }
    async fn reject(&self) -> Result<(), BrokerError> {
        Ok(())
    }
}

/// A received message.
pub struct Incoming {
    /// Body bytes.
    pub payload: Vec<u8>,
    /// Application headers whose values are strings or integers.
    pub headers: BTreeMap<String, String>,
    /// Message id (the execution id of an execution message).
    pub message_id: Option<String>,
    /// Correlation id.
    pub correlation_id: Option<String>,
    /// Reply address.
    pub reply_to: Option<String>,
    /// Whether the broker delivered it before.
    pub redelivered: bool,
    /// How it is settled.
    pub settle: Box<dyn Settle>,
}

impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming")
            .field("bytes", &self.payload.len())
            .field("headers", &self.headers)
            .field("correlation_id", &self.correlation_id)
            .field("redelivered", &self.redelivered)
            .finish()
    }
}

/// The broker as the services use it.
#[async_trait]
pub trait Broker: Send + Sync + 'static {
    /// Publishes durably and waits for the broker's confirm: `Ok` means the message is
    /// stored (persistent, routed to a durable queue). The wait is bounded here
    /// (`Config::publish_timeout_ms`, then `ConfirmTimeout`); callers add no timeout.
    /// A sync reply ([`Route::Reply`]) is neither persistent nor confirmed: `Ok` means it
    /// was handed to the broker's connection.
    async fn publish(&self, route: Route, message: Outgoing) -> Result<(), BrokerError>;

    /// Consumes `source`. The stream survives reconnections; it ends only when the broker
    /// is closed.
    async fn subscribe(&self, source: Source) -> Result<BoxStream<'static, Incoming>, BrokerError>;

    /// The address to put in `reply_to` so that replies reach this instance.
    fn reply_address(&self) -> String;

    /// Whether the broker is usable now.
    fn is_ready(&self) -> bool;

    /// A receiver that changes whenever readiness changes (a reconnect shows as `true`
    /// after `false`).
    fn readiness(&self) -> tokio::sync::watch::Receiver<bool>;

    /// Stops consuming and closes connections.
    async fn close(&self);
}

/// Subscribes to `source`, retrying as [`retry::reconnect`] says for as long as the
/// broker refuses; `None` (logged) only if that policy gives up.
pub async fn subscribe_retrying(
    broker: &dyn Broker,
    source: Source,
) -> Option<BoxStream<'static, Incoming>> {
    let subscribed = (|| broker.subscribe(source))
        .retry(retry::reconnect())
        .notify(|err, pause| {
            tracing::warn!(error = %err, ?source, retry_in = ?pause, "cannot subscribe yet; retrying");
        })
        .await;
    subscribed
        .inspect_err(|err| tracing::error!(error = %err, ?source, "cannot subscribe; giving up"))
        .ok()
}
