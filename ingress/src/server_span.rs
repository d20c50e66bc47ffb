//! The server span of a webhook call (OpenTelemetry HTTP semantic conventions). It is the
//! root of the call's trace, or continues the caller's trace when it sent a `traceparent`.
//!
//! A `tracing` span rather than the actix OpenTelemetry middleware: every other span of the
//! call (`send`, and through the AMQP headers the executor's) is a `tracing` span, so one
//! mechanism parents them all, health probes make no spans, and the span can carry the
//! workflow mode and execution id once they are known.

use std::collections::BTreeMap;

use actix_web::{
    HttpRequest,
    http::{StatusCode, Version, header},
};
use tracing::{Span, field::Empty};

/// A span for one call to the webhook of `key`, not yet entered (so that the caller's trace
/// can still become its parent).
pub fn webhook(request: &HttpRequest, key: &str) -> Span {
    let connection = request.connection_info();
    let span = tracing::info_span!(
        "webhook",
        otel.name = "POST /api/webhook:trigger/{key}",
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = "POST",
        http.route = "/api/webhook:trigger/{key}",
        http.response.status_code = Empty,
        url.path = request.path(),
        url.scheme = connection.scheme(),
        server.address = connection.host(),
        client.address = Empty,
        network.peer.address = Empty,
        network.protocol.version = protocol_version(request.version()),
        user_agent.original = Empty,
        key = %key,
        mode = Empty,
        execution_id = Empty,
    );
    if let Some(client) = connection.realip_remote_addr() {
        span.record("client.address", client);
    }
    if let Some(peer) = request.peer_addr() {
        span.record("network.peer.address", tracing::field::display(peer.ip()));
    }
    if let Some(agent) = header_text(request, header::USER_AGENT.as_str()) {
        span.record("user_agent.original", agent);
    }
    let carried: BTreeMap<String, String> = ["traceparent", "tracestate"]
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), header_text(request, name)?.to_owned())))
        .collect();
    shared::telemetry::continue_from(&span, &carried);
    span
}

/// Records the answer; a 5xx marks the span as failed (a 4xx is the caller's error).
pub fn record_status(span: &Span, status: StatusCode) {
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "error");
    }
}

fn header_text<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request.headers().get(name)?.to_str().ok()
}

fn protocol_version(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "1.1",
    }
}
