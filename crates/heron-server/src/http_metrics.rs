//! Request counts and latencies by route and status.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

pub async fn layer(request: Request, next: Next) -> Response {
    let started = Instant::now();
    // The route pattern, not the raw path: job ids must not become labels.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let seconds = started.elapsed().as_secs_f64();
    metrics::counter!("heron_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status.clone())
        .increment(1);
    let quiet = route == "/metrics" || route == "/v1/health" || route == "/v1/ready";
    metrics::histogram!("heron_http_request_duration_seconds", "method" => method, "route" => route, "status" => status)
        .record(seconds);
    if !quiet {
        tracing::info!(
            status = response.status().as_u16(),
            ms = seconds * 1000.0,
            "request finished"
        );
    }
    response
}
