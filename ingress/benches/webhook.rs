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
#[path = "webhook/services.rs"]
mod services;

use shared::fixtures::payment_callback;
use std::{
    process::ExitCode,
    time::{Duration, Instant},
};

use futures_util::{FutureExt, StreamExt, future::BoxFuture};
use serde_json::{Value, json};
use shared::{
    config::{Config, Service},
    testkit::TestEnv,
};

use crate::{
    common::Workflow,
    load::{Outcome, Round, Summary, drive, drive_at_rate, median},
    raw_amqp::{BrokerCeiling, RoundTrips},
    recorded::Recorded,
    report::{Report, Row},
    services::Services,
};

/// How long the executor may take to record one round's async executions.
const RECORD_LIMIT: Duration = Duration::from_secs(120);

/// Workflows created through config-api at once before the round-robin case.
const CREATE_CONCURRENCY: usize = 32;

/// The memory targets, in MiB.
const INGRESS_RSS_TARGET_MIB: u64 = 64;
const EXECUTOR_RSS_TARGET_MIB: u64 = 128;

/// Entries ingress's trigger cache holds (`MAX_ENTRIES` in ingress/src/triggers.rs; no
/// setting changes it).
const TRIGGER_CACHE_ENTRIES: usize = 10_000;

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

/// What the parts allow on this machine, measured in the same run.
#[derive(Clone)]
struct Ceilings {
    /// A bare actix handler.
    http: Summary,
    /// Batched inserts of execution rows.
    postgres: Summary,
    /// Persistent publishes with confirms to the async quorum queue.
    publishes: Summary,
    /// The same publishes consumed and acked by a bare lapin consumer, end to end.
    consumed: Summary,
}

impl Ceilings {
    /// `accepted` against the confirmed publishes, noting its share of the bare handler.
    fn accepted(&self, name: &'static str, accepted: Summary) -> Row {
        let of_http = accepted.rate / self.http.rate.max(f64::EPSILON);
        Row::measured(name, accepted)
            .against(&self.publishes, "of broker publishes")
            .note(format!("{of_http:.3} of the bare HTTP handler"))
    }

    /// The rows of the broker ceilings: publishes, and the same consumed.
    fn broker_rows(&self, names: (&'static str, &'static str), prefetch: u16) -> Vec<Row> {
        vec![
            Row::baseline(names.0, self.publishes.clone()),
            Row::baseline(names.1, self.consumed.clone()).note(format!(
                "prefetch {prefetch}, from the first publish to the last ack"
            )),
        ]
    }

    /// `recorded` against the consumed publishes, noting its share of batched inserts.
    fn recorded(&self, name: &'static str, recorded: Summary) -> Row {
        let of_postgres = recorded.rate / self.postgres.rate.max(f64::EPSILON);
        Row::measured(name, recorded)
            .against(&self.consumed, "of broker publishes consumed")
            .note(format!("{of_postgres:.3} of PostgreSQL batched inserts"))
    }
}

async fn run(settings: &Settings) -> Report {
    eprintln!("engine alone…");
    let engine_rows = engine::measure(&payment_callback(), &webhook_body(), settings).await;
    eprintln!("starting config-api, executor and ingress, each in its own process…");
    let stack = Services::start(TestEnv::new().await, production_sizes).await;
    let records = Recorded::new(&stack.env);
    // Baselines publish to a prefix of their own so that no executor consumes them.
    let raw = TestEnv::new().await;
    let mut raw_config = raw.config(Service::Executor);
    production_sizes(Service::Executor, &mut raw_config);
    let broker = BrokerCeiling::start(&raw_config).await;
    eprintln!("ceilings: bare HTTP handler, PostgreSQL batched inserts…");
    let http = http_ceiling(settings).await;
    let postgres = postgres_ceiling(&stack.env, &webhook_body(), settings).await;
    eprintln!("async webhooks, against publishes consumed by a bare consumer…");
    let (async_rows, ceilings) =
        async_webhooks(&stack, &records, &broker, http, postgres, settings).await;
    eprintln!("sync webhooks…");
    let sync_rows = sync_webhooks(&stack, &raw, settings).await;
    eprintln!("how cost grows: 64 KiB bodies, a 20-node workflow, many workflows…");
    let growth_rows = growth(&stack, &records, &broker, &ceilings, settings).await;
    records.close();
    broker.close().await;
    let memory_rows = memory_rows(&stack.memory());
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
        services::status_kib(me, "VmHWM:").map_or_else(|| "unknown".to_owned(), mib)
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
        facts: vec![
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
        ],
    }
}

/// One row per service: its peak resident memory under load, against the target.
fn memory_rows(memory: &[services::Rss]) -> Vec<Row> {
    memory
        .iter()
        .map(|rss| {
            let (name, target) = match rss.service {
                Service::Ingress => ("RSS, ingress peak under load", Some(INGRESS_RSS_TARGET_MIB)),
                Service::Executor => (
                    "RSS, executor peak under load",
                    Some(EXECUTOR_RSS_TARGET_MIB),
                ),
                Service::ConfigApi => ("RSS, config-api peak under load", None),
            };
            let high_water = rss.high_water_kib.map_or_else(|| "unknown".to_owned(), mib);
            Row::memory(name, rss.peak_kib, target.map(|target| target * 1024)).note(format!(
                "VmHWM {high_water}, {} when ready",
                mib(rss.at_start_kib)
            ))
        })
        .collect()
}

