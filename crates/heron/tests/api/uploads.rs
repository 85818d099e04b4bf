//! Large files: resumable uploads (tus 1.0.0) with a connection cut
//! midway and resumed, and presigned uploads straight into the
//! S3-compatible test server.

use std::io::Write;
use std::time::{Duration, Instant};

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::support::{API_KEY, TestServer, assert_error, json_of, made, shared_storage};

/// A tus request with the test key.
fn tus(server: &TestServer, method: &str, path: &str) -> reqwest::RequestBuilder {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    server
        .client
        .request(method, server.url(path))
        .header("x-api-key", API_KEY)
        .header("tus-resumable", "1.0.0")
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Declare an upload of `length` bytes named `filename`; its path.
async fn create(server: &TestServer, filename: &str, length: usize) -> reqwest::Response {
    let name = base64::engine::general_purpose::STANDARD.encode(filename);
    tus(server, "POST", "/v1/uploads")
        .header("upload-length", length.to_string())
        .header(
            "upload-metadata",
            format!("filename {name},filetype YXBwbGljYXRpb24vcGRm"),
        )
        .send()
        .await
        .expect("POST /v1/uploads")
}

async fn patch(server: &TestServer, path: &str, offset: usize, bytes: &[u8]) -> reqwest::Response {
    tus(server, "PATCH", path)
        .header("upload-offset", offset.to_string())
        .header("content-type", "application/offset+octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .expect("PATCH")
}

async fn head_offset(server: &TestServer, path: &str) -> usize {
    let response = tus(server, "HEAD", path).send().await.expect("HEAD");
    assert_eq!(response.status(), 200, "HEAD {path}");
    assert_eq!(header(&response, "cache-control"), "no-store");
    header(&response, "upload-offset")
        .parse()
        .expect("Upload-Offset")
}

/// Send a `PATCH` declaring the whole rest of the file but only `sent`
/// of its bytes, then close the connection, like a phone losing signal.
fn patch_and_cut(server: &TestServer, path: &str, offset: usize, rest: &[u8], sent: usize) {
    let address = server
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&address).expect("connecting");
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {address}\r\nx-api-key: {API_KEY}\r\n\
         Tus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\n\
         Content-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
        rest.len()
    );
    stream.write_all(head.as_bytes()).expect("headers");
    stream.write_all(&rest[..sent]).expect("first bytes");
    stream.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(300));
    stream
        .shutdown(std::net::Shutdown::Both)
        .expect("cutting the connection");
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn a_resumable_upload_survives_a_cut_connection_and_is_classified() {
    let server = TestServer::start(&[("MAX_FILE_SIZE_MB", "2")]).await;

    // Discovery, open to all.
    let options = server
        .client
        .request(reqwest::Method::OPTIONS, server.url("/v1/uploads"))
        .send()
        .await
        .expect("OPTIONS");
    assert_eq!(options.status(), 204);
    assert_eq!(header(&options, "tus-version"), "1.0.0");
    assert_eq!(
        header(&options, "tus-extension"),
        "creation,expiration,termination"
    );
    assert_eq!(
        header(&options, "tus-max-size"),
        (2 * 1024 * 1024).to_string()
    );

    // Refusals before anything is stored.
    let no_version = server
        .client
        .post(server.url("/v1/uploads"))
        .header("x-api-key", API_KEY)
        .header("upload-length", "10")
        .send()
        .await
        .expect("POST");
    assert_eq!(header(&no_version, "tus-version"), "1.0.0");
    assert_error(no_version, 412, "tus_version_unsupported").await;
    assert_error(
        create(&server, "huge.pdf", 3 * 1024 * 1024).await,
        413,
        "file_too_large",
    )
    .await;
    assert_error(
        create(&server, "setup.exe", 100).await,
        415,
        "unsupported_extension",
    )
    .await;
    let no_length = tus(&server, "POST", "/v1/uploads")
        .send()
        .await
        .expect("POST");
    assert_error(no_length, 400, "invalid_upload_header").await;
    let anonymous = server
        .client
        .post(server.url("/v1/uploads"))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", "10")
        .send()
        .await
        .expect("POST");
    assert_eq!(anonymous.status(), 401);

    // A bank statement, under a useless name.
    let file = made("bank_statement", "pdf", 0);
    let created = create(&server, "scan_0042.pdf", file.len()).await;
    assert_eq!(created.status(), 201);
    assert_eq!(header(&created, "tus-resumable"), "1.0.0");
    assert!(!header(&created, "upload-expires").is_empty());
    let path = header(&created, "location");
    assert!(path.starts_with("/v1/uploads/"), "{path}");
    assert_eq!(head_offset(&server, &path).await, 0);

    // Wrong media type, wrong offset.
    let wrong_type = tus(&server, "PATCH", &path)
        .header("upload-offset", "0")
        .header("content-type", "application/pdf")
        .body(file.clone())
        .send()
        .await
        .expect("PATCH");
    assert_error(wrong_type, 415, "invalid_content_type").await;
    assert_error(
        patch(&server, &path, 5, &file[5..]).await,
        409,
        "upload_offset_mismatch",
    )
    .await;

    // A first chunk, then a request that breaks off partway.
    let first = 4096.min(file.len() / 4);
    let answer = patch(&server, &path, 0, &file[..first]).await;
    assert_eq!(answer.status(), 204);
    assert_eq!(header(&answer, "upload-offset"), first.to_string());
    let rest = &file[first..];
    let sent = rest.len() / 2;
    patch_and_cut(&server, &path, first, rest, sent);

    // What arrived before the cut is kept: resume from there.
    let deadline = Instant::now() + Duration::from_secs(10);
    let resume_at = loop {
        let offset = head_offset(&server, &path).await;
        if offset > first {
            break offset;
        }
        assert!(
            Instant::now() < deadline,
            "nothing of the cut request kept\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(resume_at <= first + sent, "{resume_at} > {}", first + sent);
    let last = patch(&server, &path, resume_at, &file[resume_at..]).await;
    assert_eq!(last.status(), 204);
    assert_eq!(header(&last, "upload-offset"), file.len().to_string());
    let job_id = header(&last, "heron-job-id");
    assert!(!job_id.is_empty(), "the last PATCH names the job");

    // Classified like any upload; the stored original is the whole file.
    let job = server.wait_for_job(&job_id, Duration::from_secs(120)).await;
    assert_eq!(job["status"], "done", "{job}");
    let result = &job["results"][0];
    assert_eq!(result["filename"], "scan_0042.pdf");
    assert_eq!(result["label"], "bank_statement", "{result}");
    let document = result["document_id"].as_str().expect("document id");
    let stored = server.get_json(&format!("/v1/documents/{document}")).await;
    assert_eq!(
        stored["sha256"],
        sha256(&file),
        "the joined file is the original"
    );

    // The JSON view, a retried last PATCH, and the parts gone.
    let status = json_of(server.get(&path).await).await;
    assert_eq!(status["job_id"], job_id.as_str());
    assert_eq!(status["received"], file.len());
    assert_eq!(status["kind"], "resumable");
    let retried = patch(&server, &path, file.len(), &[]).await;
    assert_eq!(retried.status(), 204);
    assert_eq!(header(&retried, "heron-job-id"), job_id);
    let store = server.open_store().await;
    assert!(
        store
            .upload_parts(path.trim_start_matches("/v1/uploads/"))
            .await
            .expect("parts")
            .is_empty()
    );

    // Bytes beyond the declared length are refused as they arrive.
    let small = create(&server, "note.txt", 10).await;
    let small_path = header(&small, "location");
    let over = patch(&server, &small_path, 0, b"twenty bytes of text").await;
    assert_error(over, 413, "file_too_large").await;
    assert_eq!(head_offset(&server, &small_path).await, 0);

    // Termination: the upload is gone. Another tenant never sees one.
    assert_eq!(
        tus(&server, "DELETE", &small_path)
            .send()
            .await
            .expect("DELETE")
            .status(),
        204
    );
    let gone = tus(&server, "HEAD", &small_path)
        .send()
        .await
        .expect("HEAD");
    assert_eq!(gone.status(), 404);
    let other = server.create_key("other-tenant", "admin");
    let foreign = server
        .client
        .head(server.url(&path))
        .header("x-api-key", other)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .expect("HEAD");
    assert_eq!(foreign.status(), 404);

    // Presigned URLs need object storage.
    if !shared_storage() {
        let refused = server
            .call(
                "POST",
                "/v1/uploads/presigned",
                Some(API_KEY),
                Some(serde_json::json!({"filename": "a.pdf", "size_bytes": 10})),
            )
            .await;
        assert_error(refused, 400, "presigned_uploads_unavailable").await;
    }
}

/// Ask for a presigned URL for `size` bytes named `filename`.
async fn presign(server: &TestServer, filename: &str, size: usize) -> serde_json::Value {
    let response = server
        .call(
            "POST",
            "/v1/uploads/presigned",
            Some(API_KEY),
            Some(serde_json::json!({"filename": filename, "size_bytes": size})),
        )
        .await;
    let status = response.status();
    let body = response.text().await.expect("body");
    assert_eq!(status, 201, "{body}\n{}", server.log());
    serde_json::from_str(&body).expect("JSON")
}

async fn put(url: &str, bytes: Vec<u8>) -> u16 {
    reqwest::Client::new()
        .put(url)
        .body(bytes)
        .send()
        .await
        .expect("PUT to the bucket")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_presigned_upload_goes_straight_to_the_bucket_and_is_checked() {
    let mut env: Vec<(&str, String)> = vec![("HERON_PRESIGN_EXPIRY_SECS", "10".to_owned())];
    if !shared_storage() {
        let Some(bucket) = heron_store::testing::s3_test_location() else {
            return;
        };
        env.push(("HERON_BLOB_STORE", bucket));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = TestServer::start(&env).await;

    let file = made("invoice", "pdf", 0);
    let first_asked = Instant::now();
    let ticket = presign(&server, "IMG_2231.pdf", file.len()).await;
    assert_eq!(ticket["method"], "PUT");

    let url = ticket["url"].as_str().expect("url").to_owned();
    let complete = ticket["complete_url"]
        .as_str()
        .expect("complete_url")
        .to_owned();

    // Nothing put yet.
    let early = server.call("POST", &complete, Some(API_KEY), None).await;
    assert_error(early, 409, "upload_incomplete").await;
    // The URL allows that key only.
    let elsewhere = url.replacen("/incoming/", "/incoming/x", 1);
    assert_eq!(put(&elsewhere, file.clone()).await, 403, "another key");
    // An object of another size than declared is refused and deleted.
    assert_eq!(
        put(&url, [file.clone(), b"padding".to_vec()].concat()).await,
        200
    );
    let oversize = server.call("POST", &complete, Some(API_KEY), None).await;
    assert_error(oversize, 422, "upload_size_mismatch").await;
    let emptied = server.call("POST", &complete, Some(API_KEY), None).await;
    assert_error(emptied, 409, "upload_incomplete").await;
    assert_eq!(put(&url, file.clone()).await, 200);

    let accepted = server.call("POST", &complete, Some(API_KEY), None).await;
    assert_eq!(accepted.status(), 202);
    let job_id = json_of(accepted).await["job_id"]
        .as_str()
        .expect("job")
        .to_owned();
    let again = json_of(server.call("POST", &complete, Some(API_KEY), None).await).await;
    assert_eq!(
        again["job_id"],
        job_id.as_str(),
        "a repeat answers the same job"
    );
    let job = server.wait_for_job(&job_id, Duration::from_secs(120)).await;
    let result = &job["results"][0];
    assert_eq!(result["filename"], "IMG_2231.pdf");
    assert_eq!(result["label"], "invoice", "{result}");

    // Content that is no document is refused once it is in the bucket.
    let mut binary = b"\x7fELF\x02\x01\x01\x00".to_vec();
    binary.resize(4096, 0);
    let ticket = presign(&server, "statement.pdf", binary.len()).await;
    assert_eq!(put(ticket["url"].as_str().expect("url"), binary).await, 200);
    let refused = server
        .call(
            "POST",
            ticket["complete_url"].as_str().expect("url"),
            Some(API_KEY),
            None,
        )
        .await;
    assert_error(refused, 415, "unsupported_content").await;

    // The URL expires (HERON_PRESIGN_EXPIRY_SECS=10 here).
    let waited = first_asked.elapsed();
    if waited < Duration::from_secs(12) {
        tokio::time::sleep(Duration::from_secs(12) - waited).await;
    }
    assert_eq!(put(&url, file).await, 403, "an expired URL");
}
