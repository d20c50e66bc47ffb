//! `cargo bench -p hookflow-ingress --bench webhook`: webhook throughput and latency of the
//! whole stack, config-api, executor and ingress each in its own process (the benchmark
//! binary re-executes itself as each, see `webhook/services.rs`), driven over HTTP from
//! this process; each figure is measured against a ceiling run in the same process (raw
//! RabbitMQ through the same broker code, a bare lapin consumer, a bare actix handler,
//! batched PostgreSQL inserts, or plain JSON work), so that the ratios say how close
//! Hookflow gets to what its parts allow on this machine. The resident memory of each
//! service is sampled during the load. Needs the local PostgreSQL and RabbitMQ; it creates
//! its own database and AMQP prefixes and removes them.
//!
//! Settings (environment): `HOOKFLOW_BENCH_REQUESTS` per round (2000),
//! `HOOKFLOW_BENCH_CONCURRENCY` clients (16), `HOOKFLOW_BENCH_ROUNDS` (3),
//! `HOOKFLOW_BENCH_ENGINE_ITERATIONS` per round (100000), `HOOKFLOW_BENCH_WORKFLOWS` called
//! round-robin (10000). The table is printed and written to `bench/results/` as JSON and
//! Markdown.

#[path = "webhook/broker_ceiling.rs"]
mod broker_ceiling;
#[path = "webhook/ceilings.rs"]
mod ceilings;
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "webhook/cpu.rs"]
mod cpu;
#[path = "webhook/engine.rs"]
mod engine;
#[path = "webhook/growth.rs"]
mod growth;
#[path = "webhook/load.rs"]
mod load;
#[path = "webhook/memory.rs"]
mod memory;
#[path = "webhook/raw_amqp.rs"]
mod raw_amqp;
#[path = "webhook/recorded.rs"]
mod recorded;
#[path = "webhook/report.rs"]
mod report;
#[path = "webhook/services.rs"]
mod services;
#[path = "webhook/stages.rs"]
mod stages;

use shared::fixtures::payment_callback;
use std::{
    process::ExitCode,
    time::{Duration, Instant},
};

use futures_util::{FutureExt, future::BoxFuture};
use serde_json::{Value, json};
use shared::{
    config::{Config, Service},
    testkit::TestEnv,
};

use crate::{
    broker_ceiling::BrokerCeiling,
    ceilings::{Ceilings, http_ceiling, postgres_ceiling},
    growth::growth,
    load::{Outcome, Summary, drive, drive_at_rate, median},
    memory::{EXECUTOR_RSS_TARGET_MIB, INGRESS_RSS_TARGET_MIB, mib},
    raw_amqp::RoundTrips,
    recorded::Recorded,
    report::{Report, Row},
    services::Services,
};

/// How long the executor may take to record one round's async executions.
const RECORD_LIMIT: Duration = Duration::from_secs(120);

/// Sizes of the run.
pub struct Settings {
    /// Calls per round.
    pub requests: usize,
    /// Concurrent clients.
    pub concurrency: usize,
    /// Measured rounds; medians are reported.
    pub rounds: usize,
    /// Engine runs per round.
    pub engine_iterations: usize,
    /// Distinct workflows called round-robin.
    pub workflows: usize,
}

impl Settings {
    fn from_env() -> Settings {
        let read = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|value| value.parse::<usize>().ok())
                .filter(|value| *value > 0)
                .unwrap_or(default)
        };
        Settings {
            requests: read("HOOKFLOW_BENCH_REQUESTS", 2000),
            concurrency: read("HOOKFLOW_BENCH_CONCURRENCY", 16),
            rounds: read("HOOKFLOW_BENCH_ROUNDS", 3),
            engine_iterations: read("HOOKFLOW_BENCH_ENGINE_ITERATIONS", 100_000),
            workflows: read("HOOKFLOW_BENCH_WORKFLOWS", 10_000),
        }
    }

    /// Unmeasured calls before the rounds: connections, caches and pools warm up.
    fn warm_up(&self) -> usize {
        (self.requests / 10).max(self.concurrency)
    }
}

