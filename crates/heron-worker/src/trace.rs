//! Carrying a trace across the queue: the request that creates a job
//! records its W3C `traceparent`; the worker that processes a task of the
//! job makes its span a child of it, so one trace covers API → queue →
//! worker → pipeline stages. Without an OpenTelemetry layer installed
//! (no `OTEL_EXPORTER_OTLP_ENDPOINT`), spans carry no context and nothing
//! is recorded.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The `traceparent` of the current span, when it is being traced.
pub fn current_traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    let mut carrier: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove("traceparent")
}

/// Make `span` a child of the span `traceparent` names.
pub fn set_parent(span: &tracing::Span, traceparent: &str) {
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    let _ = span.set_parent(context);
}
