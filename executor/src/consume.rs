//! The consumers: one per queue, each delivery handled in its own task.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use shared::broker::{self, Incoming, Source};
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

/// Consumes `source` until `stop` is cancelled (or the broker closes). Returns the
/// subscription, to be kept open while its deliveries are handled: they are acknowledged
/// on its channel.
pub(crate) async fn consume(
    worker: Arc<Worker>,
    source: Source,
    deliveries: Arc<Deliveries>,
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
                    let worker = Arc::clone(&worker);
                    let handle = async move {
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
