//! Queues executions that config-api starts itself (replays), the way ingress queues
//! webhook calls: durable, confirmed, with the identity headers the dead-letter path reads.

use std::collections::BTreeMap;
use std::sync::Arc;

use shared::broker::{Broker, BrokerError, Outgoing, Route};
use shared::messages::{Envelope, ExecutionMessage};

/// Publishes execution messages to the async execution queue.
#[derive(Clone)]
pub struct ExecutionQueue {
    broker: Arc<dyn Broker>,
}

impl ExecutionQueue {
    /// Publishes through `broker`.
    pub fn new(broker: Arc<dyn Broker>) -> Self {
        ExecutionQueue { broker }
    }

    /// Queues `message`; `Ok` only once the broker confirmed it. Nobody waits for the
    /// answer, so it goes to the async queue without a reply address whatever the
    /// workflow's mode.
    #[tracing::instrument(skip_all, fields(execution_id = %message.execution_id))]
    pub async fn publish(&self, message: &ExecutionMessage) -> Result<(), BrokerError> {
        let payload =
            serde_json::to_vec(message).map_err(|err| BrokerError::Protocol(err.to_string()))?;
        let mut headers = BTreeMap::new();
        shared::telemetry::inject_current(&mut headers);
        Envelope::of(message).write(&mut headers);
        let outgoing = Outgoing {
            payload,
            headers,
            message_id: Some(message.execution_id.to_string()),
            ..Outgoing::default()
        };
        self.broker
            .publish(Route::Execution { sync: false }, outgoing)
            .await
    }
}
