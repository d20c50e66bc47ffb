//! The ingress's Prometheus metrics. Labels are bounded: never a webhook key or an id.

use std::time::Duration;

use shared::broker::BrokerError;

const REQUESTS: &str = "hookflow_webhook_requests_total";
const REQUEST_SECONDS: &str = "hookflow_webhook_request_duration_seconds";
const PUBLISH_CONFIRM: &str = "hookflow_publish_confirm_seconds";
const SYNC_WAITS: &str = "hookflow_sync_waits_in_flight";
const SYNC_TIMEOUTS: &str = "hookflow_sync_timeouts_total";
const TRIGGER_CACHE: &str = "hookflow_trigger_cache_total";

/// Counts webhook calls by mode (`sync`, `async`, `none` before a workflow is known) and
/// status class (`2xx` ... `5xx`).
pub fn record_request(mode: &'static str, status: u16, elapsed: Duration) {
    let class = match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::counter!(REQUESTS, "mode" => mode, "status_class" => class).increment(1);
    metrics::histogram!(REQUEST_SECONDS, "mode" => mode).record(elapsed.as_secs_f64());
}

/// A sync caller started or stopped waiting for its reply.
pub fn sync_wait(delta: f64) {
    metrics::gauge!(SYNC_WAITS).increment(delta);
}

/// A sync caller was not answered in time: 408, or the workflow's `timeoutResponse`.
pub fn sync_timeout() {
    metrics::counter!(SYNC_TIMEOUTS).increment(1);
}

/// A trigger lookup was answered from the cache (`hit`) or had to ask config-api (`miss`).
pub fn trigger_cache(hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!(TRIGGER_CACHE, "result" => result).increment(1);
}

/// How long the broker took to confirm, refuse or time out an execution message, by queue
/// (`sync`, `async`) and outcome (`confirmed`, `nacked`, `unroutable`, `unavailable`,
/// `timeout`).
pub fn publish_confirm(sync: bool, published: &Result<(), BrokerError>, elapsed: Duration) {
    let outcome = match published {
        Ok(()) => "confirmed",
        Err(BrokerError::Nacked) => "nacked",
        Err(BrokerError::Unroutable) => "unroutable",
        Err(BrokerError::ConfirmTimeout) => "timeout",
        Err(BrokerError::Unavailable(_) | BrokerError::Protocol(_)) => "unavailable",
    };
    let queue = if sync { "sync" } else { "async" };
    metrics::histogram!(PUBLISH_CONFIRM, "queue" => queue, "outcome" => outcome)
        .record(elapsed.as_secs_f64());
}

/// Describes the metrics once, so that `/metrics` carries their help text.
pub fn describe() {
    metrics::describe_counter!(
        REQUESTS,
        "Webhook calls answered, by mode (sync, async, none) and status class."
    );
    metrics::describe_histogram!(
        REQUEST_SECONDS,
        metrics::Unit::Seconds,
        "Time to answer a webhook call, by mode."
    );
    metrics::describe_histogram!(
        PUBLISH_CONFIRM,
        metrics::Unit::Seconds,
        "Time from publishing an execution to the broker's confirm, by queue and outcome."
    );
    metrics::describe_gauge!(
        SYNC_WAITS,
        "Sync callers waiting for their workflow's reply."
    );
    metrics::describe_counter!(
        SYNC_TIMEOUTS,
        "Sync callers not answered in time (408 or the timeoutResponse)."
    );
    metrics::describe_counter!(
        TRIGGER_CACHE,
        "Trigger lookups answered from the cache (hit) or by config-api (miss)."
    );
}
