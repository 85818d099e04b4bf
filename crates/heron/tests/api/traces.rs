//! OpenTelemetry: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, one trace covers
//! the upload request, the worker's task (across the queue, in another
//! process) and the pipeline's stages. The collector is a real OTLP/HTTP
//! receiver on loopback, written here: it accepts `POST /v1/traces` in
//! OTLP's JSON encoding and keeps the spans.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::jobs::files;
use crate::support::{Role, TestServer};

/// A span as the collector received it.
#[derive(Debug, Clone)]
struct Span {
    service: String,
    trace_id: String,
    span_id: String,
    parent: String,
    name: String,
}

async fn collector() -> (String, Arc<Mutex<Vec<Span>>>) {
    let spans: Arc<Mutex<Vec<Span>>> = Arc::default();
    let sink = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                let request: serde_json::Value = match serde_json::from_slice(&body) {
                    Ok(request) => request,
                    Err(_) => return axum::http::StatusCode::BAD_REQUEST,
                };
                sink.lock().unwrap().extend(spans_of(&request));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), spans)
}

/// The spans of an `ExportTraceServiceRequest` in OTLP/JSON.
fn spans_of(request: &serde_json::Value) -> Vec<Span> {
    let mut spans = Vec::new();
    for resource in request["resourceSpans"].as_array().into_iter().flatten() {
        let service = resource["resource"]["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["key"] == "service.name")
            .and_then(|a| a["value"]["stringValue"].as_str())
            .unwrap_or_default()
            .to_owned();
        for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
            for span in scope["spans"].as_array().into_iter().flatten() {
                let text = |key: &str| span[key].as_str().unwrap_or_default().to_owned();
                spans.push(Span {
                    service: service.clone(),
                    trace_id: text("traceId"),
                    span_id: text("spanId"),
                    parent: text("parentSpanId"),
                    name: text("name"),
                });
            }
        }
    }
    spans
}

#[tokio::test]
async fn one_trace_covers_the_request_the_queue_the_worker_and_the_stages() {
    let blob_dir = tempfile::tempdir().unwrap();
    let database = tempfile::tempdir().unwrap();
    let (endpoint, spans) = collector().await;
    let env: Vec<(String, String)> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("HERON_SYNC_MAX_FILES", "0"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .chain([
        (
            "HERON_DATABASE_URL".to_owned(),
            format!("sqlite://{}/heron.db", database.path().display()),
        ),
        (
            "HERON_BLOB_STORE".to_owned(),
            blob_dir.path().display().to_string(),
        ),
    ])
    .collect();
    let mut api_env = env.clone();
    api_env.push(("HERON_WORKERS".to_owned(), "0".to_owned()));
    let api = TestServer::start_role(Role::Api, &api_env).await;
    let mut worker_env = env;
    worker_env.push(("HERON_WORKERS".to_owned(), "1".to_owned()));
    let _worker = TestServer::start_role(Role::Worker, &worker_env).await;

    let job_id = api.upload_job(&files(1, false)).await;
    api.wait_for_job(&job_id, Duration::from_secs(60)).await;

    // The upload's trace: the API's request span, the worker's task span
    // under it, the pipeline and its stages under the task.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let spans = spans.lock().unwrap().clone();
        let upload = spans.iter().find(|s| {
            s.name == "request" && s.service == "heron-api" && {
                spans
                    .iter()
                    .any(|t| t.name == "task" && t.parent == s.span_id)
            }
        });
        if let Some(upload) = upload {
            let trace: Vec<&Span> = spans
                .iter()
                .filter(|s| s.trace_id == upload.trace_id)
                .collect();
            let task = trace.iter().find(|s| s.name == "task").unwrap();
            assert_eq!(task.service, "heron-worker", "{trace:#?}");
            let pipeline = trace
                .iter()
                .find(|s| s.name == "pipeline")
                .unwrap_or_else(|| panic!("no pipeline span: {trace:#?}"));
            assert_eq!(pipeline.parent, task.span_id, "{trace:#?}");
            let stages: BTreeSet<&str> = trace
                .iter()
                .filter(|s| s.parent == pipeline.span_id)
                .map(|s| s.name.as_str())
                .collect();
            assert!(stages.contains("stage.extract"), "{stages:?}");
            assert!(
                stages.contains("stage.metadata") || stages.contains("stage.text"),
                "{stages:?}"
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no connected trace; spans received: {spans:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
