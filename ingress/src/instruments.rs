//! The ingress's Prometheus metrics. Labels are bounded: never a webhook key or an id.

use std::time::Duration;

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
    metrics::counter!("hookflow_webhook_requests_total", "mode" => mode, "status_class" => class)
        .increment(1);
    metrics::histogram!("hookflow_webhook_request_duration_seconds", "mode" => mode)
        .record(elapsed.as_secs_f64());
}

/// A sync caller started or stopped waiting for its reply.
pub fn sync_wait(delta: f64) {
    metrics::gauge!("hookflow_sync_waits_in_flight").increment(delta);
}

/// A sync caller got 408.
pub fn sync_timeout() {
    metrics::counter!("hookflow_sync_timeouts_total").increment(1);
}

/// A trigger lookup was answered from the cache (`hit`) or had to ask config-api (`miss`).
pub fn trigger_cache(hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!("hookflow_trigger_cache_total", "result" => result).increment(1);
}
