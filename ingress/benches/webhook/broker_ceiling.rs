//! The broker's ceiling for async executions: what RabbitMQ takes in and hands out when
//! nothing but a bare consumer stands behind the queue.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use lapin::{
    options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions},
    types::FieldTable,
};
use shared::{
    broker::{AmqpBroker, Broker},
    config::Config,
};
use tokio::{sync::Notify, task::JoinHandle};

use crate::{
    load::{Round, drive},
    raw_amqp::{connect, publisher},
};

/// The broker's ceiling: persistent publishes with confirms to the async execution queue (a
/// durable quorum queue) of a prefix of its own, through the same broker code as ingress,
/// consumed and acked by a bare lapin consumer as they arrive.
pub struct BrokerCeiling {
    broker: Arc<AmqpBroker>,
    consumer: Consumed,
    /// The consumer's prefetch (the executor's).
    pub prefetch: u16,
}

impl BrokerCeiling {
    /// Connects on `config`'s prefix, declaring its topology, and starts consuming.
    pub async fn start(config: &Config) -> BrokerCeiling {
        let broker = connect(config).await;
        let consumer = Consumed::start(config, &broker).await;
        BrokerCeiling {
            broker,
            consumer,
            prefetch: config.executor_prefetch.get(),
        }
    }

    /// `count` confirmed publishes of `payload` from `concurrency` clients: the round, and
    /// the acked per second from its first publish to the last ack (of those acked within
    /// `limit`).
    pub async fn round(
        &self,
        payload: Vec<u8>,
        count: usize,
        concurrency: usize,
        limit: Duration,
    ) -> (Round, f64) {
        let before = self.consumer.acked();
        let started = Instant::now();
        let round = drive(
            count,
            concurrency,
            publisher(Arc::clone(&self.broker), payload),
        )
        .await;
        let (done_at, acked) = match self.consumer.by(before + round.ok, limit).await {
            Ok(done_at) => (done_at, round.ok),
            Err(acked) => {
                let acked = acked - before;
                eprintln!(
                    "only {acked} of {} publishes consumed in {limit:?}",
                    round.ok
                );
                (Instant::now(), acked)
            }
        };
        let rate = acked as f64 / (done_at - started).as_secs_f64();
        (round, rate)
    }

    /// Stops consuming and closes the connections.
    pub async fn close(self) {
        self.consumer.close().await;
        self.broker.close().await;
    }
}

/// A bare lapin consumer of the async execution queue that acks every delivery as it
/// arrives, with the executor's prefetch: where the broker's end of an execution ends.
pub struct Consumed {
    connection: lapin::Connection,
    acked: Arc<AtomicUsize>,
    changed: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Consumed {
    /// Consumes the async execution queue of `broker`'s prefix (declared by `broker`).
    pub async fn start(config: &Config, broker: &AmqpBroker) -> Consumed {
        let connection = AmqpBroker::connect(config)
            .await
            .expect("connect to RabbitMQ");
        let channel = connection.create_channel().await.expect("a channel");
        channel
            .basic_qos(config.executor_prefetch.get(), BasicQosOptions::default())
            .await
            .expect("prefetch");
        let mut deliveries = channel
            .basic_consume(
                broker.topology().execution_queue(false).into(),
                "bench-bare-consumer".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("consume the async execution queue");
        let acked = Arc::new(AtomicUsize::new(0));
        let changed = Arc::new(Notify::new());
        let task = tokio::spawn({
            let (acked, changed) = (Arc::clone(&acked), Arc::clone(&changed));
            async move {
                while let Some(Ok(delivery)) = deliveries.next().await {
                    if delivery.ack(BasicAckOptions::default()).await.is_ok() {
                        acked.fetch_add(1, Ordering::Relaxed);
                        changed.notify_waiters();
                    }
                }
            }
        });
        Consumed {
            connection,
            acked,
            changed,
            task,
        }
    }

    /// Deliveries acked so far.
    pub fn acked(&self) -> usize {
        self.acked.load(Ordering::Relaxed)
    }

    /// Waits (at most `limit`) until `count` deliveries are acked in all: when they were,
    /// or how many were when time ran out.
    pub async fn by(&self, count: usize, limit: Duration) -> Result<Instant, usize> {
        let deadline = Instant::now() + limit;
        loop {
            // Created before the count is read, so that no ack in between is missed.
            let changed = self.changed.notified();
            if self.acked() >= count {
                return Ok(Instant::now());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, changed).await.is_err() {
                let acked = self.acked();
                return if acked >= count {
                    Ok(Instant::now())
                } else {
                    Err(acked)
                };
            }
        }
    }

    /// Stops consuming and closes the connection.
    pub async fn close(self) {
        self.task.abort();
        let _ = self.connection.close(200, "benchmark done".into()).await;
    }
}
