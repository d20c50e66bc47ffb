//! Group commit: store calls made at about the same time by different deliveries are served
//! by one call, so that a load of executions costs a round trip per batch rather than per
//! execution.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

/// Hands items to `lanes` loops; each takes what has arrived (up to `most`), serves it with
/// one call of its flush function, and answers each item. A lone item is served at once:
/// items wait only while every lane is busy, and what arrives meanwhile makes the next
/// batch.
pub(crate) struct Batcher<T, R> {
    items: mpsc::Sender<(T, oneshot::Sender<R>)>,
}

/// How much one batch may take: at most `items` of them, and, when the first alone does not
/// already, at most `weight` of what `weigh` counts.
pub(crate) struct Bound<T> {
    pub(crate) items: usize,
    pub(crate) weight: usize,
    pub(crate) weigh: fn(&T) -> usize,
}

// Not derived: that would ask `T: Copy`, and a bound holds no `T`.
impl<T> Clone for Bound<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Bound<T> {}

impl<T> Bound<T> {
    /// At most `items`, whatever their weight.
    pub(crate) fn items(items: usize) -> Bound<T> {
        Bound {
            items,
            weight: usize::MAX,
            weigh: |_| 0,
        }
    }
}

/// The items not taken yet: the queue, and one taken from it that did not fit in the batch
/// before, which starts the next.
struct Waiting<T> {
    queue: mpsc::Receiver<T>,
    held: Option<T>,
}

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    /// Starts the lanes; they end when the batcher is dropped. `flush` answers a batch
    /// with one result per item, in order.
    pub(crate) fn start<F, Fut>(lanes: usize, bound: Bound<T>, flush: F) -> Batcher<T, R>
    where
        F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<R>> + Send,
    {
        let (items, queue) = mpsc::channel(bound.items.max(1) * lanes.max(1));
        let waiting = Arc::new(Mutex::new(Waiting { queue, held: None }));
        let flush = Arc::new(flush);
        for _ in 0..lanes.max(1) {
            let (waiting, flush) = (Arc::clone(&waiting), Arc::clone(&flush));
            tokio::spawn(async move {
                while let Some(batch) = next_batch(&waiting, bound).await {
                    let (values, answers): (Vec<T>, Vec<oneshot::Sender<R>>) =
                        batch.into_iter().unzip();
                    let results = flush(values).await;
                    // An item left without a result, or whose caller gave up, is dropped:
                    // its caller sees `None`.
                    for (answer, result) in answers.into_iter().zip(results) {
                        let _ = answer.send(result);
                    }
                }
            });
        }
        Batcher { items }
    }

    /// Serves `item` in the next batch; `None` if the batcher stopped or left it out.
    pub(crate) async fn call(&self, item: T) -> Option<R> {
        let (answer, answered) = oneshot::channel();
        self.items.send((item, answer)).await.ok()?;
        answered.await.ok()
    }
}

/// Waits for an item, then takes what else has arrived, within `bound`.
async fn next_batch<T, A>(
    waiting: &Mutex<Waiting<(T, A)>>,
    bound: Bound<T>,
) -> Option<Vec<(T, A)>> {
    let mut waiting = waiting.lock().await;
    let first = match waiting.held.take() {
        Some(item) => item,
        None => waiting.queue.recv().await?,
    };
    let mut weight = (bound.weigh)(&first.0);
    let mut batch = Vec::with_capacity(bound.items.min(64));
    batch.push(first);
    while batch.len() < bound.items {
        let Ok(item) = waiting.queue.try_recv() else {
            break;
        };
        weight = weight.saturating_add((bound.weigh)(&item.0));
        if weight > bound.weight {
            waiting.held = Some(item);
            break;
        }
        batch.push(item);
    }
    Some(batch)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn calls_made_while_a_batch_is_served_make_the_next_batch() {
        let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&batches);
        let batcher = Arc::new(Batcher::start(
            1,
            Bound::items(100),
            move |items: Vec<u32>| {
                seen.lock().expect("lock").push(items.len());
                async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    items.into_iter().map(|n| n * 2).collect::<Vec<_>>()
                }
            },
        ));
        let first = tokio::spawn({
            let batcher = Arc::clone(&batcher);
            async move { batcher.call(1).await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        let rest: Vec<_> = (2..=5)
            .map(|n| {
                let batcher = Arc::clone(&batcher);
                tokio::spawn(async move { batcher.call(n).await })
            })
            .collect();
        assert_eq!(first.await.expect("task"), Some(2));
        for (n, call) in (2..=5).zip(rest) {
            assert_eq!(call.await.expect("task"), Some(n * 2));
        }
        assert_eq!(*batches.lock().expect("lock"), vec![1, 4]);
    }

    #[tokio::test]
    async fn an_item_left_without_a_result_gets_none() {
        let flushed = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&flushed);
        let batcher = Batcher::start(2, Bound::items(10), move |_: Vec<u32>| {
            count.fetch_add(1, Ordering::SeqCst);
            async { Vec::<u32>::new() }
        });
        assert_eq!(batcher.call(7).await, None);
        assert_eq!(flushed.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_batch_stops_at_its_weight_and_what_did_not_fit_starts_the_next() {
        let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&batches);
        let bound = Bound {
            items: 100,
            weight: 10,
            weigh: |n: &u32| *n as usize,
        };
        // The one lane is kept busy by the first call until the others are all queued.
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let released = Arc::new(tokio::sync::Mutex::new(Some(released)));
        let batcher = Arc::new(Batcher::start(1, bound, move |items: Vec<u32>| {
            seen.lock().expect("lock").push(items.clone());
            let released = Arc::clone(&released);
            async move {
                if let Some(released) = released.lock().await.take() {
                    let _ = released.await;
                }
                items
            }
        }));
        let first = tokio::spawn({
            let batcher = Arc::clone(&batcher);
            async move { batcher.call(1).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut rest = Vec::new();
        // 4 + 5 fit in 10; 6 does not and starts the next batch, with 3; 12 is heavier than
        // a batch may be and goes alone.
        for n in [4, 5, 6, 3, 12, 1] {
            let batcher = Arc::clone(&batcher);
            rest.push(tokio::spawn(async move { batcher.call(n).await }));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = release.send(());
        assert_eq!(first.await.expect("task"), Some(1));
        for (n, call) in [4, 5, 6, 3, 12, 1].into_iter().zip(rest) {
            assert_eq!(call.await.expect("task"), Some(n), "every item is answered");
        }
        assert_eq!(
            *batches.lock().expect("lock"),
            vec![vec![1], vec![4, 5], vec![6, 3], vec![12], vec![1]]
        );
    }
}
