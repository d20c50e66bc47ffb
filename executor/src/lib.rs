//! The executor: consumes executions from RabbitMQ, runs their node graphs, records them in
//! PostgreSQL and replies to sync callers. HTTP serves only health and metrics.

mod batch;
mod consume;
mod dead_letters;
mod idempotency;
mod instruments;
mod spans;
mod variables;
mod versions;
mod worker;

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{App, HttpServer};
use shared::{
    broker::{AmqpBroker, Broker, Source, Topology},
    config::Config,
    engine::Engine,
    health::{BrokerCheck, DatabaseCheck, Health, ReadinessCheck},
    outbound::Outbound,
    store::{PgStore, Store},
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{consume::Deliveries, variables::Variables, versions::Versions, worker::Worker};

/// Runs executions from RabbitMQ against PostgreSQL until `shutdown` is cancelled, then drains;
/// health and metrics are served on `listener`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // Secret variables are sealed with config-api's keys: without them none could be opened.
    shared::sealing::Secrets::from_config(&config)?;
    let pool = shared::db::pool(
        &config.database_url,
        config.database_pool_size.get(),
        &config.tls_ca,
    )?;
    let broker: Arc<dyn Broker> = AmqpBroker::start(&config);
    let store: Arc<dyn Store> = Arc::new(PgStore::new(pool.clone()));
    let database: Arc<dyn ReadinessCheck> = Arc::new(DatabaseCheck(pool));
    let served = serve(
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
}

/// Runs executions from `broker` against `store` (RabbitMQ and PostgreSQL, or in-process
/// stand-ins in tests) until `shutdown` is cancelled. Then it stops taking deliveries and gives
/// the ones it holds `shutdown_grace_secs` to finish; unfinished ones are redelivered.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    broker: Arc<dyn Broker>,
    store: Arc<dyn Store>,
    database: Arc<dyn ReadinessCheck>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // Stand-in stores (tests) hold no sealed variables; with PostgreSQL `run` insists on keys.
    let secrets = shared::sealing::Secrets::from_config(&config).ok();
    instruments::describe();
    let health = Arc::new(Health::new(vec![
        Arc::new(BrokerCheck(Arc::clone(&broker))),
        database,
    ]));
    let metrics = shared::telemetry::metrics_handle();
    let app_health = Arc::clone(&health);
    let server = HttpServer::new(move || {
        App::new().configure(|cfg| {
            shared::health::configure(cfg, Arc::clone(&app_health), metrics.clone())
        })
    })
    .workers(1)
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(config.shutdown_grace_secs)
    .run();

    // One client per process: request nodes of every execution share its connections.
    let outbound = Outbound::from_config(&config)?;
    let purge = tokio::spawn(
        shutdown
            .clone()
            .run_until_cancelled_owned(idempotency::purge_expired_keys(Arc::clone(&store))),
    );
    let worker = Arc::new(Worker {
        batches: worker::Batches::start(&store),
        broker,
        versions: Versions::new(Arc::clone(&store)),
        variables: Variables::new(Arc::clone(&store), secrets),
        store,
        engine: Engine::with_outbound(Arc::new(outbound))
            .with_limits(config.eval_limits())
            .with_max_loop_iterations(config.max_loop_iterations)
            .with_max_execution_bytes(config.max_execution_bytes),
        topology: Topology::new(config.amqp_prefix.clone()),
        stopping: shutdown.clone(),
    });
    let deliveries = Arc::new(Deliveries {
        tracker: TaskTracker::new(),
        abandon: CancellationToken::new(),
    });
    let prefetch = config.executor_prefetch.get();
    // Sync and async executions have separate consumers so that a sync caller never waits
    // behind an async backlog.
    let consumers = [
        Source::Executions {
            sync: true,
            prefetch,
        },
        Source::Executions {
            sync: false,
            prefetch,
        },
        Source::DeadLetters,
    ]
    .map(|source| {
        tokio::spawn(consume::consume(
            Arc::clone(&worker),
            source,
            Arc::clone(&deliveries),
            consume::InFlightBytes::new(config.executor_max_inflight_bytes.get()),
            shutdown.clone(),
        ))
    });

    let grace = Duration::from_secs(config.shutdown_grace_secs);
    shared::shutdown::serve_http(server, &health, &shutdown, async {
        tracing::info!("draining: no new executions, finishing the ones held");
        let deadline = tokio::time::Instant::now() + grace;
        let mut subscriptions = Vec::new();
        for consumer in consumers {
            match consumer.await {
                Ok(subscription) => subscriptions.push(subscription),
                Err(err) => tracing::error!(error = %err, "a consumer failed"),
            }
        }
        consume::drain(&deliveries, deadline).await;
        drop(subscriptions);
        let _ = purge.await;
        true
    })
    .await
}
