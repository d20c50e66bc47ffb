//! Acknowledgements of one consumer channel, coalesced: deliveries settled at about the same
//! time (a batch of records committed together) are acknowledged by one `basic.ack` with
//! `multiple`, which RabbitMQ applies to a quorum queue as one settle command rather than one
//! per message.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use lapin::{Channel, options::BasicAckOptions, types::DeliveryTag};
use tokio::sync::mpsc;

/// The delivery tags of one channel: which are still being handled and which are
/// acknowledged but not yet sent. A flushing task sends the acknowledged ones below the
/// lowest tag still being handled as one `multiple` ack, and the others one by one, so no
/// acknowledgement waits for a slow delivery.
pub(super) struct Acks {
    channel: Channel,
    tags: Mutex<Tags>,
    /// Wakes the flushing task; at most one wake is pending.
    flush: mpsc::Sender<()>,
}

#[derive(Default)]
struct Tags {
    /// Delivered, not settled yet.
    open: BTreeSet<DeliveryTag>,
    /// Acknowledged by their handlers, not sent yet.
    acknowledged: Vec<DeliveryTag>,
}

impl Acks {
    /// Starts the flushing task of `channel`; it ends when the returned value is dropped.
    pub(super) fn start(channel: Channel) -> Arc<Acks> {
        let (flush, wakes) = mpsc::channel(1);
        let acks = Arc::new(Acks {
            channel,
            tags: Mutex::default(),
            flush,
        });
        tokio::spawn(flushing(Arc::downgrade(&acks), wakes));
        acks
    }

    /// Notes a delivery, before its handler can settle it.
    pub(super) fn delivered(&self, tag: DeliveryTag) {
        self.lock().open.insert(tag);
    }

    /// Acknowledges `tag` in the next flush.
    pub(super) fn ack(&self, tag: DeliveryTag) {
        let mut tags = self.lock();
        if tags.open.remove(&tag) {
            tags.acknowledged.push(tag);
            // Full: a flush is pending already.
            let _ = self.flush.try_send(());
        }
    }

    /// Notes that `tag` was settled otherwise (requeued or rejected). Called once that
    /// frame is sent, so that no `multiple` ack covering `tag` can overtake it.
    pub(super) fn settled(&self, tag: DeliveryTag) {
        if self.lock().open.remove(&tag) {
            // A flush may have held acknowledgements back behind this one.
            let _ = self.flush.try_send(());
        }
    }

    /// What to send now: the highest acknowledged tag below every open one (for one
    /// `multiple` ack), and the acknowledged tags above an open one.
    fn take(&self) -> (Option<DeliveryTag>, Vec<DeliveryTag>) {
        let mut tags = self.lock();
        let lowest_open = tags.open.first().copied();
        let acknowledged = std::mem::take(&mut tags.acknowledged);
        drop(tags);
        let (below, above): (Vec<DeliveryTag>, Vec<DeliveryTag>) = acknowledged
            .into_iter()
            .partition(|tag| lowest_open.is_none_or(|lowest| *tag < lowest));
        (below.into_iter().max(), above)
    }

    /// Sends the acknowledgements taken now; called by the flushing task, and before the
    /// channel is closed so that none is lost with it.
    pub(super) async fn send(&self) -> Result<(), lapin::Error> {
        let (upto, singles) = self.take();
        let multiple = upto.map(|tag| (tag, true));
        let singles = singles.into_iter().map(|tag| (tag, false));
        for (tag, multiple) in multiple.into_iter().chain(singles) {
            self.channel
                .basic_ack(tag, BasicAckOptions { multiple })
                .await?;
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Tags> {
        self.tags.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Sends what [`Acks::send`] has whenever acknowledgements arrive. A failed send leaves
/// the deliveries unacknowledged: the broker delivers them again once the channel is gone,
/// and recorded executions are not run twice.
async fn flushing(weak: Weak<Acks>, mut wakes: mpsc::Receiver<()>) {
    // Ends when the channel's deliveries are gone (the sender is dropped with them).
    while wakes.recv().await.is_some() {
        // Let the other handlers of the batch that just committed acknowledge too.
        tokio::task::yield_now().await;
        let Some(acks) = weak.upgrade() else { return };
        if let Err(err) = acks.send().await {
            tracing::warn!(error = %err, "acknowledging deliveries failed; they will be delivered again");
            return;
        }
    }
}
