//! Logging, tracing and metrics set-up shared by the services.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::{Config, LogFormat, Service};

/// Installs the global tracing subscriber (logs as text or JSON). Call once, at start-up.
pub fn init(config: &Config, service: Service) {
    let _ = service;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.log_format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true),
            )
            .try_init(),
        LogFormat::Text => registry.with(tracing_subscriber::fmt::layer()).try_init(),
    };
    if let Err(err) = result {
        eprintln!("tracing subscriber already installed: {err}");
    }
}

/// The process-wide Prometheus recorder, installed on first use (tests run several
/// services in one process, so it is shared).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (e.g. by a test harness); the
            // handle still renders this one's metrics, which is all /metrics shows.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
