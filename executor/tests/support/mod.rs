//! One test's executor on a real PostgreSQL and RabbitMQ, and a broker of its own to
//! publish executions and receive sync replies the way ingress does.

#![allow(dead_code)]

pub mod outside_api;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, stream::BoxStream};
use serde_json::Value;
use shared::{
    broker::{AmqpBroker, Broker, Incoming, Outgoing, Route, Source},
    config::{Config, Service},
    health::DatabaseCheck,
    messages::{Envelope, ExecutionMessage, SyncReply},
    store::{PgStore, Store},
    testkit::{Running, TestEnv, start_service},
};
use uuid::Uuid;

/// How long a reply or a record may take.
pub const WAIT: Duration = Duration::from_secs(15);

/// Fields are dropped in order: the executor and broker stop before the environment goes.
pub struct Harness {
    pub executor: Running,
    pub broker: Arc<AmqpBroker>,
    pub replies: BoxStream<'static, Incoming>,
    pub pool: deadpool_postgres::Pool,
    pub env: TestEnv,
}

/// One execution row as recorded.
#[derive(Debug)]
pub struct Recorded {
    pub status: String,
    pub workflow_id: Uuid,
    pub context: Value,
    pub response: Option<Value>,
    pub error: Option<String>,
    pub attempts: i32,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A new execution of version 1 of `workflow_id`, as ingress publishes it.
pub fn message(workflow_id: Uuid, sync: bool, context: Value) -> ExecutionMessage {
    ExecutionMessage {
        execution_id: Uuid::now_v7(),
        workflow_id,
        workflow_key: "abcdefghijk".into(),
        version: 1,
        sync,
        context,
        received_at: Utc::now(),
        idempotency: None,
        sync_timeout_ms: None,
    }
}

/// Publishes `message` on `broker` as ingress does (async: nobody waits for a reply).
pub async fn publish_execution(broker: &AmqpBroker, message: &ExecutionMessage) {
    let payload = serde_json::to_vec(message).expect("json");
    let mut headers = BTreeMap::new();
    Envelope::of(message).write(&mut headers);
    publish_with(
        broker,
        message.sync,
        payload,
        Some(message.execution_id),
        headers,
    )
    .await;
}

async fn publish_with(
    broker: &AmqpBroker,
    sync: bool,
    payload: Vec<u8>,
    id: Option<Uuid>,
    headers: BTreeMap<String, String>,
) {
    let outgoing = Outgoing {
        payload,
        headers,
        message_id: id.map(|id| id.to_string()),
        correlation_id: id.map(|id| id.to_string()),
        reply_to: sync.then(|| broker.reply_address()),
    };
    broker
        .publish(Route::Execution { sync }, outgoing)
        .await
        .expect("publish execution");
}

/// A test environment whose database has config-api's schema (no config-api runs here).
pub async fn migrated_env() -> TestEnv {
    let env = TestEnv::new().await;
    hookflow_config_api::schema::migrate(&env.pool())
        .await
        .expect("migrate test database");
    env
}

/// Stores a workflow with `document` as its version 1, straight into the database.
pub async fn insert_workflow(pool: &deadpool_postgres::Pool, document: &Value) -> Uuid {
    let id = Uuid::now_v7();
    // The random tail of the uuid: its head is the time, the same for workflows created
    // within a few milliseconds.
    let key = id.simple().to_string()[21..].to_owned();
    let client = pool.get().await.expect("db");
    client
        .execute(
            "INSERT INTO workflows (id, key, title, sync, enabled, current_version) \
             VALUES ($1, $2, $3, $4, true, 1)",
            &[
                &id,
                &key,
                &"test",
                &document["sync"].as_bool().unwrap_or(false),
            ],
        )
        .await
        .expect("insert workflow");
    client
        .execute(
            "INSERT INTO workflow_versions (workflow_id, version, document) VALUES ($1, 1, $2)",
            &[&id, document],
        )
        .await
        .expect("insert version");
    id
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::start_with(|_| {}).await
    }

