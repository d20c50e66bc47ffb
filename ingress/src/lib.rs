//! The webhook front door: authenticates and parses webhook calls, queues executions on
//! RabbitMQ, and waits for the reply of sync workflows. It never touches PostgreSQL.

pub mod allowed_ips;
pub mod basic_auth;
pub mod body;
pub mod budget;
pub mod context;
pub mod drain;
pub mod error;
pub mod idempotency;
mod instruments;
pub mod rate_limit;
pub mod replies;
pub mod respond;
pub mod server_span;
pub mod signature;
pub mod triggers;
pub mod webhook;

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{App, HttpResponse, HttpServer, middleware, web};
use async_trait::async_trait;
use futures_util::FutureExt;
use serde_json::json;
use shared::{
    broker::{AmqpBroker, Broker, Topology},
    config::Config,
    health::{BrokerCheck, Health, ReadinessCheck},
};
use tokio::sync::Semaphore;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    drain::Drain,
    replies::Replies,
    triggers::{ConfigApiClient, TriggerCache},
    webhook::Ingress,
};

/// Serves webhooks on `listener` over RabbitMQ until `shutdown` is cancelled, then drains.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let broker: Arc<dyn Broker> = AmqpBroker::start(&config);
    let served = serve(config, listener, Arc::clone(&broker), shutdown).await;
    broker.close().await;
    served
}

/// Serves webhooks on `listener` over `broker` (RabbitMQ, or an in-process broker in
/// tests) until `shutdown` is cancelled; in-flight calls get `shutdown_grace_secs` to finish.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    broker: Arc<dyn Broker>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let triggers = TriggerCache::new(
        ConfigApiClient::new(&config)?,
        config.trigger_cache_entries,
        Duration::from_millis(config.trigger_cache_max_age_ms),
    );
    let replies = Replies::new();
    // Followed until the server has stopped: calls still draining wait for sync replies.
    let stopped = CancellationToken::new();
    let background = TaskTracker::new();
    for task in [
        triggers::follow_changes(Arc::clone(&broker), Arc::clone(&triggers)).boxed(),
        triggers::clear_on_reconnect(Arc::clone(&broker), Arc::clone(&triggers)).boxed(),
        replies::consume(Arc::clone(&broker), Arc::clone(&replies)).boxed(),
    ] {
        background.spawn(stopped.clone().run_until_cancelled_owned(task));
    }
    let health = Arc::new(Health::new(vec![
        Arc::new(BrokerCheck(Arc::clone(&broker))),
        Arc::new(TriggerCacheCheck(Arc::clone(&triggers))),
        Arc::new(RepliesCheck(Arc::clone(&replies))),
    ]));
    let ingress = web::Data::new(Ingress {
        broker,
        triggers,
        replies,
        publishes: Semaphore::new(config.max_inflight_publishes.get()),
        max_body_bytes: config.max_body_bytes,
        shape_limits: config.shape_limits(),
        budget: budget::BodyBudget::new(config.max_buffered_bytes),
        body_read_timeout: Duration::from_millis(config.body_read_timeout_ms),
        executions_exchange: Topology::new(config.amqp_prefix.clone()).executions_exchange(),
        rate_limits: rate_limit::RateLimits::new(),
        trusted_proxies: config.trusted_proxies.clone(),
    });
    let metrics = shared::telemetry::metrics_handle();
    instruments::describe();
    let app_health = Arc::clone(&health);
    let drain = Drain::new(shutdown.clone());
    let app_drain = Arc::clone(&drain);
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(ingress.clone())
            .app_data(web::Data::from(Arc::clone(&app_drain)))
            .wrap(middleware::from_fn(drain::admit))
            // No answer, a configured one included, is to be sniffed into another type.
            .wrap(middleware::from_fn(shared::nosniff::nosniff))
            .configure(|cfg| {
                shared::health::configure(cfg, Arc::clone(&app_health), metrics.clone())
            })
            .configure(webhook::routes)
            .default_service(web::to(not_found))
    })
    // Slow or idle clients cannot hold connections open: the request head must arrive within
    // `client_request_timeout`, the body within `body_read_timeout_ms` (the handler), and the
    // process serves at most `max_connections` at once, split across its worker threads so
    // that the bound (and the memory each connection holds) does not grow with the node's cores.
    .client_request_timeout(Duration::from_millis(config.client_request_timeout_ms))
    .client_disconnect_timeout(Duration::from_secs(1))
    .workers(workers)
    .max_connections(config.max_connections.div_ceil(workers))
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(config.shutdown_grace_secs)
    .run();

    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let served = shared::shutdown::serve_http(server, &health, &shutdown, async {
        // SIGTERM: Kubernetes stops routing here once /readyz fails; until the calls in
        // progress have answered, the listener stays open and new calls get 503.
        tracing::info!("draining: no new webhook calls, finishing in-flight ones");
        let finished = tokio::time::timeout(grace, drain.finished()).await.is_ok();
        if !finished {
            tracing::warn!("grace period over; closing webhook calls still in progress");
        }
        finished
    })
    .await;
    stopped.cancel();
    background.close();
    background.wait().await;
    served
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({"error": "not_found", "message": "No such endpoint."}))
}

/// Ready while change events are followed, so cached triggers cannot go stale unseen.
struct TriggerCacheCheck(Arc<TriggerCache>);

#[async_trait]
impl ReadinessCheck for TriggerCacheCheck {
    fn name(&self) -> &'static str {
        "trigger_cache"
    }
    async fn ready(&self) -> bool {
        self.0.is_following()
    }
}

/// Ready while sync replies are consumed; without it every sync call would time out.
struct RepliesCheck(Arc<Replies>);

#[async_trait]
impl ReadinessCheck for RepliesCheck {
    fn name(&self) -> &'static str {
        "sync_replies"
    }
    async fn ready(&self) -> bool {
        self.0.is_consuming()
    }
}
