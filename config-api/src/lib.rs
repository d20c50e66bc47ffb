//! Hookflow config-api: stores and versions workflow definitions, serves the parse
//! helpers and the execution history, owns the schema (docs/workflows.md, docs/api.md).

mod app;
mod auth;
mod changes;
mod console;
mod document;
mod error;
mod keys;
pub mod openapi;
mod paging;
mod queue;
mod repo;
mod routes;
pub mod schema;
mod secrets;
mod state;
mod views;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use anyhow::Context;
use shared::broker::{AmqpBroker, Broker};
use shared::config::Config;
use shared::health::{BrokerCheck, DatabaseCheck, Health};
use shared::retry::{self, Retryable};
use tokio_util::sync::CancellationToken;

use crate::app::Parts;
use crate::auth::{AdminAuth, InternalAuth};
use crate::changes::Changes;
use crate::console::Console;
use crate::routes::spec::OpenApiJson;
use crate::state::AppState;

// PostgreSQL may still be starting (compose, Kubernetes); wait this long before giving up.
const DATABASE_WAIT: Duration = Duration::from_secs(60);

/// Serves the API on `listener` until `shutdown` is cancelled, then drains within
/// `config.shutdown_grace_secs`. Migrates the database first.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let auth = AdminAuth::from_config(&config)?;
    let internal_auth = InternalAuth::from_config(&config)?;
    let secrets = secrets::Secrets::from_config(&config)?;
    let pool = shared::db::pool(&config.database_url, config.database_pool_size.get())
        .context("database pool")?;
    tokio::select! {
        migrated = migrate_when_reachable(&pool) => migrated?,
        () = shutdown.cancelled() => return Ok(()),
    }
    // Secrets stored in plain text (before encryption) or under a key now old are sealed
    // with the current key, in every version.
    match repo::workflows::reseal_versions(&pool, &secrets).await {
        Ok(0) => {}
        Ok(rewritten) => tracing::info!(rewritten, "stored secrets sealed with the current key"),
        Err(err) => {
            tracing::warn!(error = %err, "could not re-seal stored secrets; they stay readable")
        }
    }
    match repo::variables::reseal(&pool, &secrets).await {
        Ok(0) => {}
        Ok(rewritten) => tracing::info!(rewritten, "secret variables sealed with the current key"),
        Err(err) => {
            tracing::warn!(error = %err, "could not re-seal secret variables; they stay readable")
        }
    }

    let broker: Arc<dyn Broker> = AmqpBroker::start(&config);
    let health = Arc::new(Health::new(vec![
        Arc::new(BrokerCheck(broker.clone())),
        Arc::new(DatabaseCheck(pool.clone())),
    ]));
    let parts = Parts {
        state: web::Data::new(AppState {
            pool,
            changes: Changes::new(broker.clone()),
            executions: queue::ExecutionQueue::new(broker.clone()),
            public_url: config.public_url.to_string(),
            secrets,
        }),
        auth: web::Data::new(auth),
        internal_auth: web::Data::new(internal_auth),
        openapi: web::Data::new(OpenApiJson(openapi::document().to_json()?)),
        health: health.clone(),
        metrics: shared::telemetry::metrics_handle(),
        console: Console::from_config(&config),
    };

    let address = listener.local_addr()?;
    let server = HttpServer::new(move || {
        let parts = parts.clone();
        App::new().configure(move |cfg| app::configure(cfg, &parts))
    })
    .listen(listener)?
    // Signals are the binary's business; the library stops only through `shutdown`.
    .disable_signals()
    .shutdown_timeout(config.shutdown_grace_secs)
    .run();
    tracing::info!(%address, "config-api listening");

    let served = shared::shutdown::serve_http(server, &health, &shutdown, async {
        tracing::info!("draining");
        true
    })
    .await;
    broker.close().await;
    served.context("http server")
}

/// Runs the migrations, retrying while the database is unreachable.
pub async fn migrate_when_reachable(pool: &deadpool_postgres::Pool) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + DATABASE_WAIT;
    (|| schema::migrate(pool))
        .retry(retry::reconnect())
        .when(|err| {
            matches!(err, schema::MigrateError::Pool(_)) && tokio::time::Instant::now() < deadline
        })
        .notify(|err, pause| {
            tracing::warn!(error = %err, retry_in = ?pause, "database not reachable yet, retrying");
        })
        .await
        .context("database migration")
}
