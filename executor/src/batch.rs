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

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    /// Starts the lanes; they end when the batcher is dropped. `flush` answers a batch
    /// with one result per item, in order.
    pub(crate) fn start<F, Fut>(lanes: usize, most: usize, flush: F) -> Batcher<T, R>
    where
        F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<R>> + Send,
    {
        let (items, waiting) = mpsc::channel(most.max(1) * lanes.max(1));
        let waiting = Arc::new(Mutex::new(waiting));
        let flush = Arc::new(flush);
        for _ in 0..lanes.max(1) {
            let (waiting, flush) = (Arc::clone(&waiting), Arc::clone(&flush));
            tokio::spawn(async move {
                while let Some(batch) = next_batch(&waiting, most).await {
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

/// Waits for an item, then takes what else has arrived, up to `most` in all.
async fn next_batch<T>(waiting: &Mutex<mpsc::Receiver<T>>, most: usize) -> Option<Vec<T>> {
    let mut waiting = waiting.lock().await;
    let first = waiting.recv().await?;
    let mut batch = Vec::with_capacity(most.min(64));
    batch.push(first);
    while batch.len() < most {
        match waiting.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
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
        let batcher = Arc::new(Batcher::start(1, 100, move |items: Vec<u32>| {
            seen.lock().expect("lock").push(items.len());
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                items.into_iter().map(|n| n * 2).collect::<Vec<_>>()
            }
        }));
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
        let batcher = Batcher::start(2, 10, move |_: Vec<u32>| {
            count.fetch_add(1, Ordering::SeqCst);
            async { Vec::<u32>::new() }
        });
        assert_eq!(batcher.call(7).await, None);
        assert_eq!(flushed.load(Ordering::SeqCst), 1);
    }
}
