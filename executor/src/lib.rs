//! The executor: consumes executions from RabbitMQ, runs their node graphs, records them in
//! PostgreSQL and replies to sync callers. HTTP serves only health and metrics.

mod consume;
mod dead_letters;
mod idempotency;
mod instruments;
mod spans;
mod versions;
mod worker;

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{App, HttpServer};
use futures_util::future::BoxFuture;
use shared::{
    broker::{AmqpBroker, Broker, Source, Topology},
    config::Config,
    engine::Engine,
    health::{BrokerCheck, DatabaseCheck, Health, ReadinessCheck},
    store::{PgStore, Store},
};
use tokio::sync::watch;

use crate::{versions::Versions, worker::Worker};

/// Runs executions from RabbitMQ against PostgreSQL until `shutdown` resolves, then drains;
/// health and metrics are served on `listener`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: BoxFuture<'static, ()>,
) -> anyhow::Result<()> {
    let pool = shared::db::pool(&config.database_url, config.database_pool_size)?;
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
/// stand-ins in tests) until `shutdown` resolves. Then it stops taking deliveries and gives
/// the ones it holds `shutdown_grace_secs` to finish; unfinished ones are redelivered.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    broker: Arc<dyn Broker>,
    store: Arc<dyn Store>,
    database: Arc<dyn ReadinessCheck>,
    shutdown: BoxFuture<'static, ()>,
) -> anyhow::Result<()> {
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
    let http = server.handle();
    let server = tokio::spawn(server);

    let purge = tokio::spawn(idempotency::purge_expired_keys(Arc::clone(&store)));
    let (stop, stopping) = watch::channel(false);
    let worker = Arc::new(Worker {
        broker,
        versions: Versions::new(Arc::clone(&store)),
        store,
        engine: Engine::new(),
        topology: Topology::new(config.amqp_prefix.clone()),
        stopping: stopping.clone(),
    });
    let prefetch = config.executor_prefetch.max(1);
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
            stopping.clone(),
        ))
    });

    shutdown.await;
    tracing::info!("draining: no new executions, finishing the ones held");
    health.start_draining();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(config.shutdown_grace_secs);
    let _ = stop.send(true);
    purge.abort();
    let mut held = Vec::new();
    for consumer in consumers {
        match consumer.await {
            Ok(consumer) => held.push(consumer),
            Err(err) => tracing::error!(error = %err, "a consumer failed"),
        }
    }
    consume::drain(held, deadline).await;
    http.stop(true).await;
    server.await??;
    Ok(())
}
