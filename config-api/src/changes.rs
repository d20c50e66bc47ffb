//! Change events for ingress caches (docs/api.md: a change takes effect within 1 second).
//!
//! An event that cannot be published at once is published again in the background, a few
//! times with growing pauses; one that is lost all the same is made up for by ingress,
//! which re-validates what it caches (`HOOKFLOW_TRIGGER_CACHE_MAX_AGE_MS`).

use std::sync::Arc;
use std::time::Duration;

use shared::broker::{Broker, BrokerError, Outgoing, Route};
use shared::messages::{ChangeEvent, ChangeKind};
use shared::retry::Retryable;
use uuid::Uuid;

// Beyond this a change is not worth holding the caller; the retries go on without it.
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
    /// stored. The event is published again in the background (see the module docs).
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
        if let Err(err) = publish(&*self.broker, message.clone()).await {
            tracing::warn!(%err, kind, "change event not published; trying again in the background");
            let broker = Arc::clone(&self.broker);
            tokio::spawn(async move { publish_again(broker, message, kind).await });
        }
    }
}

async fn publish(broker: &dyn Broker, message: Outgoing) -> Result<(), BrokerError> {
    match tokio::time::timeout(PUBLISH_TIMEOUT, broker.publish(Route::Change, message)).await {
        Ok(published) => published,
        Err(_) => Err(BrokerError::ConfirmTimeout),
    }
}

async fn publish_again(broker: Arc<dyn Broker>, message: Outgoing, kind: &'static str) {
    let published = (|| publish(&*broker, message.clone()))
        .retry(shared::retry::change_event())
        .notify(
            |err, pause| tracing::debug!(%err, ?pause, kind, "change event still not published"),
        )
        .await;
    match published {
        Ok(()) => tracing::info!(kind, "change event published after a retry"),
        Err(err) => {
            metrics::counter!("hookflow_config_change_events_lost_total").increment(1);
            tracing::warn!(
                %err,
                kind,
                "change event lost; ingress picks the change up when it re-validates its cache"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use shared::broker::MemoryBroker;

    use super::*;

    fn changes_published(broker: &MemoryBroker) -> Vec<ChangeEvent> {
        broker
            .published()
            .into_iter()
            .filter(|(route, _)| *route == Route::Change)
            .map(|(_, message)| serde_json::from_slice(&message.payload).expect("event"))
            .collect()
    }

    #[tokio::test]
    async fn an_event_the_broker_refused_is_published_once_it_is_back() {
        let broker = MemoryBroker::new();
        broker.set_ready(false);
        let changes = Changes::new(broker.clone());
        let id = Uuid::now_v7();
        changes.announce(id, "k1", ChangeKind::Disabled).await;
        assert!(changes_published(&broker).is_empty());

        tokio::time::sleep(Duration::from_millis(300)).await;
        broker.set_ready(true);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let published = changes_published(&broker);
            if let [event] = published.as_slice() {
                assert_eq!(event.workflow_id, id);
                assert_eq!(event.key, "k1");
                break;
            }
            assert!(published.is_empty(), "published twice: {published:?}");
            assert!(
                tokio::time::Instant::now() < deadline,
                "the change event was not published again"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
