//! The executor's Prometheus metrics. Labels are bounded: never an id, a key or free text.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use shared::engine::RunResult;
use shared::messages::{ExecutionMessage, ExecutionStatus};

const EXECUTIONS: &str = "hookflow_executions_total";
const EXECUTION_SECONDS: &str = "hookflow_execution_duration_seconds";
const NODE_SECONDS: &str = "hookflow_node_duration_seconds";
const CONSUMER_LAG: &str = "hookflow_consumer_lag_seconds";
const LOOKUP_SECONDS: &str = "hookflow_execution_lookup_seconds";
const REDELIVERIES: &str = "hookflow_redeliveries_total";
const DEAD_LETTERED: &str = "hookflow_dead_lettered_total";
const VERSION_CACHE: &str = "hookflow_version_cache_total";
const DEAD_LETTERS_UNRECORDED: &str = "hookflow_dead_letters_unrecorded_total";
const RECORD_BATCH: &str = "hookflow_record_batch_size";

/// Node types with a label of their own; anything else counts as `other`.
const NODE_TYPES: [&str; 5] = ["condition", "response", "end", "calculation", "delay"];

/// Describes the metrics once, so that `/metrics` carries their help text.
pub(crate) fn describe() {
    metrics::describe_counter!(EXECUTIONS, "Executions recorded, by final status.");
    metrics::describe_histogram!(
        EXECUTION_SECONDS,
        metrics::Unit::Seconds,
        "Time to run one execution's node graph."
    );
    metrics::describe_histogram!(
        NODE_SECONDS,
        metrics::Unit::Seconds,
        "Time to run one node, by node type."
    );
    metrics::describe_histogram!(
        CONSUMER_LAG,
        metrics::Unit::Seconds,
        "Time from ingress accepting a webhook call to an executor starting on it, by queue."
    );
    metrics::describe_histogram!(
        LOOKUP_SECONDS,
        metrics::Unit::Seconds,
        "Time a first delivery waited, before it ran, to learn from PostgreSQL whether it is recorded already and which variables hold, by queue."
    );
    metrics::describe_counter!(
        REDELIVERIES,
        "Execution messages delivered again (after a crash, a requeue or a lost ack), by queue."
    );
    metrics::describe_counter!(
        DEAD_LETTERED,
        "Dead-lettered messages recorded as error executions, by reason."
    );
    metrics::describe_counter!(
        DEAD_LETTERS_UNRECORDED,
        "Dead letters that could not be recorded and were dropped (each one is logged as an error)."
    );
    metrics::describe_histogram!(
        RECORD_BATCH,
        "Executions written by one statement (group commit)."
    );
    metrics::describe_counter!(
        VERSION_CACHE,
        "Workflow version lookups answered from memory (hit) or by PostgreSQL (miss)."
    );
    metrics::describe_counter!(
        shared::engine::LIMITS_HIT,
        "Expressions and templates stopped at a limit, by limit (time, size); each ends its execution as error."
    );
}

/// An execution message arrived: how long it waited since ingress accepted the call, and
/// whether the broker delivered it before.
pub(crate) fn delivered(message: &ExecutionMessage, redelivered: bool) {
    let queue = if message.sync { "sync" } else { "async" };
    let waited = (Utc::now() - message.received_at)
        .to_std()
        .unwrap_or_default();
    metrics::histogram!(CONSUMER_LAG, "queue" => queue).record(waited.as_secs_f64());
    if redelivered {
        metrics::counter!(REDELIVERIES, "queue" => queue).increment(1);
    }
}

/// A first delivery learnt, after `waited`, whether it is recorded and the variables'
/// generation.
pub(crate) fn looked_up(sync: bool, waited: Duration) {
    let queue = if sync { "sync" } else { "async" };
    metrics::histogram!(LOOKUP_SECONDS, "queue" => queue).record(waited.as_secs_f64());
}

/// A dead-lettered message was recorded; the reason is RabbitMQ's `x-first-death-reason`.
pub(crate) fn dead_lettered(headers: &BTreeMap<String, String>) {
    let reason = match headers.get("x-first-death-reason").map(String::as_str) {
        Some("rejected") => "rejected",
        Some("delivery_limit") => "delivery_limit",
        Some("expired") => "expired",
        Some("maxlen") => "maxlen",
        _ => "other",
    };
    metrics::counter!(DEAD_LETTERED, "reason" => reason).increment(1);
}

/// A dead letter could not be recorded and was dropped.
pub(crate) fn dead_letter_unrecorded() {
    metrics::counter!(DEAD_LETTERS_UNRECORDED).increment(1);
}

/// A version lookup was answered from memory (`hit`) or had to load it (`miss`).
pub(crate) fn version_cache(hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!(VERSION_CACHE, "result" => result).increment(1);
}

/// Counts one recorded execution.
pub(crate) fn execution_recorded(status: ExecutionStatus) {
    metrics::counter!(EXECUTIONS, "status" => status.as_str()).increment(1);
}

/// Records how long a run and each of its nodes took.
pub(crate) fn run_timed(result: &RunResult, elapsed: Duration) {
    metrics::histogram!(EXECUTION_SECONDS).record(elapsed.as_secs_f64());
    for job in &result.jobs {
        let seconds = (job.finished_at - job.started_at)
            .to_std()
            .unwrap_or_default()
            .as_secs_f64();
        let node_type = NODE_TYPES
            .into_iter()
            .find(|known| *known == job.node_type)
            .unwrap_or("other");
        metrics::histogram!(NODE_SECONDS, "type" => node_type).record(seconds);
    }
}

/// One batch of `executions` records written together.
pub(crate) fn record_batch(executions: usize) {
    metrics::histogram!(RECORD_BATCH).record(executions as f64);
}
