//! The ceilings that are not the broker's: a bare actix handler and batched PostgreSQL
//! inserts; and the set of all of them that each Hookflow figure is compared with.

use std::time::Instant;

use serde_json::{Value, json};
use shared::testkit::TestEnv;

use crate::{
    Auth, Settings,
    load::{Round, Summary, drive},
    poster,
    report::Row,
    webhook_body,
};

/// What the parts allow on this machine, measured in the same run.
#[derive(Clone)]
pub struct Ceilings {
    /// A bare actix handler.
    pub http: Summary,
    /// Batched inserts of execution rows.
    pub postgres: Summary,
    /// Persistent publishes with confirms to the async quorum queue.
    pub publishes: Summary,
    /// The same publishes consumed and acked by a bare lapin consumer, end to end.
    pub consumed: Summary,
}

impl Ceilings {
    /// `accepted` against the confirmed publishes, noting its share of the bare handler.
    pub fn accepted(&self, name: &'static str, accepted: Summary) -> Row {
        let of_http = accepted.rate / self.http.rate.max(f64::EPSILON);
        Row::measured(name, accepted)
            .against(&self.publishes, "of broker publishes")
            .note(format!("{of_http:.3} of the bare HTTP handler"))
    }

    /// The rows of the broker ceilings: publishes, and the same consumed.
    pub fn broker_rows(&self, names: (&'static str, &'static str), prefetch: u16) -> Vec<Row> {
        vec![
            Row::baseline(names.0, self.publishes.clone()),
            Row::baseline(names.1, self.consumed.clone()).note(format!(
                "prefetch {prefetch}, from the first publish to the last ack"
            )),
        ]
    }

    /// `recorded` against the consumed publishes, noting its share of batched inserts.
    pub fn recorded(&self, name: &'static str, recorded: Summary) -> Row {
        let of_postgres = recorded.rate / self.postgres.rate.max(f64::EPSILON);
        Row::measured(name, recorded)
            .against(&self.consumed, "of broker publishes consumed")
            .note(format!("{of_postgres:.3} of PostgreSQL batched inserts"))
    }
}

/// What a bare actix-web handler answering `ok` to a POST serves to the same clients.
pub async fn http_ceiling(settings: &Settings) -> Summary {
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
pub async fn postgres_ceiling(env: &TestEnv, body: &Value, settings: &Settings) -> Summary {
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
