//! `cargo bench -p hookflow-ingress --bench webhook`: webhook throughput and latency of the
//! whole stack in-process, each measured against a baseline run in the same process (raw
//! RabbitMQ through the same broker code, or plain JSON work), so that the ratios say how
//! close Hookflow gets to what its parts allow on this machine. Needs the local PostgreSQL
//! and RabbitMQ; it creates its own database and AMQP prefixes and removes them.
//!
//! Settings (environment): `HOOKFLOW_BENCH_REQUESTS` per round (2000),
//! `HOOKFLOW_BENCH_CONCURRENCY` clients (16), `HOOKFLOW_BENCH_ROUNDS` (3),
//! `HOOKFLOW_BENCH_ENGINE_ITERATIONS` per round (100000).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "webhook/engine.rs"]
mod engine;
#[path = "webhook/load.rs"]
mod load;
#[path = "webhook/raw_amqp.rs"]
mod raw_amqp;
#[path = "webhook/recorded.rs"]
mod recorded;
#[path = "webhook/report.rs"]
mod report;

use shared::fixtures::payment_callback;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, future::BoxFuture};
use serde_json::{Value, json};
use shared::{
    broker::Broker,
    config::{Config, Service},
    testkit::TestEnv,
};

use crate::{
    common::{Stack, Workflow},
    load::{Outcome, Summary, drive, median},
    raw_amqp::RoundTrips,
    recorded::Recorded,
    report::{Report, Row},
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
        }
    }

    /// Unmeasured calls before the rounds: connections, caches and pools warm up.
    fn warm_up(&self) -> usize {
        (self.requests / 10).max(self.concurrency)
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not, and gets no load.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!(
            "webhook benchmark: run it with `cargo bench -p hookflow-ingress --bench webhook`"
        );
        return;
    }
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let report = runtime.block_on(run(&settings));
    report.print(&settings);
}

async fn run(settings: &Settings) -> Report {
    eprintln!("engine alone…");
    let engine_rows = engine::measure(&payment_callback(), &webhook_body(), settings).await;
    eprintln!("starting the stack…");
    let stack = Stack::start_in(TestEnv::new().await, production_sizes).await;
    let records = Recorded::new(&stack.env);
    // Baselines publish to a prefix of their own so that no executor consumes them.
    let raw = TestEnv::new().await;
    eprintln!("async webhooks…");
    let async_rows = async_webhooks(&stack, &records, &raw, settings).await;
    eprintln!("sync webhooks…");
    let sync_rows = sync_webhooks(&stack, &raw, settings).await;
    records.close();
    if let Err(err) = stack.stop().await {
        eprintln!("the stack did not stop cleanly: {err:#}");
    }
    drop(raw);
    Report {
        rows: [async_rows, sync_rows, engine_rows]
            .into_iter()
            .flatten()
            .collect(),
    }
}

/// Database pools and publish timeouts as in production; the test kit's
/// are made for tests running side by side.
fn production_sizes(service: Service, config: &mut Config) {
    let defaults = Config::defaults(service);
    config.database_pool_size = defaults.database_pool_size;
    config.publish_timeout_ms = defaults.publish_timeout_ms;
}

/// Accepted async calls against confirmed raw publishes, and executions recorded.
async fn async_webhooks(
    stack: &Stack,
    records: &Recorded,
    raw: &TestEnv,
    settings: &Settings,
) -> Vec<Row> {
    let workflow = stack.create_workflow(async_calculation()).await;
    let body = webhook_body();
    let call = poster(stack.webhook(&workflow.key), &body, Auth::None, settings);
    let broker = raw_amqp::connect(&raw.config(Service::Ingress)).await;
    let publish = raw_amqp::publisher(broker.clone(), raw_amqp::execution_payload(&body, false));

    let (n, c) = (settings.requests, settings.concurrency);
    let mut expected = drive(settings.warm_up(), c, call.clone()).await.ok;
    // A shortfall is reported by `wait_recorded` and shows in the first round's numbers.
    let _ = wait_recorded(records, &workflow, expected).await;
    drive(settings.warm_up(), c, publish.clone()).await;
    let (mut webhook, mut baseline, mut recorded) = (Vec::new(), Vec::new(), Vec::new());
    // Rounds alternate so that noise from other work on the machine hits both sides.
    for _ in 0..settings.rounds {
        baseline.push(drive(n, c, publish.clone()).await);
        let started = Instant::now();
        let round = drive(n, c, call.clone()).await;
        expected += round.ok;
        let (done_at, count) = match wait_recorded(records, &workflow, expected).await {
            Ok(done_at) => (done_at, round.ok),
            Err(missing) => (Instant::now(), round.ok.saturating_sub(missing)),
        };
        recorded.push(count as f64 / (done_at - started).as_secs_f64());
        webhook.push(round);
    }
    broker.close().await;

    let baseline = Summary::of(&baseline);
    let accepted = Row::measured("async webhook, accepted", Summary::of(&webhook))
        .against(&baseline, "of raw confirmed publishes");
    let recorded = Summary::rate_only(median(recorded).unwrap_or(0.0));
    let recorded = Row::measured("async executions recorded, end-to-end", recorded)
        .against(&baseline, "of raw confirmed publishes");
    vec![
        accepted,
        Row::baseline("raw AMQP publish + confirm", baseline),
        recorded,
    ]
}

/// Waits until the executor has recorded `expected` executions; how many are missing when
/// it did not in time.
async fn wait_recorded(
    records: &Recorded,
    workflow: &Workflow,
    expected: usize,
) -> Result<Instant, usize> {
    records
        .by(workflow, expected, RECORD_LIMIT)
        .await
        .map_err(|recorded| {
            eprintln!("only {recorded} of {expected} executions recorded in {RECORD_LIMIT:?}");
            expected - recorded.min(expected)
        })
}

/// Sync payment calls against raw AMQP request/reply round trips.
async fn sync_webhooks(stack: &Stack, raw: &TestEnv, settings: &Settings) -> Vec<Row> {
    let workflow = stack.create_workflow(payment_callback()).await;
    let body = webhook_body();
    let call = poster(stack.webhook(&workflow.key), &body, Auth::Shop, settings);
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

    let baseline = Summary::of(&baseline);
    vec![
        Row::measured("sync webhook, payment example", Summary::of(&webhook))
            .against(&baseline, "of raw request/reply"),
        Row::baseline("raw AMQP request/reply", baseline),
    ]
}

/// Credentials a call presents.
#[derive(Clone, Copy)]
enum Auth {
    None,
    /// The payment example's basic authentication.
    Shop,
}

/// One POST of `body` per call; success is a 200.
fn poster(
    url: String,
    body: &Value,
    auth: Auth,
    settings: &Settings,
) -> impl Fn() -> BoxFuture<'static, Outcome> + Clone + Send + 'static + use<> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(settings.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");
    let body = serde_json::to_vec(body).expect("body serialises");
    move || {
        let mut request = client
            .post(&url)
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
