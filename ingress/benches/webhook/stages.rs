//! Where a sync call's time goes: the means, over some rounds, of what ingress and the
//! executor measure of each call (their `/metrics` histograms), beside what the callers
//! waited. The profile of latency, as `cpu.rs` is the profile of processor time.

use crate::common::sample;
use crate::load::Round;
use crate::services::Services;

/// Which service measures a stage.
#[derive(Clone, Copy)]
enum Service {
    Ingress,
    Executor,
}

/// One measured stage: a histogram, the labels of its series, and what it is called.
struct Stage {
    service: Service,
    histogram: &'static str,
    labels: &'static [(&'static str, &'static str)],
}

/// The stages, in the order of a call.
const STAGES: [Stage; 5] = [
    // The whole call inside ingress, from its first byte to the answer.
    Stage {
        service: Service::Ingress,
        histogram: "hookflow_webhook_request_duration_seconds",
        labels: &[("mode", "sync")],
    },
    // The publish until RabbitMQ confirmed it; the executor may take the message meanwhile.
    Stage {
        service: Service::Ingress,
        histogram: "hookflow_publish_confirm_seconds",
        labels: &[("queue", "sync"), ("outcome", "confirmed")],
    },
    // From ingress accepting the call to an executor starting on it.
    Stage {
        service: Service::Executor,
        histogram: "hookflow_consumer_lag_seconds",
        labels: &[("queue", "sync")],
    },
    // The executor asking PostgreSQL whether it is recorded and which variables hold.
    Stage {
        service: Service::Executor,
        histogram: "hookflow_execution_lookup_seconds",
        labels: &[("queue", "sync")],
    },
    // The node graph.
    Stage {
        service: Service::Executor,
        histogram: "hookflow_execution_duration_seconds",
        labels: &[],
    },
];

/// Each stage's sum of seconds and count of observations so far.
pub struct Mark(Vec<(f64, f64)>);

impl Mark {
    /// The stages' sums and counts now.
    pub async fn now(stack: &Services) -> Mark {
        let ingress = stack.metrics(&stack.ingress).await;
        let executor = stack.metrics(&stack.executor).await;
        Mark(
            STAGES
                .iter()
                .map(|stage| {
                    let text = match stage.service {
                        Service::Ingress => &ingress,
                        Service::Executor => &executor,
                    };
                    let value = |series: &str| {
                        let name = format!("{}_{series}", stage.histogram);
                        sample(text, &name, stage.labels).unwrap_or(0.0)
                    };
                    (value("sum"), value("count"))
                })
                .collect(),
        )
    }

    /// The mean of each stage, in milliseconds, between `self` and `later`.
    fn means(&self, later: &Mark) -> Vec<f64> {
        self.0
            .iter()
            .zip(&later.0)
            .map(|((sum, count), (later_sum, later_count))| {
                (later_sum - sum) / (later_count - count).max(1.0) * 1e3
            })
            .collect()
    }
}

/// The line of the table's facts: where the calls of `rounds`, made between `since` and
/// now, spent their time on average.
pub async fn fact(
    stack: &Services,
    since: &Mark,
    rounds: &[Round],
    label: &str,
) -> (String, String) {
    let means = since.means(&Mark::now(stack).await);
    let [inside, confirm, lag, lookup, run] = means[..] else {
        unreachable!("one mean per stage");
    };
    let calls: usize = rounds.iter().map(|round| round.latencies.len()).sum();
    let waited: f64 = rounds
        .iter()
        .flat_map(|round| &round.latencies)
        .map(|latency| latency.as_secs_f64())
        .sum::<f64>()
        / calls.max(1) as f64
        * 1e3;
    let back = (inside - lag - lookup - run).max(0.0);
    (
        format!("Where a sync call's time goes, {label} (means)"),
        format!(
            "the caller waited {waited:.2} ms, of which {inside:.2} ms inside ingress: \
             {lag:.2} ms until an executor started on it (RabbitMQ confirmed the publish \
             after {confirm:.2} ms meanwhile), {lookup:.2} ms for PostgreSQL to say it is not \
             recorded yet and which variables hold, {run:.3} ms running the node graph, and \
             {back:.2} ms for the answer's way back (the reply through RabbitMQ, both \
             services' scheduling); the rest of the caller's wait is HTTP and, at a fixed \
             rate, time queued behind earlier calls"
        ),
    )
}
