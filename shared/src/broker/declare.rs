//! Declaring the RabbitMQ topology and per-subscription consumers.

use lapin::{
    Channel, Connection, Consumer, ExchangeKind,
    options::{
        BasicConsumeOptions, BasicQosOptions, ExchangeDeclareOptions, QueueBindOptions,
        QueueDeclareOptions,
    },
    types::{AMQPValue, FieldTable},
};

use super::{Source, Topology};

/// Prefetch applied to subscriptions other than executions.
pub(super) const DEFAULT_PREFETCH: u16 = 64;

fn durable_exchange() -> ExchangeDeclareOptions {
    ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    }
}

fn quorum_arguments(topology: &Topology, delivery_limit: u32) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    args.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongLongInt(i64::from(delivery_limit)),
    );
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(topology.dead_letter_exchange().into()),
    );
    args
}

/// Declares the exchanges and durable queues of an installation (idempotent).
pub async fn topology(
    channel: &Channel,
    topology: &Topology,
    delivery_limit: u32,
) -> Result<(), lapin::Error> {
    let durable_queue = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .exchange_declare(
            topology.executions_exchange().into(),
            ExchangeKind::Direct,
            durable_exchange(),
            FieldTable::default(),
        )
        .await?;
    channel
        .exchange_declare(
            topology.dead_letter_exchange().into(),
            ExchangeKind::Fanout,
            durable_exchange(),
            FieldTable::default(),
        )
        .await?;
    channel
        .exchange_declare(
            topology.changes_exchange().into(),
            ExchangeKind::Fanout,
            durable_exchange(),
            FieldTable::default(),
        )
        .await?;
    // A classic queue: quorum queues on RabbitMQ 4 default to a delivery limit of 20 and,
    // with no dead-letter exchange behind the parking lot, would drop what keeps failing.
    let mut dead_args = FieldTable::default();
    dead_args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("classic".into()),
    );
    channel
        .queue_declare(
            topology.dead_letter_queue().into(),
            durable_queue,
            dead_args,
        )
        .await?;
    channel
        .queue_bind(
            topology.dead_letter_queue().into(),
            topology.dead_letter_exchange().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    for sync in [true, false] {
        channel
            .queue_declare(
                topology.execution_queue(sync).into(),
                durable_queue,
                quorum_arguments(topology, delivery_limit),
            )
            .await?;
        channel
            .queue_bind(
                topology.execution_queue(sync).into(),
                topology.executions_exchange().into(),
                Topology::execution_routing_key(sync).into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(())
}

/// Opens a channel consuming `source`; per-instance queues are declared exclusive, so
/// they vanish with the connection.
pub async fn consumer(
    connection: &Connection,
    topology: &Topology,
    instance: &str,
    source: Source,
    tag: &str,
) -> Result<(Channel, Consumer), lapin::Error> {
    let channel = connection.create_channel().await?;
    let exclusive = QueueDeclareOptions {
        exclusive: true,
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    let (queue, prefetch) = match source {
        Source::Executions { sync, prefetch } => (topology.execution_queue(sync), prefetch),
        Source::DeadLetters => (topology.dead_letter_queue(), DEFAULT_PREFETCH),
        Source::Replies => {
            let queue = topology.reply_queue(instance);
            channel
                .queue_declare(queue.clone().into(), exclusive, FieldTable::default())
                .await?;
            (queue, DEFAULT_PREFETCH)
        }
        Source::Changes => {
            let queue = topology.changes_queue(instance);
            channel
                .queue_declare(queue.clone().into(), exclusive, FieldTable::default())
                .await?;
            channel
                .queue_bind(
                    queue.clone().into(),
                    topology.changes_exchange().into(),
                    "".into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            (queue, DEFAULT_PREFETCH)
        }
    };
    channel
        .basic_qos(prefetch, BasicQosOptions::default())
        .await?;
    let options = BasicConsumeOptions {
        no_ack: !source.acknowledged(),
        ..BasicConsumeOptions::default()
    };
    let consumer = channel
        .basic_consume(queue.into(), tag.into(), options, FieldTable::default())
        .await?;
    Ok((channel, consumer))
}
