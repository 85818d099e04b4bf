//! Every documented error status, with the original's envelope.

use crate::support::{API_KEY, TestServer, assert_error, made};

fn one_text_file() -> Vec<(String, Vec<u8>)> {
    vec![("a.txt".to_owned(), made("form", "txt", 0))]
}

#[tokio::test]
async fn authentication_errors_are_401() {
    let server = TestServer::start(&[]).await;
    assert_error(
        server.upload_with(&one_text_file(), None, &[]).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        server
            .upload_with(&one_text_file(), Some("wrong"), &[])
            .await,
        401,
        "unauthorized",
    )
    .await;
    let response = server
        .client
        .get(server.url("/v1/jobs/abc"))
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthorized").await;
    // The key is also accepted as a bearer token.
    let response = server
        .client
        .get(server.url("/v1/jobs/abc"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "job_not_found").await;
}

#[tokio::test]
async fn request_shape_errors() {
    let server = TestServer::start(&[("MAX_BATCH_SIZE", "12"), ("MAX_FILE_SIZE_MB", "0.01")]).await;
    // A form with a field but no part named "files".
    let form = reqwest::multipart::Form::new().text("note", "nothing attached");
    let response = server
        .client
        .post(server.url("/v1/files"))
        .header("x-api-key", API_KEY)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "no_files").await;

    let thirteen: Vec<(String, Vec<u8>)> = (0..13)
        .map(|i| (format!("f{i}.txt"), b"hello".to_vec()))
        .collect();
    assert_error(server.upload(&thirteen).await, 413, "batch_too_large").await;

    let big = vec![("big.txt".to_owned(), vec![b'a'; 20 * 1024])];
    assert_error(server.upload(&big).await, 413, "file_too_large").await;

    let executable = vec![("setup.exe".to_owned(), b"MZ....".to_vec())];
    assert_error(
        server.upload(&executable).await,
        415,
        "unsupported_extension",
    )
    .await;

    let response = server
        .client
        .post(server.url("/v1/files"))
        .header("x-api-key", API_KEY)
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\nunterminated")
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "invalid_multipart").await;

    let response = server
        .client
        .post(server.url("/v1/files"))
        .header("x-api-key", API_KEY)
        .body("not multipart")
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "invalid_multipart").await;
}

#[tokio::test]
async fn unknown_things_are_404_and_wrong_methods_405() {
    let server = TestServer::start(&[]).await;
    assert_error(
        server.get("/v1/jobs/0123456789abcdef").await,
        404,
        "job_not_found",
    )
    .await;
    assert_error(server.get("/v1/nothing-here").await, 404, "not_found").await;
    let response = server
        .client
        .delete(server.url("/v1/health"))
        .send()
        .await
        .unwrap();
    assert_error(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn invalid_settings_stop_start_up_naming_the_setting() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_heron"))
        .args(["--data-dir", "/nonexistent/never", "serve"])
        .env("CONFIDENCE_THRESHOLD", "high")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CONFIDENCE_THRESHOLD"), "{stderr}");
}