/// KiB as MiB with one decimal.
fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// What a bare actix-web handler answering `ok` to a POST serves to the same clients.
async fn http_ceiling(settings: &Settings) -> Summary {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let server = HttpServer::new(|| {
        App::new().route(
            "/{tail:.*}",
            web::post().to(|_body: web::Bytes| async { HttpResponse::Ok().body("ok") }),
        )
    })
    .workers(2)
    .listen(listener)
    .expect("listen")
    .disable_signals()
    .run();
    let handle = server.handle();
    let running = tokio::spawn(server);
    let call = poster(
        vec![format!("http://{address}/bare")],
        &webhook_body(),
        Auth::None,
        settings.concurrency,
    );
    let (n, c) = (settings.requests, settings.concurrency);
    drive(settings.warm_up(), c, call.clone()).await;
    let mut rounds = Vec::new();
    for _ in 0..settings.rounds {
        rounds.push(drive(n, c, call.clone()).await);
    }
    handle.stop(true).await;
    let _ = running.await;
    Summary::of(&rounds)
}

/// Rows of executions written as fast as PostgreSQL takes them: batches of 64 through
/// `unnest`, on 4 connections, into a copy of the executions table (dropped after).
async fn postgres_ceiling(env: &TestEnv, body: &Value, settings: &Settings) -> Summary {
    const BATCH: usize = 64;
    const CONNECTIONS: usize = 4;
    let pool = env.pool();
    let setup = pool.get().await.expect("database");
    setup
        .batch_execute("CREATE TABLE bench_ceiling (LIKE executions INCLUDING ALL)")
        .await
        .expect("scratch table");
    let context = json!({"headers": {"x-request-id": "r-1"}, "query": {}, "body": body});
    let mut rounds = Vec::new();
    for _ in 0..settings.rounds {
        let batches = settings.requests.div_ceil(BATCH);
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let writers: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                let (pool, next, context) = (pool.clone(), next.clone(), context.clone());
                tokio::spawn(async move {
                    let client = pool.get().await.expect("database");
                    let statement = client
                        .prepare(
                            "INSERT INTO bench_ceiling (id, workflow_id, version, status, context, created_at, started_at, finished_at) \
                             SELECT id, $2, 1, 'resolved', c, now(), now(), now() FROM unnest($1::uuid[], $3::jsonb[]) AS t(id, c)",
                        )
                        .await
                        .expect("prepare");
                    let workflow = uuid::Uuid::now_v7();
                    let mut written = 0;
                    while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < batches {
                        let ids: Vec<uuid::Uuid> = (0..BATCH).map(|_| uuid::Uuid::now_v7()).collect();
                        let contexts: Vec<&Value> = (0..BATCH).map(|_| &context).collect();
                        client
                            .execute(&statement, &[&ids, &workflow, &contexts])
                            .await
                            .expect("insert");
                        written += BATCH;
                    }
                    written
                })
            })
            .collect();
        let mut ok = 0;
        for writer in writers {
            ok += writer.await.expect("writer");
        }
        rounds.push(Round {
            ok,
            failures: Default::default(),
            elapsed: started.elapsed(),
            latencies: Vec::new(),
        });
    }
    let _ = setup.batch_execute("DROP TABLE bench_ceiling").await;
    pool.close();
    Summary::of(&rounds)
}

/// How cost grows with the body, the workflow and the number of workflows: async calls of
/// each, accepted and recorded, against the confirmed publishes of the same run.
async fn growth(
    stack: &Services,
    records: &Recorded,
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
    if many > TRIGGER_CACHE_ENTRIES {
        note.push_str(&format!(
            "; more than the {TRIGGER_CACHE_ENTRIES} triggers ingress caches"
        ));
    }
    note.push_str(&format!(
        "; ingress's trigger cache in the round: {:.0} hits, {:.0} misses, {:.0} re-validations \
         (it holds at most {TRIGGER_CACHE_ENTRIES}, a constant: no setting)",
        cache.hits, cache.misses, cache.revalidations
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
            hits: stack.counter(ingress, cache, "result=\"hit\"").await,
            misses: stack.counter(ingress, cache, "result=\"miss\"").await,
            revalidations: stack
                .counter(ingress, revalidations, "outcome=\"fetched\"")
                .await
                + stack
                    .counter(ingress, revalidations, "outcome=\"failed\"")
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
    records: &Recorded,
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
    records: &Recorded,
    broker: &BrokerCeiling,
    http: Summary,
    postgres: Summary,
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
    let mut expected = drive(settings.warm_up(), c, call.clone()).await.ok;
    // A shortfall is reported by `wait_recorded` and shows in the first round's numbers.
    let _ = wait_recorded(records, &workflow, expected).await;
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
async fn sync_webhooks(stack: &Services, raw: &TestEnv, settings: &Settings) -> Vec<Row> {
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
        at_64.push(drive(n, 64, wide.clone()).await);
    }
    // 4 connections: what they manage closed-loop, then arrivals at a fixed 70 % of it,
    // latencies counted from when each call was due.
    let narrow = poster(vec![url], &body, Auth::Shop, 4);
    let capacity = drive(n, 4, narrow.clone()).await.rate();
    let rate = (capacity * 0.7).max(1.0);
    let mut at_rate = Vec::new();
    for _ in 0..settings.rounds {
        at_rate.push(drive_at_rate(n, rate, 4, narrow.clone()).await);
    }

    let baseline = Summary::of(&baseline);
    vec![
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
    ]
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
