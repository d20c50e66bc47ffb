//! Change events for ingress caches (docs/api.md: a change takes effect within 1 second).

use std::sync::Arc;
use std::time::Duration;

use shared::broker::{Broker, Outgoing, Route};
use shared::messages::{ChangeEvent, ChangeKind};
use uuid::Uuid;

// Beyond this a change is not worth holding the caller; ingress re-reads on reconnect anyway.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);

/// Publishes committed workflow changes to the change fan-out.
#[derive(Clone)]
pub struct Changes {
    broker: Arc<dyn Broker>,
}

impl Changes {
    /// Publishes through `broker`.
    pub fn new(broker: Arc<dyn Broker>) -> Self {
        Changes { broker }
    }

    /// Announces a committed change. A failure is logged, never surfaced: the change is
    /// stored, and ingress refreshes its cache when its broker connection comes back.
    #[tracing::instrument(skip(self))]
    pub async fn announce(&self, workflow_id: Uuid, key: &str, change: ChangeKind) {
        let kind = change.as_str();
        metrics::counter!("hookflow_config_changes_total", "kind" => kind).increment(1);
        let event = ChangeEvent {
            workflow_id,
            key: key.to_owned(),
            change,
        };
        let payload = match serde_json::to_vec(&event) {
            Ok(payload) => payload,
            Err(err) => {
                tracing::error!(%err, "change event not serialisable");
                return;
            }
        };
        let message = Outgoing {
            payload,
            message_id: Some(Uuid::now_v7().to_string()),
            ..Outgoing::default()
        };
        match tokio::time::timeout(PUBLISH_TIMEOUT, self.broker.publish(Route::Change, message))
            .await
        {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(%err, kind, "change event not published"),
            Err(_) => tracing::warn!(kind, "change event publish timed out"),
        }
    }
}
