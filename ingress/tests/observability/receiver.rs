//! A tiny OpenTelemetry collector: accepts OTLP/HTTP `POST /v1/traces` with protocol
//! `http/json` and keeps every span it is sent.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{HttpResponse, dev::ServerHandle, web};
use serde_json::Value;
use shared::telemetry::TelemetryGuard;

/// Span kinds as OTLP numbers them.
pub const SERVER: i64 = 2;
pub const PRODUCER: i64 = 4;
pub const CONSUMER: i64 = 5;

/// One exported span, as much of it as the tests look at.
#[derive(Debug, Clone)]
pub struct ExportedSpan {
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    pub name: String,
    pub kind: i64,
    /// String, integer and boolean attributes, as text.
    pub attributes: BTreeMap<String, String>,
}

impl ExportedSpan {
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

type Spans = Arc<Mutex<Vec<ExportedSpan>>>;

pub struct Receiver {
    /// What `OTEL_EXPORTER_OTLP_ENDPOINT` would be.
    pub url: String,
    spans: Spans,
    server: ServerHandle,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let spans = Spans::default();
        let kept = web::Data::new(Arc::clone(&spans));
        let (url, handle) = shared::testkit::http_stub(move |routes| {
            routes
                .app_data(kept.clone())
                .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                .route("/v1/traces", web::post().to(receive));
        });
        Receiver {
            url,
            spans,
            server: handle,
        }
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ExportedSpan> {
        self.spans.lock().expect("spans").clone()
    }

    /// Flushes the exporter until `done` accepts the spans received (at most 10 s).
    pub async fn wait_for<T>(
        &self,
        telemetry: &Arc<TelemetryGuard>,
        done: impl Fn(&[ExportedSpan]) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let flushing = Arc::clone(telemetry);
            tokio::task::spawn_blocking(move || flushing.flush())
                .await
                .expect("flush");
            let spans = self.spans();
            if let Some(found) = done(&spans) {
                return found;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the expected spans did not arrive; received: {spans:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn stop(self) {
        self.server.stop(true).await;
    }
}

async fn receive(body: web::Bytes, spans: web::Data<Spans>) -> HttpResponse {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return HttpResponse::BadRequest().finish();
    };
    let mut received = Vec::new();
    for resource in array(&request["resourceSpans"]) {
        for scope in array(&resource["scopeSpans"]) {
            received.extend(array(&scope["spans"]).iter().map(exported));
        }
    }
    spans.lock().expect("spans").extend(received);
    HttpResponse::Ok().json(serde_json::json!({}))
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn exported(span: &Value) -> ExportedSpan {
    let attributes = array(&span["attributes"])
        .iter()
        .filter_map(|attribute| {
            let value = &attribute["value"];
            let value = ["stringValue", "intValue", "boolValue", "doubleValue"]
                .into_iter()
                .find_map(|kind| value.get(kind))?;
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            Some((text(&attribute["key"]), value))
        })
        .collect();
    ExportedSpan {
        trace_id: text(&span["traceId"]),
        span_id: text(&span["spanId"]),
        parent_span_id: text(&span["parentSpanId"]),
        name: text(&span["name"]),
        kind: span["kind"].as_i64().unwrap_or_default(),
        attributes,
    }
}
