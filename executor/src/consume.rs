//! The consumers: one per queue, each delivery handled in its own task.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use shared::broker::{self, Incoming, Source};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::{spans, worker::Worker};

/// What a stopped consumer still holds: its subscription, kept open so that in-flight
/// deliveries can still be acknowledged on their channel, and their tasks.
pub(crate) struct Held {
    pub(crate) subscription: Option<BoxStream<'static, Incoming>>,
    pub(crate) tasks: JoinSet<()>,
}

/// Consumes `source` until `stop` turns `true` (or the broker closes).
pub(crate) async fn consume(
    worker: Arc<Worker>,
    source: Source,
    mut stop: watch::Receiver<bool>,
) -> Held {
    let mut tasks = JoinSet::new();
    let mut subscription = tokio::select! {
        _ = stopped(&mut stop) => return Held { subscription: None, tasks },
        subscribed = broker::subscribe_retrying(&*worker.broker, source) => match subscribed {
            Some(subscription) => subscription,
            None => return Held { subscription: None, tasks },
        },
    };
    tracing::info!(?source, "consuming");
    loop {
        tokio::select! {
            biased;
            _ = stopped(&mut stop) => break,
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => report(joined),
            delivery = subscription.next() => match delivery {
                Some(incoming) => {
                    let worker = Arc::clone(&worker);
                    tasks.spawn(async move {
                        match source {
                            Source::DeadLetters => {
                                let span = spans::dead_letter(&worker.topology, &incoming);
                                worker.handle_dead_letter(incoming).instrument(span).await
                            }
                            _ => worker.handle_execution(incoming).await,
                        }
                    });
                }
                None => break,
            },
        }
    }
    Held {
        subscription: Some(subscription),
        tasks,
    }
}

/// Waits for the held deliveries until `deadline`; the ones still running then are
/// abandoned (unacknowledged, so the broker delivers them again).
pub(crate) async fn drain(held: Vec<Held>, deadline: tokio::time::Instant) {
    let mut subscriptions = Vec::new();
    let mut all = JoinSet::new();
    for Held {
        subscription,
        mut tasks,
    } in held
    {
        subscriptions.push(subscription);
        all.spawn(async move {
            while let Some(joined) = tasks.join_next().await {
                report(joined);
            }
        });
    }
    let finished =
        tokio::time::timeout_at(deadline, async { while all.join_next().await.is_some() {} }).await;
    if finished.is_err() {
        tracing::warn!("grace period over; abandoning unfinished executions to redelivery");
        all.shutdown().await;
    }
    drop(subscriptions);
}

/// Resolves once `stop` turns `true` (or its sender is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

fn report(joined: Result<(), tokio::task::JoinError>) {
    if let Err(err) = joined
        && err.is_panic()
    {
        tracing::error!(error = %err, "a delivery handler panicked");
    }
}
