//! Health, readiness, version, metrics, API docs, shutdown.

use crate::support::{TestServer, made};

#[tokio::test]
async fn operational_endpoints_answer() {
    let server = TestServer::start(&[("COMMIT_SHA", "abc123")]).await;
    let health: serde_json::Value = server.get("/v1/health").await.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["commit_sha"], "abc123");

    let ready = server.get("/v1/ready").await;
    assert_eq!(ready.status(), 200);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], "ok");

    let version: serde_json::Value = server.get("/v1/version").await.json().await.unwrap();
    assert!(
        version["pipeline_version"]
            .as_str()
            .unwrap()
            .contains(version["model_id"].as_str().unwrap())
    );
    assert!(
        version["model_labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "invoice")
    );

    let openapi: serde_json::Value = server.get("/openapi.json").await.json().await.unwrap();
    for path in [
        "/v1/files",
        "/v1/jobs/{job_id}",
        "/v1/health",
        "/v1/ready",
        "/v1/version",
        "/metrics",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "openapi lacks {path}");
    }
    let docs = server.get("/docs/").await;
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger"), "docs page: {html}");
    assert!(
        !html.contains("https://"),
        "the docs page must not load assets from the internet"
    );
}

#[tokio::test]
async fn metrics_count_requests_and_files() {
    let server = TestServer::start(&[]).await;
    let files = vec![("a.txt".to_owned(), made("form", "txt", 0))];
    assert_eq!(server.upload(&files).await.status(), 200);
    let text = server.get("/metrics").await.text().await.unwrap();
    for metric in [
        "heron_http_requests_total",
        "heron_http_request_duration_seconds",
        "heron_files_classified_total",
        "heron_extraction_seconds",
        "heron_classification_seconds",
        "heron_queue_pending_tasks",
    ] {
        assert!(text.contains(metric), "metrics lack {metric}:\n{text}");
    }
    assert!(text.contains("route=\"/v1/files\""), "{text}");
    assert!(text.contains("label=\"form\""), "{text}");
}

#[tokio::test]
async fn logs_are_json_with_the_request_id() {
    let server = TestServer::start(&[]).await;
    let files = vec![("a.txt".to_owned(), made("form", "txt", 0))];
    server
        .upload_with(
            &files,
            Some(crate::support::API_KEY),
            &[("x-request-id", "trace-me-7")],
        )
        .await;
    let log = server.log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(!lines.is_empty(), "no JSON log lines:\n{log}");
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["request_id"] == "trace-me-7"),
        "no log line carries the request id:\n{log}"
    );
    assert!(
        !log.contains(crate::support::API_KEY),
        "the API key must never be logged"
    );
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let mut server = TestServer::start(&[]).await;
    let status = server.terminate();
    assert!(status.success(), "exit status {status}");
    assert!(
        server.log().contains("shutdown complete"),
        "{}",
        server.log()
    );
}
