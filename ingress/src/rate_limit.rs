//! `rateLimit`: a token bucket per webhook key, in this ingress's memory (docs/workflows.md).
//!
//! Every ingress instance keeps its own buckets, so behind a load balancer the effective
//! limit is the configured one times the number of replicas.
//!
//! A bucket is a single atomic "theoretical arrival time" (the GCRA form of a token
//! bucket): admitting a call is one compare-and-swap under a shared read lock, and only
//! the first call of a key (or of a new version of its workflow) takes the write lock.

use std::{
    collections::HashMap,
    sync::{
        PoisonError, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use shared::model::{RateLimit, TriggerDefinition};
use uuid::Uuid;

use crate::error::WebhookError;

/// Buckets kept before the refilled ones are dropped; a refilled bucket is the same as a
/// fresh one, so dropping it forgets nothing.
const SWEEP_AT: usize = 1024;

/// The buckets of every rate-limited webhook key.
pub struct RateLimits {
    epoch: Instant,
    buckets: RwLock<HashMap<String, Bucket>>,
}

/// One key's bucket, tied to the definition it was made for.
struct Bucket {
    workflow_id: Uuid,
    version: i32,
    limit: RateLimit,
    /// Nanoseconds one call uses up (1 / perSecond).
    interval: u64,
    /// How far ahead of now the arrival time may run: `(burst - 1)` intervals.
    slack: u64,
    /// When the bucket will be full again, in nanoseconds since `epoch`.
    full_at: AtomicU64,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits::new()
    }
}

impl RateLimits {
    /// No buckets yet.
    pub fn new() -> Self {
        RateLimits {
            epoch: Instant::now(),
            buckets: RwLock::new(HashMap::new()),
        }
    }

    /// Admits one call to `definition`'s webhook, or refuses it with how long to wait.
    pub fn admit(&self, definition: &TriggerDefinition) -> Result<(), WebhookError> {
        let Some(limit) = &definition.trigger.rate_limit else {
            return Ok(());
        };
        self.admit_at(definition, limit, self.epoch.elapsed())
            .map_err(|wait| WebhookError::RateLimited {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            })
    }

    /// Admits one call at `now` (since `epoch`); `Err` holds the wait until one more fits.
    fn admit_at(
        &self,
        definition: &TriggerDefinition,
        limit: &RateLimit,
        now: Duration,
    ) -> Result<(), Duration> {
        let now = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
        {
            let buckets = self.buckets.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(bucket) = buckets.get(&definition.key)
                && bucket.serves(definition, limit)
            {
                return bucket.take(now);
            }
        }
        let mut buckets = self.buckets.write().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= SWEEP_AT {
            buckets.retain(|_, bucket| !bucket.is_full(now));
        }
        // Another call may have made the bucket while this one waited for the lock.
        let bucket = buckets
            .entry(definition.key.clone())
            .and_modify(|bucket| {
                if !bucket.serves(definition, limit) {
                    *bucket = Bucket::new(definition, limit, now);
                }
            })
            .or_insert_with(|| Bucket::new(definition, limit, now));
        bucket.take(now)
    }

    /// How many buckets are held (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Bucket {
    fn new(definition: &TriggerDefinition, limit: &RateLimit, now: u64) -> Self {
        let interval = (1e9 / limit.per_second).clamp(1.0, u64::MAX as f64) as u64;
        Bucket {
            workflow_id: definition.workflow_id,
            version: definition.version,
            limit: limit.clone(),
            interval,
            slack: interval.saturating_mul(u64::from(limit.burst_size() - 1)),
            full_at: AtomicU64::new(now),
        }
    }

    /// Whether this bucket was made for this version of the workflow and these settings;
    /// a changed definition starts afresh.
    fn serves(&self, definition: &TriggerDefinition, limit: &RateLimit) -> bool {
        self.workflow_id == definition.workflow_id
            && self.version == definition.version
            && self.limit == *limit
    }

    fn is_full(&self, now: u64) -> bool {
        self.full_at.load(Ordering::Relaxed) <= now
    }

    /// Takes one token: moves the arrival time one interval ahead unless it would run
    /// further than `slack` ahead of now.
    fn take(&self, now: u64) -> Result<(), Duration> {
        let mut current = self.full_at.load(Ordering::Acquire);
        loop {
            let start = current.max(now);
            let ahead = start - now;
            if ahead > self.slack {
                return Err(Duration::from_nanos(ahead - self.slack));
            }
            match self.full_at.compare_exchange_weak(
                current,
                start.saturating_add(self.interval),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => current = actual,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::model::WorkflowOptions;

    fn limited(key: &str, version: i32, limit: serde_json::Value) -> TriggerDefinition {
        TriggerDefinition {
            workflow_id: Uuid::nil(),
            key: key.into(),
            version,
            enabled: true,
            sync: false,
            trigger: serde_json::from_value(json!({"rateLimit": limit})).expect("trigger"),
            options: WorkflowOptions::default(),
        }
    }

    fn admit(
        limits: &RateLimits,
        definition: &TriggerDefinition,
        at_ms: u64,
    ) -> Result<(), Duration> {
        let limit = definition.trigger.rate_limit.as_ref().expect("limit");
        limits.admit_at(definition, limit, Duration::from_millis(at_ms))
    }

    #[test]
    fn a_burst_is_admitted_then_calls_refill_at_the_rate() {
        let limits = RateLimits::new();
        let hook = limited("k", 1, json!({"perSecond": 10, "burst": 3}));
        for _ in 0..3 {
            assert!(admit(&limits, &hook, 1000).is_ok());
        }
        let wait = admit(&limits, &hook, 1000).expect_err("bucket empty");
        assert_eq!(wait, Duration::from_millis(100));
        assert!(admit(&limits, &hook, 1099).is_err());
        assert!(admit(&limits, &hook, 1100).is_ok());
        assert!(admit(&limits, &hook, 1100).is_err());
        // After a quiet second the whole burst is back, and no more.
        for _ in 0..3 {
            assert!(admit(&limits, &hook, 2100).is_ok());
        }
        assert!(admit(&limits, &hook, 2100).is_err());
    }

    #[test]
    fn the_default_burst_is_one_second_of_calls() {
        let limits = RateLimits::new();
        let hook = limited("k", 1, json!({"perSecond": 2}));
        assert!(admit(&limits, &hook, 0).is_ok());
        assert!(admit(&limits, &hook, 0).is_ok());
        assert_eq!(admit(&limits, &hook, 0), Err(Duration::from_millis(500)));

        let slow = limited("s", 1, json!({"perSecond": 0.25}));
        assert!(admit(&limits, &slow, 0).is_ok());
        assert_eq!(admit(&limits, &slow, 1000), Err(Duration::from_secs(3)));
    }

    #[test]
    fn keys_have_their_own_buckets() {
        let limits = RateLimits::new();
        let a = limited("a", 1, json!({"perSecond": 1, "burst": 1}));
        let b = limited("b", 1, json!({"perSecond": 1, "burst": 1}));
        assert!(admit(&limits, &a, 0).is_ok());
        assert!(admit(&limits, &a, 0).is_err());
        assert!(admit(&limits, &b, 0).is_ok());
    }

    #[test]
    fn a_new_version_or_new_settings_start_a_fresh_bucket() {
        let limits = RateLimits::new();
        let v1 = limited("k", 1, json!({"perSecond": 1, "burst": 1}));
        assert!(admit(&limits, &v1, 0).is_ok());
        assert!(admit(&limits, &v1, 0).is_err());
        let v2 = limited("k", 2, json!({"perSecond": 1, "burst": 1}));
        assert!(admit(&limits, &v2, 0).is_ok());
        assert!(admit(&limits, &v2, 0).is_err());
        let wider = limited("k", 2, json!({"perSecond": 1, "burst": 2}));
        assert!(admit(&limits, &wider, 0).is_ok());
        assert_eq!(limits.len(), 1);
    }

    #[test]
    fn refilled_buckets_are_swept_when_many() {
        let limits = RateLimits::new();
        for i in 0..SWEEP_AT {
            let hook = limited(&format!("k{i}"), 1, json!({"perSecond": 1}));
            assert!(admit(&limits, &hook, 0).is_ok());
        }
        assert_eq!(limits.len(), SWEEP_AT);
        let late = limited("late", 1, json!({"perSecond": 1}));
        assert!(admit(&limits, &late, 5_000).is_ok());
        assert_eq!(limits.len(), 1);
    }

    #[test]
    fn refusals_carry_a_retry_after_of_at_least_one_second() {
        let limits = RateLimits::new();
        let hook = limited("k", 1, json!({"perSecond": 1000, "burst": 1}));
        assert!(limits.admit(&hook).is_ok());
        match limits.admit(&hook) {
            Err(WebhookError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected rate_limited, got {other:?}"),
        }
        let unlimited = TriggerDefinition {
            trigger: Default::default(),
            ..hook
        };
        for _ in 0..100 {
            assert!(limits.admit(&unlimited).is_ok());
        }
    }

    #[test]
    fn concurrent_callers_never_exceed_the_burst() {
        let limits = std::sync::Arc::new(RateLimits::new());
        let hook = limited("k", 1, json!({"perSecond": 0.001, "burst": 50}));
        let admitted: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let limits = &limits;
                    let hook = &hook;
                    scope.spawn(move || (0..100).filter(|_| admit(limits, hook, 0).is_ok()).count())
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).sum()
        });
        assert_eq!(admitted, 50);
    }
}
