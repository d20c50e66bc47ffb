//! JSON log lines that carry the OpenTelemetry `trace_id` and `span_id` of the span they
//! were written in, so that a log search finds every line of one webhook call.

use std::fmt;

use opentelemetry::trace::TraceContextExt;
use tracing::{Event, Subscriber};
use tracing_subscriber::{
    fmt::{
        FmtContext, FormatEvent, FormatFields,
        format::{self, Format, Json, Writer},
        time::SystemTime,
    },
    registry::LookupSpan,
};

/// The standard JSON format with `trace_id` and `span_id` first when a span is active.
pub(super) struct WithTraceIds {
    json: Format<Json, SystemTime>,
}

impl WithTraceIds {
    pub(super) fn new() -> Self {
        WithTraceIds {
            json: format::format()
                .json()
                .with_current_span(true)
                .with_span_list(false),
        }
    }
}

impl<S, N> FormatEvent<S, N> for WithTraceIds
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = String::new();
        self.json.format_event(ctx, Writer::new(&mut line), event)?;
        // The OpenTelemetry layer makes the entered span's context current; outside any
        // span there is none and the line is left as it is.
        let context = opentelemetry::Context::current();
        let span = context.span();
        let ids = span.span_context();
        match line.strip_prefix('{') {
            Some(rest) if ids.is_valid() => write!(
                writer,
                "{{\"trace_id\":\"{}\",\"span_id\":\"{}\",{rest}",
                ids.trace_id(),
                ids.span_id()
            ),
            _ => writer.write_str(&line),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        io,
        sync::{Arc, Mutex},
    };

    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use serde_json::Value;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::{fmt::format::JsonFields, layer::SubscriberExt};

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("lines").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Lines {
        fn parsed(&self) -> Vec<Value> {
            let bytes = self.0.lock().expect("lines").clone();
            String::from_utf8(bytes)
                .expect("utf-8")
                .lines()
                .map(|line| serde_json::from_str(line).expect("each line is JSON"))
                .collect()
        }
    }

    #[test]
    fn lines_written_in_a_span_carry_its_trace_and_span_ids() {
        let lines = Lines::default();
        let writer = lines.clone();
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(JsonFields::new())
                    .event_format(WithTraceIds::new())
                    .with_writer(move || writer.clone()),
            )
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));

        let (trace_id, span_id) = tracing::subscriber::with_default(subscriber, || {
            tracing::info!("outside");
            let span = tracing::info_span!("webhook", mode = "sync");
            let ids = span.context().span().span_context().clone();
            span.in_scope(|| tracing::info!(status = 200, "inside"));
            (ids.trace_id().to_string(), ids.span_id().to_string())
        });

        let parsed = lines.parsed();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0]["fields"]["message"], "outside");
        assert!(parsed[0].get("trace_id").is_none());
        assert_eq!(parsed[1]["fields"]["message"], "inside");
        assert_eq!(parsed[1]["fields"]["status"], 200);
        assert_eq!(parsed[1]["trace_id"], trace_id.as_str());
        assert_eq!(parsed[1]["span_id"], span_id.as_str());
        assert_eq!(parsed[1]["span"]["mode"], "sync");
        assert_eq!(trace_id.len(), 32);
    }
}
