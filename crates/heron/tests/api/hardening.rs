//! Regression tests for attacks run against `heron serve`: key guessing
//! that locked valid clients out, forwarded addresses, and unauthenticated
//! bodies that the server buffered whole.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{API_KEY, TestServer, assert_error};

/// A client that shows redirects instead of following them (the sign-in
/// page answers with one).
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

async fn sign_in(server: &TestServer, credential: &str) -> reqwest::Response {
    no_redirects()
        .post(server.url("/ui/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("credential={credential}&next=%2Fui%2Fupload"))
        .send()
        .await
        .expect("POST /ui/login")
}

async fn guess(server: &TestServer, forwarded_for: Option<&str>) -> u16 {
    let mut request = server
        .client
        .get(server.url("/v1/jobs"))
        .header("x-api-key", "not-a-key-at-all");
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request
        .send()
        .await
        .expect("GET /v1/jobs")
        .status()
        .as_u16()
}

#[tokio::test]
async fn guessing_keys_from_an_address_never_locks_out_a_valid_key() {
    let server = TestServer::start(&[("HERON_AUTH_FAILURES_PER_MINUTE", "3")]).await;
    // Thirty wrong keys: three are answered 401, then the address waits.
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(guess(&server, None).await);
    }
    assert_eq!(&statuses[..3], [401, 401, 401]);
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    // A header the client wrote itself does not move it elsewhere.
    assert_eq!(guess(&server, Some("198.51.100.77")).await, 429);

    // The valid key from the same address is served: upload and read.
    let file = [("scan_0042.txt".to_owned(), b"Invoice number 42".to_vec())];
    let uploaded = server.upload(&file).await;
    assert_eq!(uploaded.status(), 200, "{:?}", uploaded.text().await);
    let jobs = server.call("GET", "/v1/jobs", Some(API_KEY), None).await;
    assert_eq!(jobs.status(), 200);

    // The sign-in page too: the valid key gets a session, a wrong one is
    // told the address is limited.
    let signed_in = sign_in(&server, API_KEY).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/ui/upload");
    assert!(signed_in.headers().contains_key("set-cookie"));
    let refused = sign_in(&server, "still-guessing").await;
    assert!(
        refused.headers()["location"]
            .to_str()
            .unwrap_or_default()
            .contains("error=limited")
    );
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_and_nobody_else_can() {
    let server = TestServer::start(&[
        ("HERON_AUTH_FAILURES_PER_MINUTE", "2"),
        ("HERON_TRUSTED_PROXIES", "127.0.0.0/8"),
    ])
    .await;
    // Behind the proxy (loopback here) each client has its own allowance.
    let first: Vec<u16> = [0; 3]
        .iter()
        .map(|_| guess(&server, Some("198.51.100.1")))
        .collect::<futures_util::future::JoinAll<_>>()
        .await;
    assert_eq!(first.iter().filter(|s| **s == 429).count(), 1, "{first:?}");
    assert_eq!(guess(&server, Some("198.51.100.2")).await, 401);
    // An address the client put before the proxy's own is not believed:
    // the proxy appended the real one (198.51.100.1, limited).
    assert_eq!(guess(&server, Some("203.0.113.5, 198.51.100.1")).await, 429);
    // The standard header works the same.
    let standard = server
        .client
        .get(server.url("/v1/jobs"))
        .header("x-api-key", "wrong")
        .header("forwarded", "for=\"198.51.100.3:5555\";proto=https")
        .send()
        .await
        .expect("GET");
    assert_eq!(standard.status(), 401);

    // Without trusted proxies the same headers change nothing.
    let direct = TestServer::start(&[("HERON_AUTH_FAILURES_PER_MINUTE", "2")]).await;
    let statuses = [
        guess(&direct, Some("198.51.100.1")).await,
        guess(&direct, Some("198.51.100.2")).await,
        guess(&direct, Some("198.51.100.3")).await,
    ];
    assert_eq!(statuses, [401, 401, 429]);
}

/// Send a request head declaring `length` bytes of body and none of them;
/// the status line the server answers with within `wait`.
async fn declare_body(server: &TestServer, head: &str, wait: Duration) -> Option<String> {
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.ok()?;
    stream.write_all(head.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        match tokio::time::timeout(deadline - Instant::now(), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buffer[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    text.lines().next().map(str::to_owned)
}

#[tokio::test]
async fn bodies_of_routes_that_take_no_files_are_bounded_before_they_are_read() {
    let server = TestServer::start(&[]).await;
    // 300 MB announced to the public sign-in form: refused at once, with
    // nothing read (the server used to buffer such bodies whole).
    let head = "POST /ui/login HTTP/1.1\r\nhost: localhost\r\n\
                content-type: application/x-www-form-urlencoded\r\n\
                content-length: 300000000\r\n\r\n";
    let status = declare_body(&server, head, Duration::from_secs(5)).await;
    assert_eq!(status.as_deref(), Some("HTTP/1.1 413 Payload Too Large"));

    // The same for an authenticated JSON route, and for a chunked body
    // that never declares its length: cut off at the limit.
    let head = format!(
        "POST /v1/types HTTP/1.1\r\nhost: localhost\r\nx-api-key: {API_KEY}\r\n\
         content-type: application/json\r\ncontent-length: 70000\r\n\r\n"
    );
    let status = declare_body(&server, &head, Duration::from_secs(5)).await;
    assert_eq!(status.as_deref(), Some("HTTP/1.1 413 Payload Too Large"));
    // 17 chunks of 4 KiB pass the limit; the stream then pauses, so the
    // client reads the answer instead of racing the closed connection
    // with more writes (a broken pipe, not the server's doing).
    let past_the_limit =
        futures_util::stream::iter((0..17).map(|_| Ok::<_, std::io::Error>(vec![b' '; 4096])));
    let paused = futures_util::stream::once(async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        Ok::<_, std::io::Error>(vec![b' '; 4096])
    });
    let chunks = futures_util::StreamExt::chain(past_the_limit, paused);
    let chunked = server
        .client
        .post(server.url("/v1/types"))
        .header("x-api-key", API_KEY)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("POST /v1/types");
    assert_error(chunked, 413, "body_too_large").await;

    // A small body is read as before, and uploads keep their own limit.
    let small = server
        .call(
            "POST",
            "/v1/types",
            Some(API_KEY),
            Some(serde_json::json!({"id": "x"})),
        )
        .await;
    assert_ne!(small.status(), 413);
    let big = vec![b'a'; 2 * 1024 * 1024];
    let uploaded = server.upload(&[("big.txt".to_owned(), big)]).await;
    assert_eq!(uploaded.status(), 200);
}

#[tokio::test]
async fn sign_in_and_out_from_another_site_are_refused() {
    let server = TestServer::start(&[]).await;
    let form = format!("credential={API_KEY}&next=%2Fui%2Fupload");
    let post = |path: &'static str, body: String, headers: Vec<(&'static str, String)>| {
        let server = &server;
        async move {
            let mut request = no_redirects()
                .post(server.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            request.send().await.expect("POST")
        }
    };
    // A page elsewhere posting the sign-in form: as the browser says
    // (Sec-Fetch-Site), or as its Origin shows.
    for headers in [
        vec![("sec-fetch-site", "cross-site".to_owned())],
        vec![("sec-fetch-site", "same-site".to_owned())],
        vec![("origin", "https://evil.example".to_owned())],
        vec![("origin", "null".to_owned())],
    ] {
        let refused = post("/ui/login", form.clone(), headers.clone()).await;
        assert!(refused.headers().get("set-cookie").is_none(), "{headers:?}");
        assert_error(refused, 403, "csrf_rejected").await;
    }
    let refused = post(
        "/ui/logout",
        "csrf=anything".to_owned(),
        vec![("sec-fetch-site", "cross-site".to_owned())],
    )
    .await;
    assert_error(refused, 403, "csrf_rejected").await;
    // The same form from Heron's own page, and from a client that is no
    // browser, signs in.
    let own_origin = server.url("").trim_end_matches('/').to_owned();
    for headers in [
        vec![("sec-fetch-site", "same-origin".to_owned())],
        vec![("origin", own_origin)],
        vec![],
    ] {
        let signed_in = post("/ui/login", form.clone(), headers.clone()).await;
        assert_eq!(signed_in.status(), 303, "{headers:?}");
        assert!(
            signed_in.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .starts_with("heron_session="),
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn head_on_a_get_route_answers_like_get_without_a_body() {
    let server = TestServer::start(&[]).await;
    for path in ["/v1/health", "/v1/version", "/v1/ready"] {
        let get = server.client.get(server.url(path)).send().await.unwrap();
        let head = server.client.head(server.url(path)).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "HEAD {path}"
        );
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path}");
    }
}

/// The session cookie a sign-in answer set.
fn session_cookie_of(response: &reqwest::Response) -> String {
    let set = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set.starts_with("heron_session="), "{set}");
    set.split(';').next().unwrap().to_owned()
}

async fn status_with_cookie(server: &TestServer, cookie: &str) -> u16 {
    server
        .client
        .get(server.url("/v1/jobs"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("GET /v1/jobs")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_ui_session_ends_with_the_key_or_token_it_came_from() {
    let secret = "hs256-secret-for-the-session-test-0123456789";
    let server = TestServer::start(&[("HERON_JWT_HS256_SECRET", secret)]).await;
    let admin = server.create_key("default", "admin");
    let reader = server.create_key("default", "reader");

    // A session opened with a key works until the key is revoked.
    let signed_in = sign_in(&server, &reader).await;
    assert_eq!(signed_in.status(), 303);
    let cookie = session_cookie_of(&signed_in);
    assert_eq!(status_with_cookie(&server, &cookie).await, 200);
    let key_id = reader.split('_').nth(1).expect("hk_<id>_<secret>");
    let revoked = server
        .call(
            "DELETE",
            &format!("/v1/admin/keys/{key_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert!(revoked.status().is_success(), "{}", revoked.status());
    assert_eq!(status_with_cookie(&server, &cookie).await, 401);

    // A session opened with a token ends at the token's `exp`, not hours
    // later.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({
            "iss": "https://dev.example", "sub": "bob", "exp": now + 3,
            "tenant": "default", "roles": ["reader"],
        }),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let signed_in = sign_in(&server, &token).await;
    assert_eq!(signed_in.status(), 303);
    let set = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let max_age: u64 = set
        .split("Max-Age=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{set}"));
    assert!(max_age <= 3, "{set}");
    let cookie = session_cookie_of(&signed_in);
    assert_eq!(status_with_cookie(&server, &cookie).await, 200);
    tokio::time::sleep(Duration::from_millis(4_200)).await;
    assert_eq!(status_with_cookie(&server, &cookie).await, 401);
}

/// `bytes` bytes of text as a stream of 4 KiB chunks of unknown length
/// (sent chunked), pausing for `pause` after `before_pause` bytes so that
/// the server's answer arrives before more is written.
fn text_stream(bytes: usize, before_pause: usize, pause: Duration) -> reqwest::Body {
    let chunk = 4096;
    let chunks = (0..bytes.div_ceil(chunk)).map(move |i| (i, chunk.min(bytes - i * chunk)));
    let stream = futures_util::StreamExt::then(
        futures_util::stream::iter(chunks),
        move |(i, n)| async move {
            if i * chunk == before_pause {
                tokio::time::sleep(pause).await;
            }
            Ok::<_, std::io::Error>(vec![b'a'; n])
        },
    );
    reqwest::Body::wrap_stream(stream)
}

#[tokio::test]
async fn the_daily_quota_counts_chunked_bodies_and_uploads_still_open() {
    let server = TestServer::start(&[("HERON_QUOTA_TENANT_MB_PER_DAY", "1")]).await;
    // Two files of 700 KiB in a body that declares no length: the second
    // passes the 1 MiB left today while it streams in.
    let part = |body| {
        reqwest::multipart::Part::stream(body)
            .file_name("big.txt")
            .mime_str("text/plain")
            .expect("mime")
    };
    let form = reqwest::multipart::Form::new()
        .part(
            "files",
            part(text_stream(700 * 1024, usize::MAX, Duration::ZERO)),
        )
        .part(
            "files",
            part(text_stream(700 * 1024, 400 * 1024, Duration::from_secs(3))),
        );
    let chunked = server
        .client
        .post(server.url("/v1/files"))
        .header("x-api-key", API_KEY)
        .multipart(form)
        .send()
        .await
        .expect("POST /v1/files");
    assert_error(chunked, 429, "quota_exceeded").await;

    // Resumable uploads opened at once count with their declared length
    // until they finish: a second one of 700 KiB no longer fits.
    let open = || {
        server
            .client
            .post(server.url("/v1/uploads"))
            .header("x-api-key", API_KEY)
            .header("tus-resumable", "1.0.0")
            .header("upload-length", (700 * 1024).to_string())
            .header("upload-metadata", "filename YmlnLnR4dA==")
            .send()
    };
    assert_eq!(open().await.expect("POST /v1/uploads").status(), 201);
    assert_error(
        open().await.expect("POST /v1/uploads"),
        429,
        "quota_exceeded",
    )
    .await;
}

#[tokio::test]
async fn search_finds_no_document_by_an_identifier_its_caller_sees_redacted() {
    let server = TestServer::start(&[]).await;
    let uploader = server.create_key("acme", "uploader");
    let reader = server.create_key("acme", "reader");
    let text = "Payment confirmation\nPaid with card 4111 1111 1111 1111 \
                from IBAN DE89 3704 0044 0532 0130 00\nReference granite-quarry";
    let document = server.upload_document(&uploader, "paid.txt", text).await;
    let found = |query: &'static str| {
        let server = &server;
        let reader = reader.clone();
        async move {
            let response = server
                .call("GET", &format!("/v1/search?q={query}"), Some(&reader), None)
                .await;
            assert_eq!(response.status(), 200, "{query}");
            let page: serde_json::Value = response.json().await.expect("JSON");
            page["total"].as_u64().unwrap_or(u64::MAX)
        }
    };
    // The document is found by what the reader may read…
    assert_eq!(found("granite").await, 1, "{document}");
    // …and never by the identifiers it sees redacted.
    assert_eq!(found("4111111111111111").await, 0);
    assert_eq!(found("4111").await, 0);
    assert_eq!(found("DE89370400440532013000").await, 0);
    assert_eq!(found("0532").await, 0);
}

#[tokio::test]
async fn files_sent_to_compare_need_classify_and_keep_the_upload_rules() {
    let server = TestServer::start(&[("HERON_QUOTA_TENANT_MB_PER_DAY", "1")]).await;
    let reader = server.create_key("acme", "reader");
    let uploader = server.create_key("acme", "uploader");
    let compare = |key: String, name: &'static str, bytes: Vec<u8>| {
        let server = &server;
        async move {
            server
                .upload_to("/v1/compare", &[(name.to_owned(), bytes)], Some(&key), &[])
                .await
        }
    };
    let memo = || b"A short memo about the office picnic and its menu.".to_vec();
    // A reader compares stored documents, but reads no files.
    assert_error(
        compare(reader.clone(), "memo.txt", memo()).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        compare(uploader.clone(), "memo.txt", memo()).await.status(),
        200
    );
    // The upload rules hold: allowed extensions, the daily quota.
    assert_error(
        compare(uploader.clone(), "tool.exe", memo()).await,
        415,
        "unsupported_extension",
    )
    .await;
    let big = vec![b'a'; 1100 * 1024];
    assert_error(
        compare(uploader.clone(), "big.txt", big).await,
        429,
        "quota_exceeded",
    )
    .await;
    // What a comparison read counts: two of 600 KB fit no 1 MB day.
    let half = || {
        let mut text = b"A long memo about the office picnic. ".repeat(16 * 1024);
        text.truncate(600 * 1024);
        text
    };
    assert_eq!(
        compare(uploader.clone(), "half.txt", half()).await.status(),
        200
    );
    assert_error(
        compare(uploader.clone(), "half-again.txt", half()).await,
        429,
        "quota_exceeded",
    )
    .await;
}

/// Erasing a document uploaded today does not give its bytes back to the
/// day's quota.
#[tokio::test]
async fn erasing_documents_gives_no_quota_back() {
    let server = TestServer::start(&[("HERON_QUOTA_TENANT_MB_PER_DAY", "1")]).await;
    let admin = server.create_key("acme", "admin");
    let mut text = "Bank statement, account 12345678, closing balance 100.00. ".repeat(12 * 1024);
    text.truncate(600 * 1024);
    let document = server.upload_document(&admin, "statement.txt", &text).await;
    let erased = server
        .call(
            "DELETE",
            &format!("/v1/documents/{document}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(erased.status(), 204);
    let again = server
        .upload_with(
            &[("statement-2.txt".to_owned(), text.into_bytes())],
            Some(&admin),
            &[],
        )
        .await;
    assert_error(again, 429, "quota_exceeded").await;
}

/// Item 13: with `HERON_EXTRACT_USER` the parsers run as another user —
/// files still classify (each handed over as a copy), a PDF is stamped and
/// previewed in the children, and no child runs as the service's user.
#[tokio::test]
async fn extraction_children_run_as_another_user() {
    use std::os::unix::fs::MetadataExt;
    if std::fs::metadata("/proc/self").map(|m| m.uid()).ok() != Some(0) {
        heron_testkit::missing("root, to start extraction children as another user");
        return;
    }
    let server = TestServer::start(&[
        ("HERON_EXTRACT_USER", "nobody"),
        ("HERON_RATE_LIMIT_KEY_RPS", "1000"),
    ])
    .await;
    let pdf = heron_classify::render::pdf(
        "INVOICE\nInvoice number INV-0042\nBill to: Example Ltd\nTotal due 1,250.00\nPayment terms 30 days",
    );
    let response = server.upload(&[("scan_0042.pdf".to_owned(), pdf)]).await;
    assert_eq!(response.status(), 200);
    let result = crate::support::json_of(response).await[0].clone();
    assert_eq!(result["label"], "invoice", "{result}");
    // A scan is read by OCR in a child that cannot read the data folder.
    let scan = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../heron-extract/tests/fixtures/statement_scan.png"),
    )
    .unwrap();
    let response = server.upload(&[("IMG_2231.png".to_owned(), scan)]).await;
    assert_eq!(response.status(), 200);
    let scanned = crate::support::json_of(response).await[0].clone();
    assert!(
        scanned["stage_confidences"]["stage_ocr"].as_f64().is_some()
            && scanned["label"] == "bank_statement",
        "{scanned}"
    );
    // Every extraction child of the server runs as nobody.
    let parent = format!("PPid:\t{}", server.pid());
    let mut seen = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let proc_dir = entry.path();
        let status = std::fs::read_to_string(proc_dir.join("status")).unwrap_or_default();
        let command = std::fs::read_to_string(proc_dir.join("cmdline")).unwrap_or_default();
        if status.lines().any(|l| l == parent) && command.contains("extract-worker") {
            seen += 1;
            let owner = std::fs::metadata(&proc_dir).unwrap().uid();
            assert_eq!(owner, 65534, "{} runs as uid {owner}", proc_dir.display());
        }
    }
    assert!(seen > 0, "an idle extraction child is kept");
    // A reviewer's preview and download of it are made in the children too.
    let document = result["document_id"].as_str().expect("a document id");
    let file = server
        .call(
            "GET",
            &format!("/v1/documents/{document}/file"),
            Some(API_KEY),
            None,
        )
        .await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["heron-stamp"], "stamped");
    let page = server
        .call(
            "GET",
            &format!("/v1/documents/{document}/pages/1"),
            Some(API_KEY),
            None,
        )
        .await;
    assert_eq!(page.status(), 200);
    assert!(page.bytes().await.unwrap().starts_with(b"\x89PNG"));
}

/// A file refused on its name (`415`) before its bytes are read, sent as
/// curl sends a large upload (`Expect: 100-continue`, then the body): the
/// server reads the rest of the body before answering, so the client,
/// still writing, gets the `415` instead of a reset connection. The client
/// pauses after the first 64 KiB so a server that answered and closed at
/// once would reset the rest of the writes.
#[tokio::test]
async fn a_refusal_before_the_body_is_read_reaches_a_client_still_sending() {
    let server = TestServer::start(&[]).await;
    let address = server.base.trim_start_matches("http://").to_owned();
    let boundary = "heronboundary";
    let opening = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"setup.exe\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let closing = format!("\r\n--{boundary}--\r\n");
    let payload = vec![b'x'; 2 * 1024 * 1024];
    let length = opening.len() + payload.len() + closing.len();
    let head = format!(
        "POST /v1/files HTTP/1.1\r\nhost: localhost\r\nx-api-key: {API_KEY}\r\n\
         content-type: multipart/form-data; boundary={boundary}\r\n\
         content-length: {length}\r\nexpect: 100-continue\r\n\r\n"
    );
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connecting");
    stream.write_all(head.as_bytes()).await.expect("the head");
    let mut buffer = vec![0u8; 64 * 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
        .await
        .expect("an interim answer in time")
        .expect("reading");
    let interim = String::from_utf8_lossy(&buffer[..n]).into_owned();
    assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim}");
    stream
        .write_all(opening.as_bytes())
        .await
        .expect("the part head");
    stream
        .write_all(&payload[..64 * 1024])
        .await
        .expect("the first bytes");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rest = [&payload[64 * 1024..], closing.as_bytes()].concat();
    // Written whole or not: a reset here is what the test catches.
    let written = stream.write_all(&rest).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    answer.extend_from_slice(&buffer[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n")
                        && String::from_utf8_lossy(&answer).contains("unsupported_extension")
                    {
                        return Ok(());
                    }
                }
                Err(e) => return Err(e),
            }
        }
    })
    .await
    .expect("an answer in time");
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!(
        written.is_ok() && read.is_ok(),
        "{written:?} {read:?}: {text}"
    );
    assert!(
        text.starts_with("HTTP/1.1 415"),
        "the answer after the body: {text}"
    );
    assert!(text.contains("unsupported_extension"), "{text}");
}
