//! Names of the exchanges and queues of one installation (one `HOOKFLOW_AMQP_PREFIX`).

/// Every exchange and queue name, derived from the prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// The installation prefix.
    pub prefix: String,
}

impl Topology {
    /// Names for `prefix`.
    pub fn new(prefix: impl Into<String>) -> Self {
        Topology {
            prefix: prefix.into(),
        }
    }

    /// Direct exchange executions are published to.
    pub fn executions_exchange(&self) -> String {
        format!("{}.executions", self.prefix)
    }

    /// Routing key of sync or async executions.
    pub fn execution_routing_key(sync: bool) -> &'static str {
        if sync { "sync" } else { "async" }
    }

    /// Quorum queue of sync or async executions.
    pub fn execution_queue(&self, sync: bool) -> String {
        format!(
            "{}.executions.{}",
            self.prefix,
            Self::execution_routing_key(sync)
        )
    }

    /// Fan-out exchange receiving dead-lettered executions.
    pub fn dead_letter_exchange(&self) -> String {
        format!("{}.dlx", self.prefix)
    }

    /// Queue holding dead-lettered executions.
    pub fn dead_letter_queue(&self) -> String {
        format!("{}.executions.dead", self.prefix)
    }

    /// Fan-out exchange of workflow change events.
    pub fn changes_exchange(&self) -> String {
        format!("{}.changes", self.prefix)
    }

    /// Reply queue of one ingress instance.
    pub fn reply_queue(&self, instance: &str) -> String {
        format!("{}.replies.{}", self.prefix, instance)
    }

    /// Change-event queue of one ingress instance.
    pub fn changes_queue(&self, instance: &str) -> String {
        format!("{}.changes.{}", self.prefix, instance)
    }

    /// Durable queues and exchanges an installation owns (for clean-up in tests).
    pub fn durable_queues(&self) -> Vec<String> {
        vec![
            self.execution_queue(true),
            self.execution_queue(false),
            self.dead_letter_queue(),
        ]
    }

    /// Exchanges an installation owns.
    pub fn exchanges(&self) -> Vec<String> {
        vec![
            self.executions_exchange(),
            self.dead_letter_exchange(),
            self.changes_exchange(),
        ]
    }
}
