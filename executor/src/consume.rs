//! The consumers: one per queue, each delivery handled in its own task.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use shared::broker::{self, Incoming, Source};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::Instrument;

use crate::{spans, worker::Worker};

/// The delivery tasks of every consumer.
pub(crate) struct Deliveries {
    /// The running handlers, awaited when the service drains.
    pub(crate) tracker: TaskTracker,
    /// Cancelled when the grace period is over: the handlers still running are dropped,
    /// their deliveries left unacknowledged (so the broker delivers them again).
    pub(crate) abandon: CancellationToken,
}

impl Deliveries {
    /// Runs `handler` in a task of its own until it ends or is abandoned.
    fn spawn(&self, handler: impl Future<Output = ()> + Send + 'static) {
        let abandon = self.abandon.clone();
        self.tracker.spawn(async move {
            let handled = abandon.run_until_cancelled(AssertUnwindSafe(handler).catch_unwind());
            if let Some(Err(panic)) = handled.await {
                let message = (panic.downcast_ref::<&str>().copied())
                    .or_else(|| panic.downcast_ref::<String>().map(String::as_str));
                tracing::error!(
                    error = message.unwrap_or_default(),
                    "a delivery handler panicked"
                );
            }
        });
    }
}

/// The bytes one consumer's deliveries may hold at once (`executor_max_inflight_bytes`),
/// each counted at what its message builds to: the prefetch bounds how many executions an
/// executor holds, this how large they may be together.
pub(crate) struct InFlightBytes {
    permits: Arc<Semaphore>,
    total: u32,
}

/// A message's text against what it builds to: the parsed context, and the engine's scope
/// and outputs around it.
const BUILT_PER_BYTE: u32 = 4;

impl InFlightBytes {
    pub(crate) fn new(total: u32) -> InFlightBytes {
        InFlightBytes {
            permits: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// What a delivery of `bytes` costs; never more than the whole budget, so that any one
    /// message can run.
    fn cost(&self, bytes: usize) -> u32 {
        u32::try_from(bytes)
            .unwrap_or(u32::MAX)
            .saturating_mul(BUILT_PER_BYTE)
            .clamp(1, self.total)
    }

    /// Waits until a delivery of `bytes` fits; it holds its share while the permit lives.
    async fn admit(&self, bytes: usize) -> OwnedSemaphorePermit {
        Arc::clone(&self.permits)
            .acquire_many_owned(self.cost(bytes))
            .await
            .expect("the semaphore is never closed")
    }
}

/// Consumes `source` until `stop` is cancelled (or the broker closes). Returns the
/// subscription, to be kept open while its deliveries are handled: they are acknowledged
/// on its channel. A delivery that does not fit in `budget` waits, and the consumer takes no
/// other meanwhile (RabbitMQ holds the rest).
pub(crate) async fn consume(
    worker: Arc<Worker>,
    source: Source,
    deliveries: Arc<Deliveries>,
    budget: InFlightBytes,
    stop: CancellationToken,
) -> Option<BoxStream<'static, Incoming>> {
    let mut subscription = tokio::select! {
        () = stop.cancelled() => return None,
        subscribed = broker::subscribe_retrying(&*worker.broker, source) => subscribed?,
    };
    tracing::info!(?source, "consuming");
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            delivery = subscription.next() => match delivery {
                Some(incoming) => {
                    // Stopping meanwhile leaves the delivery unacknowledged: the broker
                    // delivers it again.
                    let Some(share) = stop.run_until_cancelled(budget.admit(incoming.payload.len())).await else {
                        break;
                    };
                    let worker = Arc::clone(&worker);
                    let handle = async move {
                        let _share = share;
                        match source {
                            Source::DeadLetters => {
                                let span = spans::dead_letter(&worker.topology, &incoming);
                                worker.handle_dead_letter(incoming).instrument(span).await
                            }
                            _ => worker.handle_execution(incoming).await,
                        }
                    };
                    deliveries.spawn(handle);
                }
                None => break,
            },
        }
    }
    Some(subscription)
}

/// Waits for the handlers of the held deliveries until `deadline`; the ones still running
/// then are abandoned to redelivery.
pub(crate) async fn drain(deliveries: &Deliveries, deadline: tokio::time::Instant) {
    deliveries.tracker.close();
    let finished = tokio::time::timeout_at(deadline, deliveries.tracker.wait()).await;
    if finished.is_err() {
        tracing::warn!("grace period over; abandoning unfinished executions to redelivery");
        deliveries.abandon.cancel();
        deliveries.tracker.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_delivery_waits_until_its_built_size_fits() {
        let budget = InFlightBytes::new(1000);
        assert_eq!(budget.cost(100), 400);
        assert_eq!(budget.cost(0), 1);
        // Larger than the whole budget: it runs, alone.
        assert_eq!(budget.cost(10_000_000_000), 1000);

        let first = budget.admit(200).await;
        let second = budget.admit(50).await;
        let waiting = tokio::time::timeout(Duration::from_millis(50), budget.admit(1)).await;
        assert!(waiting.is_err(), "the budget is full");
        drop(second);
        let third = tokio::time::timeout(Duration::from_secs(1), budget.admit(50))
            .await
            .expect("room again");
        drop((first, third));
        assert_eq!(budget.permits.available_permits(), 1000);
    }
}