fn main() -> ExitCode {
    // Re-executed as one of the services by `Services::start`.
    if let Some(code) = services::serve_if_child() {
        return code;
    }
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not, and gets no load.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!(
            "webhook benchmark: run it with `cargo bench -p hookflow-ingress --bench webhook`"
        );
        return ExitCode::SUCCESS;
    }
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let report = runtime.block_on(run(&settings));
    report.print(&settings);
    report.write(&settings);
    ExitCode::SUCCESS
}

async fn run(settings: &Settings) -> Report {
    eprintln!("engine alone…");
    let engine_rows = engine::measure(&payment_callback(), &webhook_body(), settings).await;
    eprintln!("starting config-api, executor and ingress, each in its own process…");
    // Room for every workflow of the round-robin case, as an operator would set it.
    let cache_entries =
        (2 * settings.workflows).max(Config::defaults(Service::Ingress).trigger_cache_entries);
    let stack = Services::start(TestEnv::new().await, |service, config| {
        production_sizes(service, config);
        config.trigger_cache_entries = cache_entries;
    })
    .await;
    let records = Recorded::new(&stack);
    // Baselines publish to a prefix of their own so that no executor consumes them.
    let raw = TestEnv::new().await;
    let mut raw_config = raw.config(Service::Executor);
    production_sizes(Service::Executor, &mut raw_config);
    let broker = BrokerCeiling::start(&raw_config).await;
    eprintln!("ceilings: bare HTTP handler, PostgreSQL batched inserts…");
    let http = http_ceiling(settings).await;
    let postgres = postgres_ceiling(&stack.env, &webhook_body(), settings).await;
    eprintln!("async webhooks, against publishes consumed by a bare consumer…");
    let mut cpu = cpu::Account::default();
    let (async_rows, ceilings) = async_webhooks(
        &stack,
        &records,
        &broker,
        (http, postgres),
        &mut cpu,
        settings,
    )
    .await;
    eprintln!("sync webhooks…");
    let (sync_rows, sync_stages) = sync_webhooks(&stack, &raw, &mut cpu, settings).await;
    eprintln!("how cost grows: 64 KiB bodies, a 20-node workflow, many workflows…");
    let growth_rows = growth(&stack, &records, &broker, &ceilings, settings).await;
    broker.close().await;
    let memory_rows = memory::rows(&stack.memory());
    if let Err(err) = stack.stop() {
        eprintln!("the services did not stop cleanly: {err}");
    }
    drop(raw);
    let ceiling_rows = vec![
        Row::baseline("bare actix handler, HTTP POST", ceilings.http),
        Row::baseline(
            "PostgreSQL batched inserts (rows of executions, 64 per statement, 4 connections)",
            ceilings.postgres,
        ),
    ];
    let me = std::process::id();
    let generator = format!(
        "{} at the peak",
        memory::status_kib(me, "VmHWM:").map_or_else(|| "unknown".to_owned(), mib)
    );
    Report {
        rows: [
            async_rows,
            sync_rows,
            growth_rows,
            ceiling_rows,
            engine_rows,
            memory_rows,
        ]
        .into_iter()
        .flatten()
        .collect(),
        facts: [cpu.facts(), vec![
            sync_stages,
            (
                "RSS targets (issue 9)".to_owned(),
                format!(
                    "ingress ≤ {INGRESS_RSS_TARGET_MIB} MiB, executor ≤ {EXECUTOR_RSS_TARGET_MIB} MiB; \
                     peaks are VmRSS sampled every 100 ms from the service's start to the end of the load, \
                     VmHWM is the kernel's high-water mark at the end"
                ),
            ),
            (
                "RSS of the benchmark process (load generator and ceilings, no service)".to_owned(),
                generator,
            ),
        ]].concat(),
    }
}

/// Database pools and publish timeouts as in production; the test kit's
/// are made for tests running side by side.
fn production_sizes(service: Service, config: &mut Config) {
    let defaults = Config::defaults(service);
    config.database_pool_size = defaults.database_pool_size;
    config.publish_timeout_ms = defaults.publish_timeout_ms;
}

