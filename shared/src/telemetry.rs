//! Logging, tracing (OpenTelemetry over OTLP) and metrics set-up shared by the services,
//! and W3C trace-context propagation through AMQP headers.

use std::{collections::BTreeMap, sync::OnceLock};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry::{
    global,
    propagation::{Extractor, Injector},
    trace::TracerProvider as _,
};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::{Config, LogFormat, Service};

/// Errors setting up telemetry.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// `OTEL_EXPORTER_OTLP_PROTOCOL` names no supported protocol.
    #[error("unsupported OTLP protocol {0:?}: use grpc, http/protobuf or http/json")]
    Protocol(String),
    /// The exporter could not be built.
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
}

/// Keeps the tracer provider; [`TelemetryGuard::shutdown`] flushes pending spans.
#[must_use = "dropping the guard without shutdown loses buffered spans"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Flushes and stops the exporter. Blocking: call it from `spawn_blocking`.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(err) = provider.shutdown()
        {
            eprintln!("flushing spans failed: {err}");
        }
    }
}

/// Builds the OTLP tracer provider when an endpoint is configured.
pub fn tracer_provider(
    config: &Config,
    service: Service,
) -> Result<Option<SdkTracerProvider>, TelemetryError> {
    let Some(endpoint) = config.otel_endpoint.as_deref().filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let protocol = config.otel_protocol.as_deref().unwrap_or("http/protobuf");
    let exporter = match protocol {
        "grpc" => SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()?,
        "http/protobuf" | "http/json" => {
            let protocol = if protocol == "http/json" {
                Protocol::HttpJson
            } else {
                Protocol::HttpBinary
            };
            let endpoint = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
            SpanExporter::builder()
                .with_http()
                .with_protocol(protocol)
                .with_endpoint(endpoint)
                .build()?
        }
        other => return Err(TelemetryError::Protocol(other.to_owned())),
    };
    let name = config
        .otel_service_name
        .clone()
        .unwrap_or_else(|| service.name().to_owned());
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name(name).build())
            .build(),
    ))
}

/// Installs the global subscriber: logs (text or JSON) and, when an OTLP endpoint is
/// configured, spans exported to it. Call once, at start-up.
pub fn init(config: &Config, service: Service) -> Result<TelemetryGuard, TelemetryError> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = tracer_provider(config, service)?;
    let otel = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("hookflow"))
            .boxed()
    });
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().boxed(),
    };
    let result = tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(otel)
        .try_init();
    if let Err(err) = result {
        eprintln!("tracing subscriber already installed: {err}");
    }
    Ok(TelemetryGuard { provider })
}

/// The process-wide Prometheus recorder, installed on first use (tests run several
/// services in one process, so it is shared).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    30.0,
                ])
                .map(|b| b.build_recorder())
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Another recorder may already be installed (e.g. by a test harness); the
            // handle still renders this one's metrics, which is all /metrics shows.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

struct HeaderInjector<'a>(&'a mut BTreeMap<String, String>);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

struct HeaderExtractor<'a>(&'a BTreeMap<String, String>);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Writes the current span's W3C trace context (`traceparent`) into message headers.
pub fn inject_current(headers: &mut BTreeMap<String, String>) {
    let context = tracing::Span::current().context();
    global::get_text_map_propagator(|p| p.inject_context(&context, &mut HeaderInjector(headers)));
}

/// Makes `span` a child of the trace context carried in `headers`, if any.
pub fn continue_from(span: &tracing::Span, headers: &BTreeMap<String, String>) {
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
    let _ = span.set_parent(parent);
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    // SIGTERM - Kubernetes sends this to start a graceful shutdown.
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, draining"),
        _ = terminate => tracing::info!("SIGTERM received, draining"),
    }
}
