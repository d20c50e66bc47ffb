//! A small closed-loop load generator: a fixed number of calls shared by concurrent
//! clients, each starting its next call as soon as the previous one is answered.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::future::BoxFuture;

/// One round may not run longer than this, whatever its count.
const ROUND_LIMIT: Duration = Duration::from_secs(60);

/// What one round of calls did.
pub struct Round {
    /// Calls that succeeded.
    pub ok: usize,
    /// Calls that failed, by reason (an unexpected status, a timeout, a broker error).
    pub failures: BTreeMap<String, usize>,
    /// From the first call to the last answer.
    pub elapsed: Duration,
    /// Latencies of the successful calls, sorted.
    pub latencies: Vec<Duration>,
}

impl Round {
    /// Successful calls per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The nearest-rank `q` quantile of the successful calls' latencies.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let rank = (q * self.latencies.len() as f64).ceil() as usize;
        self.latencies.get(rank.saturating_sub(1)).copied()
    }
}

/// What one call did: `Err` holds a short reason (`"503"`, `"timeout"`).
pub type Outcome = Result<(), String>;

/// Makes `count` calls of `call` from `concurrency` clients (bounded by [`ROUND_LIMIT`]).
pub async fn drive<F>(count: usize, concurrency: usize, call: F) -> Round
where
    F: Fn() -> BoxFuture<'static, Outcome> + Clone + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + ROUND_LIMIT;
    let clients: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let next = Arc::clone(&next);
            let call = call.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < count && Instant::now() < deadline {
                    let sent = Instant::now();
                    let outcome = call().await;
                    seen.push((sent.elapsed(), outcome));
                }
                seen
            })
        })
        .collect();
    let mut round = Round {
        ok: 0,
        failures: BTreeMap::new(),
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(count),
    };
    for client in clients {
        for (latency, outcome) in client.await.expect("a load client panicked") {
            match outcome {
                Ok(()) => {
                    round.ok += 1;
                    round.latencies.push(latency);
                }
                Err(reason) => *round.failures.entry(reason).or_default() += 1,
            }
        }
    }
    round.elapsed = started.elapsed();
    round.latencies.sort_unstable();
    round
}

/// Makes `count` calls of `call` at a fixed `rate` per second, at most `connections` in
/// flight: open-loop arrivals, each call's latency counted from when it was due, so that a
/// stall shows in the latencies of every call it delayed (no coordinated omission).
pub async fn drive_at_rate<F>(count: usize, rate: f64, connections: usize, call: F) -> Round
where
    F: Fn() -> BoxFuture<'static, Outcome> + Clone + Send + 'static,
{
    let permits = Arc::new(tokio::sync::Semaphore::new(connections.max(1)));
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let started = Instant::now();
    let deadline = started + ROUND_LIMIT;
    let mut calls = Vec::with_capacity(count);
    for n in 0..count {
        let due = started + interval.mul_f64(n as f64);
        if due > deadline {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .expect("never closed");
        let call = call.clone();
        calls.push(tokio::spawn(async move {
            let outcome = call().await;
            drop(permit);
            (due.elapsed(), outcome)
        }));
    }
    let mut round = Round {
        ok: 0,
        failures: BTreeMap::new(),
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(count),
    };
    for call in calls {
        let (latency, outcome) = call.await.expect("a load call panicked");
        match outcome {
            Ok(()) => {
                round.ok += 1;
                round.latencies.push(latency);
            }
            Err(reason) => *round.failures.entry(reason).or_default() += 1,
        }
    }
    round.elapsed = started.elapsed();
    round.latencies.sort_unstable();
    round
}

/// Medians over rounds of one measurement.
#[derive(Clone)]
pub struct Summary {
    /// Median rate per second.
    pub rate: f64,
    /// Median of the rounds' p50 latencies.
    pub p50: Option<Duration>,
    /// Median of the rounds' p99 latencies.
    pub p99: Option<Duration>,
    /// Median of the rounds' p99.9 latencies.
    pub p999: Option<Duration>,
    /// Failed calls over all rounds, by reason.
    pub failures: BTreeMap<String, usize>,
}

impl Summary {
    /// The medians of `rounds`.
    pub fn of(rounds: &[Round]) -> Summary {
        let quantiles = |q: f64| -> Option<Duration> {
            let values: Vec<Duration> = rounds.iter().filter_map(|r| r.quantile(q)).collect();
            median_by(values, |a, b| a.cmp(b))
        };
        Summary {
            rate: median(rounds.iter().map(Round::rate).collect()).unwrap_or(0.0),
            p50: quantiles(0.50),
            p99: quantiles(0.99),
            p999: quantiles(0.999),
            failures: rounds.iter().fold(BTreeMap::new(), |mut all, round| {
                for (reason, count) in &round.failures {
                    *all.entry(reason.clone()).or_default() += count;
                }
                all
            }),
        }
    }

    /// A rate without latencies (computed elsewhere).
    pub fn rate_only(rate: f64) -> Summary {
        Summary {
            rate,
            p50: None,
            p99: None,
            p999: None,
            failures: BTreeMap::new(),
        }
    }
}

/// The median of `values` (the upper one of an even count).
pub fn median(values: Vec<f64>) -> Option<f64> {
    median_by(values, f64::total_cmp)
}

fn median_by<T: Copy>(
    mut values: Vec<T>,
    order: impl Fn(&T, &T) -> std::cmp::Ordering,
) -> Option<T> {
    values.sort_unstable_by(order);
    values.get(values.len() / 2).copied()
}
