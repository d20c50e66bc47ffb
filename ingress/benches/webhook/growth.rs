//! How cost grows: a 64 KiB body, a 20-node workflow, and many workflows called
//! round-robin, each async, accepted and recorded, against the ceilings.

use std::time::Instant;

use futures_util::{StreamExt, future::BoxFuture};
use serde_json::{Value, json};

use crate::{
    Auth, RECORD_LIMIT, Settings, async_calculation,
    broker_ceiling::BrokerCeiling,
    ceilings::Ceilings,
    load::{Outcome, Summary, drive},
    poster, raw_amqp,
    recorded::Recorded,
    report::Row,
    services::Services,
    webhook_body,
};

/// Workflows created through config-api at once before the round-robin case.
const CREATE_CONCURRENCY: usize = 32;

/// How cost grows with the body, the workflow and the number of workflows: async calls of
/// each, accepted and recorded, against the confirmed publishes of the same run.
pub async fn growth(
    stack: &Services,
    records: &Recorded<'_>,
    broker: &BrokerCeiling,
    ceilings: &Ceilings,
    settings: &Settings,
) -> Vec<Row> {
    let c = settings.concurrency;
    let n = settings.requests;
    let mut rows = Vec::new();

    let workflow = stack.create_workflow(async_calculation()).await;
    let large = json!({"amount": 25, "blob": "x".repeat(64 * 1024 - 32)});
    // The broker's ceilings for messages of this size.
    let payload = raw_amqp::execution_payload(&large, false);
    broker.round(payload.clone(), c * 4, c, RECORD_LIMIT).await;
    let (publishes, consumed) = broker.round(payload, n / 2, c, RECORD_LIMIT).await;
    let large_ceilings = Ceilings {
        publishes: Summary::of(&[publishes]),
        consumed: Summary::rate_only(consumed),
        ..ceilings.clone()
    };
    let call = poster(vec![stack.webhook(&workflow.key)], &large, Auth::None, c);
    rows.extend(
        async_round(
            records,
            (
                "async, 64 KiB body, accepted",
                "async, 64 KiB body, recorded",
            ),
            call,
            n / 2,
            c,
            &large_ceilings,
        )
        .await,
    );
    rows.extend(large_ceilings.broker_rows(
        (
            "broker, the same with 64 KiB messages",
            "broker, 64 KiB messages consumed + acked by a bare consumer",
        ),
        broker.prefetch,
    ));

    let workflow = stack.create_workflow(twenty_nodes()).await;
    let call = poster(
        vec![stack.webhook(&workflow.key)],
        &webhook_body(),
        Auth::None,
        c,
    );
    rows.extend(
        async_round(
            records,
            (
                "async, 20-node workflow, accepted",
                "async, 20-node workflow, recorded",
            ),
            call,
            n,
            c,
            ceilings,
        )
        .await,
    );

    let many = settings.workflows;
    eprintln!("creating {many} workflows ({CREATE_CONCURRENCY} at once)…");
    let started = Instant::now();
    let urls = create_many(stack, many).await;
    let created_in = started.elapsed();
    eprintln!(
        "{many} workflows created in {:.1} s",
        created_in.as_secs_f64()
    );
    let call = poster(urls, &webhook_body(), Auth::None, c);
    // Each workflow is called once before: its trigger is then cached, as in steady use.
    drive(many, c, call.clone()).await;
    let cache_before = TriggerCacheCounts::of(stack).await;
    let count = n.max(many);
    let round = async_round(
        records,
        (
            "async, workflows round-robin, accepted",
            "async, workflows round-robin, recorded",
        ),
        call,
        count,
        c,
        ceilings,
    )
    .await;
    let cache = TriggerCacheCounts::of(stack).await.since(&cache_before);
    let mut note = format!(
        "{many} workflows, created through the API in {:.1} s",
        created_in.as_secs_f64()
    );
    note.push_str(&format!(
        "; ingress's trigger cache in the round: {:.0} hits, {:.0} misses, {:.0} re-validations \
         (HOOKFLOW_TRIGGER_CACHE_ENTRIES={})",
        cache.hits, cache.misses, cache.revalidations, stack.trigger_cache_entries
    ));
    let [accepted, recorded] = round;
    rows.push(accepted.note(note));
    rows.push(recorded.note(format!("{many} workflows")));
    rows
}

/// Ingress's trigger cache counters (`/metrics`).
struct TriggerCacheCounts {
    hits: f64,
    misses: f64,
    revalidations: f64,
}

impl TriggerCacheCounts {
    async fn of(stack: &Services) -> TriggerCacheCounts {
        let ingress = &stack.ingress;
        let cache = "hookflow_trigger_cache_total";
        let revalidations = "hookflow_trigger_revalidations_total";
        TriggerCacheCounts {
            hits: stack.sample(ingress, cache, &[("result", "hit")]).await,
            misses: stack.sample(ingress, cache, &[("result", "miss")]).await,
            revalidations: stack
                .sample(ingress, revalidations, &[("outcome", "fetched")])
                .await
                + stack
                    .sample(ingress, revalidations, &[("outcome", "failed")])
                    .await,
        }
    }

    fn since(&self, before: &TriggerCacheCounts) -> TriggerCacheCounts {
        TriggerCacheCounts {
            hits: self.hits - before.hits,
            misses: self.misses - before.misses,
            revalidations: self.revalidations - before.revalidations,
        }
    }
}

/// One round of `count` async calls: accepted per second, and recorded per second end to
/// end, each against its ceilings.
async fn async_round(
    records: &Recorded<'_>,
    names: (&'static str, &'static str),
    call: impl Fn() -> BoxFuture<'static, Outcome> + Clone + Send + 'static,
    count: usize,
    concurrency: usize,
    ceilings: &Ceilings,
) -> [Row; 2] {
    let before = records.total().await;
    let started = Instant::now();
    let round = drive(count, concurrency, call).await;
    let (done_at, recorded) = match records.total_by(before + round.ok, RECORD_LIMIT).await {
        Ok(done_at) => (done_at, round.ok),
        Err(total) => (Instant::now(), total.saturating_sub(before)),
    };
    let rate = recorded as f64 / (done_at - started).as_secs_f64();
    [
        ceilings.accepted(names.0, Summary::of(&[round])),
        ceilings.recorded(names.1, Summary::rate_only(rate)),
    ]
}

/// `count` async workflows with one calculation node each; their webhook URLs.
async fn create_many(stack: &Services, count: usize) -> Vec<String> {
    let created = futures_util::stream::iter(0..count)
        .map(|n| async move {
            let mut document = async_calculation();
            document["title"] = json!(format!("Benchmark: workflow {n}"));
            stack.create_workflow(document).await
        })
        .buffer_unordered(CREATE_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    created
        .iter()
        .map(|workflow| stack.webhook(&workflow.key))
        .collect()
}

/// An async workflow of 20 nodes: calculations, each on the one before.
fn twenty_nodes() -> Value {
    let mut nodes = vec![json!({"key": "n0", "type": "calculation",
        "config": {"engine": "cel", "expression": "context.body.amount * 2"}})];
    for n in 1..20 {
        nodes.push(json!({"key": format!("n{n}"), "type": "calculation",
            "config": {"engine": "cel", "expression": format!("jobs.n{} + 1", n - 1)}}));
    }
    json!({"title": "Benchmark: 20 nodes", "trigger": {"type": "webhook"}, "nodes": nodes})
}
