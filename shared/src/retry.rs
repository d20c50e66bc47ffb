//! The backoff policies of every retry loop in the services, built on `backon`. A loop
//! either hands its operation to [`backon::Retryable`] with one of these policies, or,
//! where it must drop or check something between attempts, takes its pauses from the
//! policy's iterator (`policy.build()`); a policy that ends means "give up".
//!
//! None of them adds jitter, like the hand-written loops they replaced.

use std::time::Duration;

pub use backon::{BackoffBuilder, ExponentialBuilder, Retryable};

/// Reaching a service that is down or still starting (RabbitMQ, PostgreSQL at start-up,
/// a broker subscription): 100 ms, doubling, at most 2 s between attempts, without end, so
/// that a service is back within about 2 s of its dependency.
pub fn reconnect() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(2))
        .without_max_times()
}

/// Waiting out a database outage while holding a delivery: 100 ms, doubling, at most 2 s
/// between attempts, without end (the caller stops waiting when it drains).
pub fn store_outage() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(2))
        .without_max_times()
}

/// Polling for work another process is finishing: 20 ms, doubling, at most 200 ms between
/// looks, without end (the caller bounds it with its own deadline).
pub fn poll() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(20))
        .with_max_delay(Duration::from_millis(200))
        .without_max_times()
}

/// Publishing a change event again: 200 ms, doubling, at most 5 s between attempts, six
/// times (about 11 s in all); past them ingress's cache max age makes up for the lost event.
pub fn change_event() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(6)
}

/// Longest pause before a failed delivery is given back.
const MAX_REDELIVERY_PAUSE: Duration = Duration::from_secs(30);

/// How long to hold a failed delivery before giving it back, after `deliveries` earlier
/// deliveries: 500 ms, doubling with each, at most 30 s.
pub fn redelivery_pause(deliveries: u32) -> Duration {
    // Past 2^6 the cap holds anyway; bounding the count bounds the walk.
    let steps = deliveries.min(7) as usize;
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(MAX_REDELIVERY_PAUSE)
        .without_max_times()
        .build()
        .nth(steps)
        .unwrap_or(MAX_REDELIVERY_PAUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pause` rounded to the millisecond: backon multiplies in `f32`, so a doubled 100 ms
    /// is 200 ms give or take a few nanoseconds.
    fn millis(pause: Duration) -> u128 {
        (pause.as_secs_f64() * 1000.0).round() as u128
    }

    /// The first `n` pauses of `policy`, in milliseconds.
    fn pauses(policy: ExponentialBuilder, n: usize) -> Vec<u128> {
        let pauses: Vec<u128> = policy.build().take(n).map(millis).collect();
        assert_eq!(pauses.len(), n, "the policy ended early");
        pauses
    }

    #[test]
    fn reconnecting_pauses_double_up_to_two_seconds_and_never_end() {
        assert_eq!(
            pauses(reconnect(), 8),
            [100, 200, 400, 800, 1600, 2000, 2000, 2000]
        );
        assert!(reconnect().build().nth(10_000).is_some());
    }

    #[test]
    fn store_outage_pauses_double_up_to_two_seconds() {
        assert_eq!(
            pauses(store_outage(), 7),
            [100, 200, 400, 800, 1600, 2000, 2000]
        );
    }

    #[test]
    fn change_event_pauses_double_up_to_five_seconds_six_times() {
        let pauses: Vec<u128> = change_event().build().map(millis).collect();
        assert_eq!(pauses, [200, 400, 800, 1600, 3200, 5000]);
    }

    #[test]
    fn polling_pauses_double_up_to_two_hundred_milliseconds() {
        assert_eq!(pauses(poll(), 6), [20, 40, 80, 160, 200, 200]);
    }

    #[test]
    fn redelivery_pauses_grow_with_the_delivery_count_up_to_thirty_seconds() {
        let millis: Vec<u128> = [0, 1, 2, 3, 4, 5, 6, 7, 100, u32::MAX]
            .map(|deliveries| millis(redelivery_pause(deliveries)))
            .to_vec();
        assert_eq!(
            millis,
            [
                500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000
            ]
        );
    }
}