/// Accepted async calls against confirmed raw publishes, and executions recorded against
/// the same publishes consumed and acked by a bare consumer; the rounds of both measure
/// the broker ceilings that the other figures are compared with too.
async fn async_webhooks(
    stack: &Services,
    records: &Recorded<'_>,
    broker: &BrokerCeiling,
    (http, postgres): (Summary, Summary),
    cpu: &mut cpu::Account,
    settings: &Settings,
) -> (Vec<Row>, Ceilings) {
    let workflow = stack.create_workflow(async_calculation()).await;
    let body = webhook_body();
    let call = poster(
        vec![stack.webhook(&workflow.key)],
        &body,
        Auth::None,
        settings.concurrency,
    );
    let payload = raw_amqp::execution_payload(&body, false);

    let (n, c) = (settings.requests, settings.concurrency);
    let before = records.total().await;
    let warmed = drive(settings.warm_up(), c, call.clone()).await.ok;
    // A shortfall is reported by `wait_recorded` and shows in the first round's numbers.
    let _ = wait_recorded(records, before + warmed).await;
    broker
        .round(payload.clone(), settings.warm_up(), c, RECORD_LIMIT)
        .await;
    let (mut webhook, mut recorded) = (Vec::new(), Vec::new());
    let (mut publishes, mut consumed) = (Vec::new(), Vec::new());
    // Rounds alternate so that noise from other work on the machine hits both sides.
    for _ in 0..settings.rounds {
        let (round, rate) = broker.round(payload.clone(), n, c, RECORD_LIMIT).await;
        publishes.push(round);
        consumed.push(rate);

        let before = records.total().await;
        let started = Instant::now();
        let mark = cpu::Account::mark(stack).await;
        let round = drive(n, c, call.clone()).await;
        let (done_at, count) = match wait_recorded(records, before + round.ok).await {
            Ok(done_at) => (done_at, round.ok),
            Err(missing) => (Instant::now(), round.ok.saturating_sub(missing)),
        };
        cpu.add("async, accepted and recorded", stack, &mark, count)
            .await;
        recorded.push(count as f64 / (done_at - started).as_secs_f64());
        webhook.push(round);
    }

    let ceilings = Ceilings {
        http,
        postgres,
        publishes: Summary::of(&publishes),
        consumed: Summary::rate_only(median(consumed).unwrap_or(0.0)),
    };
    let mut rows = vec![
        ceilings.accepted("async webhook, accepted", Summary::of(&webhook)),
        ceilings.recorded(
            "async executions recorded, end-to-end",
            Summary::rate_only(median(recorded).unwrap_or(0.0)),
        ),
    ];
    rows.extend(ceilings.broker_rows(
        (
            "broker, persistent publishes + confirms (quorum queue)",
            "broker, the same consumed + acked by a bare consumer",
        ),
        broker.prefetch,
    ));
    (rows, ceilings)
}

/// Waits until the executor has recorded `expected` executions in all; how many are missing
/// when it did not in time.
async fn wait_recorded(records: &Recorded<'_>, expected: usize) -> Result<Instant, usize> {
    records
        .total_by(expected, RECORD_LIMIT)
        .await
        .map_err(|recorded| {
            eprintln!("only {recorded} of {expected} executions recorded in {RECORD_LIMIT:?}");
            expected - recorded.min(expected)
        })
}

