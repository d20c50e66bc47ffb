//! `/livez`, `/readyz` and `/metrics`, the same in every service (docs/configuration.md).

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use actix_web::{HttpResponse, web};
use async_trait::async_trait;
use metrics_exporter_prometheus::PrometheusHandle;

/// One dependency that must be usable for the service to be ready.
#[async_trait]
pub trait ReadinessCheck: Send + Sync {
    /// Name shown in the `/readyz` body.
    fn name(&self) -> &'static str;
    /// Whether the dependency is usable now.
    async fn ready(&self) -> bool;
}

/// Readiness state of a service: its dependency checks and whether it is draining.
#[derive(Default)]
pub struct Health {
    draining: AtomicBool,
    checks: Vec<Arc<dyn ReadinessCheck>>,
}

impl Health {
    /// A health state with the given checks.
    pub fn new(checks: Vec<Arc<dyn ReadinessCheck>>) -> Self {
        Health {
            draining: AtomicBool::new(false),
            checks,
        }
    }

    /// Marks the start of a drain: `/readyz` answers 503 from now on.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether a drain has started.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// The names of failing checks (`draining` while draining); empty when ready.
    pub async fn failing(&self) -> Vec<&'static str> {
        let mut failing = Vec::new();
        if self.is_draining() {
            failing.push("draining");
        }
        for check in &self.checks {
            if !check.ready().await {
                failing.push(check.name());
            }
        }
        failing
    }
}

/// Registers `/livez`, `/readyz` and `/metrics` on an actix service.
pub fn configure(cfg: &mut web::ServiceConfig, health: Arc<Health>, metrics: PrometheusHandle) {
    cfg.app_data(web::Data::from(health))
        .app_data(web::Data::new(metrics))
        .route("/livez", web::get().to(livez))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(render_metrics));
}

async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

async fn readyz(health: web::Data<Health>) -> HttpResponse {
    let failing = health.failing().await;
    if failing.is_empty() {
        HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))
    } else {
        // Every 503 of the services carries Retry-After; probes ignore it, callers back off.
        HttpResponse::ServiceUnavailable()
            .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
            .json(serde_json::json!({"status": "unavailable", "failing": failing}))
    }
}

async fn render_metrics(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}

/// Ready while the broker is connected.
pub struct BrokerCheck(pub Arc<dyn crate::broker::Broker>);

#[async_trait]
impl ReadinessCheck for BrokerCheck {
    fn name(&self) -> &'static str {
        "broker"
    }
    async fn ready(&self) -> bool {
        self.0.is_ready()
    }
}

/// Ready while the database answers.
#[cfg(feature = "postgres")]
pub struct DatabaseCheck(pub deadpool_postgres::Pool);

#[cfg(feature = "postgres")]
#[async_trait]
impl ReadinessCheck for DatabaseCheck {
    fn name(&self) -> &'static str {
        "database"
    }
    async fn ready(&self) -> bool {
        crate::db::is_usable(&self.0).await
    }
}
