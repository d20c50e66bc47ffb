//! Logging, tracing (OpenTelemetry over OTLP) and metrics set-up shared by the services,
//! and W3C trace-context propagation through AMQP headers.

mod json_log;

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
use tracing_subscriber::{
    EnvFilter, Layer, fmt::format::JsonFields, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::config::{Config, LogFormat, OtlpProtocol};

/// Errors setting up telemetry.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
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
    /// Exports the spans buffered so far without stopping the exporter (tests read them).
    /// Blocking: call it from `spawn_blocking`.
    pub fn flush(&self) {
        if let Some(provider) = &self.provider
            && let Err(err) = provider.force_flush()
        {
            eprintln!("flushing spans failed: {err}");
        }
    }

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
pub fn tracer_provider(config: &Config) -> Result<Option<SdkTracerProvider>, TelemetryError> {
    let Some(endpoint) = config.otel_endpoint.as_deref().filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let exporter = match config.otel_protocol {
        OtlpProtocol::Grpc => SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()?,
        OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => {
            let protocol = match config.otel_protocol {
                OtlpProtocol::HttpJson => Protocol::HttpJson,
                _ => Protocol::HttpBinary,
            };
            let endpoint = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
            SpanExporter::builder()
                .with_http()
                .with_protocol(protocol)
                .with_endpoint(endpoint)
                .build()?
        }
    };
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource(config))
            .build(),
    ))
}

fn resource(config: &Config) -> Resource {
    Resource::builder()
        .with_service_name(config.otel_service_name.clone())
        .build()
}

/// Installs the global subscriber: logs (text, or JSON carrying `trace_id` and `span_id`)
/// filtered by `RUST_LOG`, and spans exported over OTLP when an endpoint is configured.
/// Call once, at start-up.
pub fn init(config: &Config) -> Result<TelemetryGuard, TelemetryError> {
    // The OTLP exporter's HTTP client takes the process's crypto provider.
    crate::tls::provider();
    global::set_text_map_propagator(TraceContextPropagator::new());
    // Without an endpoint spans are still made, just never exported: traceparent headers
    // keep flowing through the services and the logs still carry trace ids.
    let provider = tracer_provider(config)?.unwrap_or_else(|| {
        SdkTracerProvider::builder()
            .with_resource(resource(config))
            .build()
    });
    // For libraries that trace through the global provider rather than `tracing`.
    global::set_tracer_provider(provider.clone());
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("hookflow"))
        .with_filter(EnvFilter::new(SPAN_FILTER));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .fmt_fields(JsonFields::new())
            .event_format(json_log::WithTraceIds::new())
            .with_filter(filter)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().with_filter(filter).boxed(),
    };
    let result = tracing_subscriber::registry()
        .with(logs)
        .with(otel)
        .try_init();
    if let Err(err) = result {
        eprintln!("tracing subscriber already installed: {err}");
    }
    Ok(TelemetryGuard {
        provider: Some(provider),
    })
}

/// Spans exported: ours at `info`, independent of `RUST_LOG` (which only governs logs), and
/// none from the HTTP/gRPC stack the exporter itself uses, so exporting never makes spans.
const SPAN_FILTER: &str = "info,h2=off,hyper=off,hyper_util=off,tonic=off,tower=off,reqwest=off,\
                           opentelemetry=off,opentelemetry_sdk=off,opentelemetry_otlp=off";

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

/// Makes `span` a child of the trace context carried in `headers`, if any. Call it before
/// `span` is first entered: entering starts the span, and a started span keeps its parent.
pub fn continue_from(span: &tracing::Span, headers: &BTreeMap<String, String>) {
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
    if let Err(err) = span.set_parent(parent) {
        tracing::debug!(error = %err, "cannot continue the carried trace");
    }
}