    /// Like [`Harness::start`], the executor's settings adjusted by `adjust` first.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Harness {
        let env = migrated_env().await;
        let mut config = env.config(Service::Executor);
        adjust(&mut config);
        let executor = start_service(hookflow_executor::run, config.clone()).await;
        Harness::around(executor, env, &config).await
    }

    /// Like [`Harness::start`], with a delivery limit of `delivery_limit` and the
    /// executor's PostgreSQL store wrapped by `wrap`, to stage failures that the real
    /// database cannot be made to have.
    pub async fn start_wrapped(
        delivery_limit: u32,
        wrap: impl FnOnce(PgStore) -> Arc<dyn Store> + Send + 'static,
    ) -> Harness {
        let env = migrated_env().await;
        let mut config = env.config(Service::Executor);
        config.delivery_limit = delivery_limit;
        // `hookflow_executor::run` with the store wrapped.
        let run = |config: Config, listener, shutdown| async move {
            let pool = shared::db::pool(
                &config.database_url,
                config.database_pool_size.get(),
                &config.tls_ca,
            )?;
            let broker: Arc<dyn Broker> = AmqpBroker::start(&config);
            let store = wrap(PgStore::new(pool.clone()));
            let database = Arc::new(DatabaseCheck(pool));
            let served = hookflow_executor::serve(
                config,
                listener,
                Arc::clone(&broker),
                store,
                database,
                shutdown,
            )
            .await;
            broker.close().await;
            served
        };
        let executor = start_service(run, config.clone()).await;
        Harness::around(executor, env, &config).await
    }

    /// A harness around `executor`, running on `env` with `config`.
    async fn around(executor: Running, env: TestEnv, config: &Config) -> Harness {
        let pool = env.pool();
        // The queues' arguments (the delivery limit) must match the executor's.
        let broker = AmqpBroker::start(config);
        assert!(broker.wait_ready(WAIT).await, "test broker did not connect");
        let replies = broker
            .subscribe(Source::Replies)
            .await
            .expect("subscribe replies");
        Harness {
            executor,
            broker,
            replies,
            pool,
            env,
        }
    }

    /// Stores a workflow with `document` as its version 1, straight into the database.
    pub async fn create_workflow(&self, document: &Value) -> Uuid {
        insert_workflow(&self.pool, document).await
    }

    /// Publishes `message` as ingress does, its identity repeated in the headers.
    pub async fn publish(&self, message: &ExecutionMessage) {
        let payload = serde_json::to_vec(message).expect("json");
        self.publish_as(message, payload).await;
    }

    /// Publishes `payload` with the headers ingress gives `message`.
    pub async fn publish_as(&self, message: &ExecutionMessage, payload: Vec<u8>) {
        let mut headers = BTreeMap::new();
        Envelope::of(message).write(&mut headers);
        self.publish_with(message.sync, payload, Some(message.execution_id), headers)
            .await;
    }

    pub async fn publish_raw(&self, sync: bool, payload: Vec<u8>, id: Option<Uuid>) {
        self.publish_with(sync, payload, id, BTreeMap::new()).await;
    }

    async fn publish_with(
        &self,
        sync: bool,
        payload: Vec<u8>,
        id: Option<Uuid>,
        headers: BTreeMap<String, String>,
    ) {
        publish_with(&self.broker, sync, payload, id, headers).await;
    }

    /// The next sync reply, with its correlation id.
    pub async fn next_reply(&mut self) -> (SyncReply, Option<String>) {
        let incoming = tokio::time::timeout(WAIT, self.replies.next())
            .await
            .expect("no reply in time")
            .expect("reply stream ended");
        let _ = incoming.settle.ack().await;
        let reply = serde_json::from_slice(&incoming.payload).expect("a SyncReply");
        (reply, incoming.correlation_id)
    }

    pub async fn execution(&self, id: Uuid) -> Option<Recorded> {
        let client = self.pool.get().await.expect("db");
        let row = client
            .query_opt(
                "SELECT status, workflow_id, context, response, error, attempts, finished_at \
                 FROM executions WHERE id = $1",
                &[&id],
            )
            .await
            .expect("select execution")?;
        Some(Recorded {
            status: row.get(0),
            workflow_id: row.get(1),
            context: row.get(2),
            response: row.get(3),
            error: row.get(4),
            attempts: row.get(5),
            finished_at: row.get(6),
        })
    }

    /// Waits until the execution has a final status.
    pub async fn finished(&self, id: Uuid) -> Recorded {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(recorded) = self.execution(id).await
                && recorded.finished_at.is_some()
            {
                return recorded;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "execution {id} did not finish"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `(node key, node type, status, result)` of each job, in order, once the execution
    /// is recorded as finished (a sync reply can arrive before the record).
    pub async fn jobs(&self, id: Uuid) -> Vec<(String, String, String, Value)> {
        self.finished(id).await;
        let client = self.pool.get().await.expect("db");
        client
            .query(
                "SELECT node_key, node_type, status, result FROM jobs \
                 WHERE execution_id = $1 ORDER BY position",
                &[&id],
            )
            .await
            .expect("select jobs")
            .into_iter()
            .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3)))
            .collect()
    }
}

/// One job as recorded, with its loop iteration path and its times.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub key: String,
    pub status: String,
    pub result: Option<Value>,
    pub iteration: Option<Vec<i32>>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Harness {
    /// Every job of execution `id` in order, with iteration paths and times, once it is
    /// recorded as finished.
    pub async fn job_rows(&self, id: Uuid) -> Vec<JobRow> {
        self.finished(id).await;
        let client = self.pool.get().await.expect("db");
        client
            .query(
                "SELECT node_key, status, result, iteration, started_at, finished_at FROM jobs \
                 WHERE execution_id = $1 ORDER BY position",
                &[&id],
            )
            .await
            .expect("select jobs")
            .into_iter()
            .map(|row| JobRow {
                key: row.get(0),
                status: row.get(1),
                result: row.get(2),
                iteration: row.get(3),
                started_at: row.get(4),
                finished_at: row.get(5),
            })
            .collect()
    }
}
