//! `cargo bench -p hookflow-ingress --bench webhook`: webhook throughput and latency of the
//! whole stack in-process, each measured against a baseline run in the same process (raw
//! RabbitMQ through the same broker code, or plain JSON work), so that the ratios say how
//! close Hookflow gets to what its parts allow on this machine. Needs the local PostgreSQL
//! and RabbitMQ; it creates its own database and AMQP prefixes and removes them.
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

use shared::fixtures::payment_callback;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt, future::BoxFuture};
use serde_json::{Value, json};
use shared::{
    broker::Broker,
    config::{Config, Service},
    testkit::TestEnv,
};

use crate::{
    common::{Stack, Workflow},
    load::{Outcome, Round, Summary, drive, drive_at_rate, median},
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
    report.write(&settings);
}

async fn run(settings: &Settings) -> Report {
    eprintln!("engine alone…");
    let engine_rows = engine::measure(&payment_callback(), &webhook_body(), settings).await;
    eprintln!("starting the stack…");
    let stack = Stack::start_in(TestEnv::new().await, production_sizes).await;
    let records = Recorded::new(&stack.env);
    // Baselines publish to a prefix of their own so that no executor consumes them.
    let raw = TestEnv::new().await;
    eprintln!("ceilings: bare HTTP handler, PostgreSQL batched inserts…");
    let http = http_ceiling(settings).await;
    let postgres = postgres_ceiling(&stack.env, &webhook_body(), settings).await;
    eprintln!("async webhooks…");
    let (async_rows, publishes) =
        async_webhooks(&stack, &records, &raw, &http, &postgres, settings).await;
    eprintln!("sync webhooks…");
    let sync_rows = sync_webhooks(&stack, &raw, settings).await;
    eprintln!("how cost grows: 64 KiB bodies, a 20-node workflow, many workflows…");
    let growth_rows = growth(&stack, &records, &publishes, settings).await;
    records.close();
    let facts = memory();
    if let Err(err) = stack.stop().await {
        eprintln!("the stack did not stop cleanly: {err:#}");
    }
    drop(raw);
    let ceilings = vec![
        Row::baseline("bare actix handler, HTTP POST", http),
        Row::baseline(
            "PostgreSQL batched inserts (rows of executions, 64 per statement, 4 connections)",
            postgres,
        ),
    ];
    Report {
        rows: [async_rows, sync_rows, growth_rows, ceilings, engine_rows]
            .into_iter()
            .flatten()
            .collect(),
        facts,
    }
}

/// The process's resident memory now and at its peak. The three services run in this one
/// process, with the load generator, so this is their sum.
fn memory() -> Vec<(String, String)> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|value| value.trim().to_owned())
            .unwrap_or_else(|| "unknown".to_owned())
    };
    vec![(
        "RSS of the benchmark process (ingress, executor, config-api and load generator together)"
            .to_owned(),
        format!("{} now, {} at the peak", field("VmRSS:"), field("VmHWM:")),
    )]
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
    stack: &Stack,
    records: &Recorded,
    publishes: &Summary,
    settings: &Settings,
) -> Vec<Row> {
    let c = settings.concurrency;
    let n = settings.requests;
    let mut rows = Vec::new();

    let workflow = stack.create_workflow(async_calculation()).await;
    let large = json!({"amount": 25, "blob": "x".repeat(64 * 1024 - 32)});
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
            publishes,
        )
        .await,
    );

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
            publishes,
        )
        .await,
    );

    eprintln!("creating {} workflows…", settings.workflows);
    let urls = create_many(stack, settings.workflows).await;
    let call = poster(urls, &webhook_body(), Auth::None, c);
    // Each workflow is called once before: its trigger is then cached, as in steady use.
    drive(settings.workflows, c, call.clone()).await;
    let count = n.max(settings.workflows);
    rows.extend(
        async_round(
            records,
            (
                "async, workflows round-robin, accepted",
                "async, workflows round-robin, recorded",
            ),
            call,
            count,
            c,
            publishes,
        )
        .await
        .into_iter()
        .map(|row| row.note(format!("{} workflows", settings.workflows))),
    );
    rows
}

/// One round of `count` async calls: accepted per second, and recorded per second end to
/// end, each against `publishes`.
async fn async_round(
    records: &Recorded,
    names: (&'static str, &'static str),
    call: impl Fn() -> BoxFuture<'static, Outcome> + Clone + Send + 'static,
    count: usize,
    concurrency: usize,
    publishes: &Summary,
) -> Vec<Row> {
    let before = records.total().await;
    let started = Instant::now();
    let round = drive(count, concurrency, call).await;
    let (done_at, recorded) = match records.total_by(before + round.ok, RECORD_LIMIT).await {
        Ok(done_at) => (done_at, round.ok),
        Err(total) => (Instant::now(), total.saturating_sub(before)),
    };
    let rate = recorded as f64 / (done_at - started).as_secs_f64();
    vec![
        Row::measured(names.0, Summary::of(&[round])).against(publishes, "of confirmed publishes"),
        Row::measured(names.1, Summary::rate_only(rate))
            .against(publishes, "of confirmed publishes"),
    ]
}

/// `count` async workflows with one calculation node each; their webhook URLs.
async fn create_many(stack: &Stack, count: usize) -> Vec<String> {
    let created = futures_util::stream::iter(0..count)
        .map(|n| async move {
            let mut document = async_calculation();
            document["title"] = json!(format!("Benchmark: workflow {n}"));
            stack.create_workflow(document).await
        })
        .buffer_unordered(8)
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

/// Accepted async calls against confirmed raw publishes, and executions recorded.
async fn async_webhooks(
    stack: &Stack,
    records: &Recorded,
    raw: &TestEnv,
    http: &Summary,
    postgres: &Summary,
    settings: &Settings,
) -> (Vec<Row>, Summary) {
    let workflow = stack.create_workflow(async_calculation()).await;
    let body = webhook_body();
    let call = poster(
        vec![stack.webhook(&workflow.key)],
        &body,
        Auth::None,
        settings.concurrency,
    );
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
    let accepted = Summary::of(&webhook);
    let of_http = accepted.rate / http.rate.max(f64::EPSILON);
    let accepted = Row::measured("async webhook, accepted", accepted)
        .against(&baseline, "of raw confirmed publishes")
        .note(format!("{of_http:.3} of the bare HTTP handler"));
    let recorded = Summary::rate_only(median(recorded).unwrap_or(0.0));
    let of_postgres = recorded.rate / postgres.rate.max(f64::EPSILON);
    let recorded = Row::measured("async executions recorded, end-to-end", recorded)
        .against(&baseline, "of raw confirmed publishes")
        .note(format!("{of_postgres:.3} of PostgreSQL batched inserts"));
    let rows = vec![
        accepted,
        recorded,
        Row::baseline(
            "raw AMQP publish + confirm (not consumed)",
            Summary {
                failures: baseline.failures.clone(),
                ..baseline
            },
        ),
    ];
    (rows, baseline)
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