/// Sync payment calls against raw AMQP request/reply round trips, and where the time of the
/// fixed-rate calls went.
async fn sync_webhooks(
    stack: &Services,
    raw: &TestEnv,
    cpu: &mut cpu::Account,
    settings: &Settings,
) -> (Vec<Row>, (String, String)) {
    let workflow = stack.create_workflow(payment_callback()).await;
    let body = webhook_body();
    let url = stack.webhook(&workflow.key);
    let call = poster(vec![url.clone()], &body, Auth::Shop, settings.concurrency);
    let trips = RoundTrips::start(
        &raw.config(Service::Ingress),
        raw_amqp::execution_payload(&body, true),
    )
    .await;
    let round_trip = trips.caller();

    let (n, c) = (settings.requests, settings.concurrency);
    drive(settings.warm_up(), c, call.clone()).await;
    drive(settings.warm_up(), c, round_trip.clone()).await;
    let (mut webhook, mut baseline) = (Vec::new(), Vec::new());
    for _ in 0..settings.rounds {
        baseline.push(drive(n, c, round_trip.clone()).await);
        webhook.push(drive(n, c, call.clone()).await);
    }
    trips.close().await;

    // 64 connections, closed loop.
    let wide = poster(vec![url.clone()], &body, Auth::Shop, 64);
    drive(settings.warm_up(), 64, wide.clone()).await;
    let mut at_64 = Vec::new();
    for _ in 0..settings.rounds {
        let mark = cpu::Account::mark(stack).await;
        let round = drive(n, 64, wide.clone()).await;
        cpu.add("sync, 64 connections", stack, &mark, round.ok)
            .await;
        at_64.push(round);
    }
    // 4 connections: what they manage closed-loop, then arrivals at a fixed 70 % of it,
    // latencies counted from when each call was due.
    let narrow = poster(vec![url], &body, Auth::Shop, 4);
    let capacity = drive(n, 4, narrow.clone()).await.rate();
    let rate = (capacity * 0.7).max(1.0);
    let mut at_rate = Vec::new();
    let stages = stages::Mark::now(stack).await;
    for _ in 0..settings.rounds {
        at_rate.push(drive_at_rate(n, rate, 4, narrow.clone()).await);
    }
    let stages = stages::fact(
        stack,
        &stages,
        &at_rate,
        "4 connections, fixed-rate arrivals",
    )
    .await;

    let baseline = Summary::of(&baseline);
    let rows = vec![
        Row::measured("sync webhook, payment example", Summary::of(&webhook))
            .against(&baseline, "of raw request/reply"),
        Row::measured("sync, 64 connections", Summary::of(&at_64))
            .against(&baseline, "of raw request/reply"),
        Row::measured(
            "sync, 4 connections, fixed-rate arrivals",
            Summary::of(&at_rate),
        )
        .against(&baseline, "of raw request/reply")
        .note(format!(
            "arrivals at {rate:.0}/s = 70 % of the {capacity:.0}/s 4 connections manage"
        )),
        Row::baseline("raw AMQP request/reply", baseline),
    ];
    (rows, stages)
}

/// Credentials a call presents.
#[derive(Clone, Copy)]
enum Auth {
    None,
    /// The payment example's basic authentication.
    Shop,
}

/// One POST of `body` per call, to each of `urls` in turn; success is a 200.
fn poster(
    urls: Vec<String>,
    body: &Value,
    auth: Auth,
    connections: usize,
) -> impl Fn() -> BoxFuture<'static, Outcome> + Clone + Send + 'static + use<> {
    let urls = std::sync::Arc::new(urls);
    let turn = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");
    let body = serde_json::to_vec(body).expect("body serialises");
    move || {
        let index = turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % urls.len().max(1);
        let mut request = client
            .post(&urls[index])
            .header("Content-Type", "application/json")
            .header("X-Request-Id", "r-1")
            .body(body.clone());
        if let Auth::Shop = auth {
            request = request.basic_auth("shop", Some("s3cret"));
        }
        async move {
            match request.send().await {
                // The body is read in full so that the keep-alive connection is reused.
                Ok(response) => match (response.status().as_u16(), response.bytes().await) {
                    (200, Ok(_)) => Ok(()),
                    (200, Err(_)) => Err("body".to_owned()),
                    (status, _) => Err(status.to_string()),
                },
                Err(err) if err.is_timeout() => Err("timeout".to_owned()),
                Err(err) if err.is_connect() => Err("connect".to_owned()),
                Err(_) => Err("http".to_owned()),
            }
        }
        .boxed()
    }
}

/// A typical payment-provider callback body.
fn webhook_body() -> Value {
    json!({
        "id": 1001,
        "status": "paid",
        "amount": 25,
        "currency": "EUR",
        "customer": {"id": "c-42", "email": "jane@example.com"},
        "createdAt": "2024-05-01T12:00:00Z"
    })
}

/// An async workflow with one calculation node.
fn async_calculation() -> Value {
    json!({
        "title": "Benchmark: async calculation",
        "trigger": {"type": "webhook"},
        "nodes": [{"key": "double", "type": "calculation",
                   "config": {"engine": "cel", "expression": "context.body.amount * 2"}}]
    })
}
