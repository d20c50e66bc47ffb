//! The actix application: extractor settings, health endpoints and the guarded `/api` scope.

use std::sync::Arc;

use actix_web::{
    error::{JsonPayloadError, PathError, QueryPayloadError},
    middleware::from_fn,
    web,
};
use metrics_exporter_prometheus::PrometheusHandle;
use shared::health::Health;

use crate::auth::{self, AdminAuth, InternalAuth};
use crate::console::Console;
use crate::error::ApiError;
use crate::routes::{self, spec::OpenApiJson};
use crate::state::AppState;

/// Largest request body: workflow documents and parse examples.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Everything the application is built from, cloned into every worker.
#[derive(Clone)]
pub struct Parts {
    /// Handler state.
    pub state: web::Data<AppState>,
    /// The bearer-token policy of `/api`.
    pub auth: web::Data<AdminAuth>,
    /// The bearer-token policy of `/internal`.
    pub internal_auth: web::Data<InternalAuth>,
    /// The rendered OpenAPI document.
    pub openapi: web::Data<OpenApiJson>,
    /// Readiness.
    pub health: Arc<Health>,
    /// Prometheus renderer.
    pub metrics: PrometheusHandle,
    /// The web console's files.
    pub console: Console,
}

/// Registers everything the service serves.
pub fn configure(cfg: &mut web::ServiceConfig, parts: &Parts) {
    cfg.app_data(json_config())
        .app_data(query_config())
        .app_data(path_config())
        .app_data(parts.state.clone())
        .app_data(parts.auth.clone())
        .app_data(parts.internal_auth.clone())
        .app_data(parts.openapi.clone());
    shared::health::configure(cfg, parts.health.clone(), parts.metrics.clone());
    // Trigger definitions, secrets included: for ingress, with its own token.
    cfg.service(
        web::scope("/internal")
            .wrap(from_fn(auth::require::<InternalAuth>))
            .service(routes::triggers::get)
            .default_service(web::to(routes::unrouted::unrouted)),
    );
    cfg.service(
        utoipa_actix_web::scope("/api")
            .wrap(from_fn(auth::require::<AdminAuth>))
            .configure(routes::configure)
            .default_service(web::to(routes::unrouted::unrouted)),
    );
    parts.console.configure(cfg);
}

fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(BODY_LIMIT)
        // Clients that forget the Content-Type still mean JSON here.
        .content_type_required(false)
        .error_handler(|err, _req| {
            match err {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => ApiError::PayloadTooLarge,
                JsonPayloadError::Deserialize(err) => ApiError::bad_request(
                    "invalid_json",
                    format!("the request body is not valid JSON for this call: {err}"),
                ),
                _ => ApiError::bad_request("invalid_json", "the request body could not be read"),
            }
            .into()
        })
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let QueryPayloadError::Deserialize(err) = err else {
            return ApiError::bad_request("invalid_query", "the query string is not valid").into();
        };
        ApiError::bad_request(
            "invalid_query",
            format!("the query string is not valid: {err}"),
        )
        .into()
    })
}

fn path_config() -> web::PathConfig {
    // A malformed id names nothing that exists, so it is answered like an unknown one.
    web::PathConfig::default()
        .error_handler(|_: PathError, _req| ApiError::NotFound("resource").into())
}
