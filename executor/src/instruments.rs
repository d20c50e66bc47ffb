//! The executor's Prometheus metrics.

use std::time::Duration;

use shared::engine::RunResult;
use shared::messages::ExecutionStatus;

const EXECUTIONS: &str = "hookflow_executions_total";
const EXECUTION_SECONDS: &str = "hookflow_execution_duration_seconds";
const NODE_SECONDS: &str = "hookflow_node_duration_seconds";

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
        metrics::histogram!(NODE_SECONDS, "type" => job.node_type.clone()).record(seconds);
    }
}
