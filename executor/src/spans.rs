//! The executor's spans, named and attributed after the OpenTelemetry messaging semantic
//! conventions for RabbitMQ. Each is returned unentered, its parent already taken from the
//! message's `traceparent`, so that it joins the trace of the webhook call.

use shared::broker::{Incoming, Topology};
use shared::messages::ExecutionMessage;
use tracing::{Span, field::Empty};

/// The `process` span of one execution delivery: a child of the ingress's `send` span.
pub(crate) fn process(
    topology: &Topology,
    message: &ExecutionMessage,
    incoming: &Incoming,
) -> Span {
    let span = tracing::info_span!(
        "process",
        otel.kind = "consumer",
        otel.status_code = Empty,
        messaging.system = "rabbitmq",
        messaging.operation.type = "process",
        messaging.operation.name = "process",
        messaging.destination.name = topology.executions_exchange(),
        messaging.destination.subscription.name = topology.execution_queue(message.sync),
        messaging.rabbitmq.destination.routing_key = Topology::execution_routing_key(message.sync),
        messaging.message.id = %message.execution_id,
        messaging.message.body.size = incoming.payload.len(),
        execution_id = %message.execution_id,
        workflow_id = %message.workflow_id,
        version = message.version,
        sync = message.sync,
        redelivered = incoming.redelivered,
    );
    shared::telemetry::continue_from(&span, &incoming.headers);
    span
}

/// The `process` span of a dead-lettered message; it continues the trace of the execution
/// it carries (RabbitMQ keeps the headers when dead-lettering).
pub(crate) fn dead_letter(topology: &Topology, incoming: &Incoming) -> Span {
    let span = tracing::info_span!(
        "process",
        otel.kind = "consumer",
        messaging.system = "rabbitmq",
        messaging.operation.type = "process",
        messaging.operation.name = "process",
        messaging.destination.name = topology.dead_letter_exchange(),
        messaging.destination.subscription.name = topology.dead_letter_queue(),
        messaging.message.body.size = incoming.payload.len(),
    );
    shared::telemetry::continue_from(&span, &incoming.headers);
    span
}

/// The `send` span of a sync reply, published through the default exchange straight to the
/// waiting ingress's reply queue.
pub(crate) fn reply(reply_to: &str, correlation_id: &str) -> Span {
    tracing::info_span!(
        "send",
        otel.kind = "producer",
        otel.status_code = Empty,
        messaging.system = "rabbitmq",
        messaging.operation.type = "send",
        messaging.operation.name = "send",
        messaging.destination.name = "amq.default",
        messaging.rabbitmq.destination.routing_key = reply_to,
        messaging.message.conversation_id = correlation_id,
    )
}

/// Marks `span` as failed (the execution will be redelivered, or the reply was lost).
pub(crate) fn failed(span: &Span) {
    span.record("otel.status_code", "error");
}
