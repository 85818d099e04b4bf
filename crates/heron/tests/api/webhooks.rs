//! Webhooks: a job's callback URL and a registered endpoint receive the
//! finished job, signed; a receiver that first answers 500 gets the
//! delivery again; every attempt is visible; forbidden URLs are refused.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};

use crate::support::{API_KEY, TestServer, assert_error, made};

const ADMIN_KEY: &str = "admin-key-for-webhooks-0123";
const CALLBACK_SECRET: &str = "whsec-callback-test-secret";

/// What the receiver saw: path, headers of interest, body.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    signature: String,
    event: String,
    delivery: String,
    body: Vec<u8>,
    answered: u16,
}

/// A loopback receiver that answers 500 to the first request on each
/// path and 200 afterwards.
async fn receiver() -> (String, Arc<Mutex<Vec<Received>>>) {
    let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let log = log.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let mut log = log.lock().unwrap();
                let first = !log.iter().any(|r| r.path == uri.path());
                let answered = if first { 500 } else { 200 };
                log.push(Received {
                    path: uri.path().to_owned(),
                    signature: header("heron-signature"),
                    event: header("heron-event"),
                    delivery: header("heron-delivery"),
                    body: body.to_vec(),
                    answered,
                });
                axum::http::StatusCode::from_u16(answered).unwrap()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), seen)
}

/// Recompute `Heron-Signature` as a receiver would and compare.
fn verify(signature: &str, secret: &str, body: &[u8]) {
    let (timestamp, v1) = signature
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .unwrap_or_else(|| panic!("malformed signature {signature:?}"));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let expected = hex::encode(mac.finalize().into_bytes());
    assert_eq!(v1, expected, "signature does not verify");
    let sent: u64 = timestamp.parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(now.abs_diff(sent) < 300, "stale timestamp {sent}");
}

#[tokio::test]
async fn finished_jobs_are_posted_signed_and_retried_after_a_500() {
    let (base, seen) = receiver().await;
    let server = TestServer::start(&[
        ("HERON_WEBHOOK_SECRET", CALLBACK_SECRET),
        ("HERON_ADMIN_API_KEYS", ADMIN_KEY),
        ("HERON_SYNC_MAX_FILES", "0"),
        ("HERON_RETRY_BASE_MS", "200"),
        // The test's receiver listens on loopback: an internal receiver
        // the operator names.
        ("HERON_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32"),
    ])
    .await;

    // A registered endpoint, with a secret of its own.
    let registered: serde_json::Value = server
        .client
        .post(server.url("/v1/admin/webhooks"))
        .header("x-api-key", ADMIN_KEY)
        .json(&serde_json::json!({"url": format!("{base}/endpoint")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let endpoint_secret = registered["secret"]
        .as_str()
        .expect("secret shown once")
        .to_owned();

    let files = vec![
        ("a.txt".to_owned(), made("form", "txt", 0)),
        ("b.csv".to_owned(), made("bank_statement", "csv", 0)),
    ];
    let callback = format!("{base}/hook");
    let job_id = server
        .upload_job_with(&files, &[("x-callback-url", callback.as_str())])
        .await;
    server.wait_for_job(&job_id, Duration::from_secs(60)).await;

    // Both targets: a 500, then a delivery.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let delivered = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.answered == 200)
            .count();
        if delivered == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries: {:?}",
            seen.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "{seen:?}");
    // A job's callback is signed with its tenant's secret, derived from
    // the deployment's (what `heron callback-secret default` prints), not
    // with the deployment's secret that every tenant would share.
    let tenant_secret = heron_core::webhook::derived_callback_secret(
        CALLBACK_SECRET,
        heron_core::access::DEFAULT_TENANT,
    );
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_heron"))
        .args(["callback-secret", "default"])
        .env("HERON_WEBHOOK_SECRET", CALLBACK_SECRET)
        .output()
        .expect("heron callback-secret");
    assert_eq!(String::from_utf8_lossy(&cli.stdout).trim(), tenant_secret);
    for received in &seen {
        let secret = if received.path == "/hook" {
            tenant_secret.as_str()
        } else {
            endpoint_secret.as_str()
        };
        verify(&received.signature, secret, &received.body);
        assert_eq!(received.event, "job.completed");
        let body: serde_json::Value = serde_json::from_slice(&received.body).unwrap();
        assert_eq!(body["job_id"], job_id.as_str());
        assert_eq!(body["status"], "done");
        assert_eq!(body["results"].as_array().unwrap().len(), 2);
        assert_eq!(body["delivery_id"], received.delivery.as_str());
    }
    // A wrong secret does not verify, nor does the deployment's.
    for wrong_secret in ["not-the-secret", CALLBACK_SECRET] {
        let hook = seen.iter().find(|r| r.path == "/hook").expect("callback");
        let wrong = std::panic::catch_unwind(|| verify(&hook.signature, wrong_secret, &hook.body));
        assert!(wrong.is_err(), "{wrong_secret}");
    }

    // The uploader sees each delivery's outcome only; an admin sees every
    // attempt.
    let as_uploader = server
        .get_json(&format!("/v1/jobs/{job_id}/deliveries"))
        .await;
    for delivery in as_uploader["deliveries"].as_array().unwrap() {
        assert_eq!(delivery["state"], "delivered", "{delivery:#}");
        assert!(delivery.get("attempts").is_none(), "{delivery:#}");
    }
    let deliveries = deliveries_for_admin(&server, &job_id).await;
    let deliveries = deliveries["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 2, "{deliveries:#?}");
    for delivery in deliveries {
        assert_eq!(delivery["state"], "delivered", "{delivery:#}");
        let codes: Vec<_> = delivery["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["status_code"].as_u64())
            .collect();
        assert_eq!(codes, [Some(500), Some(200)], "{delivery:#}");
    }
}

#[tokio::test]
async fn forbidden_callback_urls_are_refused() {
    let server = TestServer::start(&[
        ("HERON_WEBHOOK_SECRET", CALLBACK_SECRET),
        ("HERON_ADMIN_API_KEYS", ADMIN_KEY),
    ])
    .await;
    let files = vec![("a.txt".to_owned(), made("form", "txt", 0))];
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "ftp://example.com/hook",
        "http://[fe80::1]/hook",
        // The deployment's own networks: a port scan by callback.
        "http://127.0.0.1:5432/",
        "http://localhost:6379/",
        "http://10.0.0.7:9200/",
        "http://192.168.1.1/admin",
    ] {
        let response = server
            .upload_with(&files, Some(API_KEY), &[("x-callback-url", url)])
            .await;
        assert_error(response, 400, "invalid_callback_url").await;
    }
    let endpoint = server
        .client
        .post(server.url("/v1/admin/webhooks"))
        .header("x-api-key", ADMIN_KEY)
        .json(&serde_json::json!({"url": "http://169.254.169.254/"}))
        .send()
        .await
        .unwrap();
    assert_error(endpoint, 400, "invalid_callback_url").await;

    // Without a signing secret, callbacks are refused rather than unsigned.
    let unsigned = TestServer::start(&[]).await;
    let response = unsigned
        .upload_with(
            &files,
            Some(API_KEY),
            &[("x-callback-url", "https://hooks.example.com/x")],
        )
        .await;
    assert_error(response, 400, "callbacks_not_configured").await;
}

/// A job's deliveries as an admin sees them (with every attempt).
async fn deliveries_for_admin(server: &TestServer, job_id: &str) -> serde_json::Value {
    server
        .client
        .get(server.url(&format!("/v1/jobs/{job_id}/deliveries")))
        .header("x-api-key", ADMIN_KEY)
        .send()
        .await
        .expect("GET deliveries")
        .json()
        .await
        .expect("JSON")
}

/// A receiver that is down: attempts are retried with backoff until the
/// target's circuit opens after 5 failures; then deliveries wait without
/// using attempts up.
#[tokio::test]
async fn a_dead_receiver_opens_its_circuit_and_stops_using_attempts() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = TestServer::start(&[
        ("HERON_WEBHOOK_SECRET", CALLBACK_SECRET),
        ("HERON_ADMIN_API_KEYS", ADMIN_KEY),
        ("HERON_SYNC_MAX_FILES", "0"),
        ("HERON_RETRY_BASE_MS", "20"),
        ("HERON_RETRY_MAX_SECS", "1"),
        ("HERON_WEBHOOK_MAX_ATTEMPTS", "50"),
        ("HERON_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32"),
    ])
    .await;
    let files = vec![("a.txt".to_owned(), made("form", "txt", 0))];
    let callback = format!("http://127.0.0.1:{port}/hook");
    let job_id = server
        .upload_job_with(&files, &[("x-callback-url", callback.as_str())])
        .await;
    server.wait_for_job(&job_id, Duration::from_secs(60)).await;

    let attempts = || async {
        let deliveries = deliveries_for_admin(&server, &job_id).await;
        let delivery = deliveries["deliveries"][0].clone();
        (
            delivery["attempts"].as_array().map_or(0, Vec::len),
            delivery["state"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while attempts().await.0 < 5 {
        assert!(
            Instant::now() < deadline,
            "too few attempts: {:?}",
            attempts().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (count, state) = attempts().await;
    assert_eq!(
        (count, state.as_str()),
        (5, "pending"),
        "the open circuit should hold further attempts"
    );
}

#[tokio::test]
async fn each_tenant_signs_its_callbacks_with_its_own_rotatable_secret() {
    let (base, seen) = receiver().await;
    let server = TestServer::start(&[
        ("HERON_WEBHOOK_SECRET", CALLBACK_SECRET),
        ("HERON_RETRY_BASE_MS", "200"),
        ("HERON_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32"),
    ])
    .await;
    let acme = server.create_key("acme", "admin");
    let globex = server.create_key("globex", "admin");
    let rotate = |key: String| {
        let server = &server;
        async move {
            let response = server
                .call("POST", "/v1/admin/callback-secret", Some(&key), None)
                .await;
            assert_eq!(response.status(), 201);
            let body: serde_json::Value = response.json().await.expect("JSON");
            body["secret"].as_str().expect("secret").to_owned()
        }
    };
    let first = rotate(acme.clone()).await;
    let acme_secret = rotate(acme.clone()).await;
    assert_ne!(first, acme_secret);

    for (key, path) in [(&acme, "/acme"), (&globex, "/globex")] {
        let callback = format!("{base}{path}");
        let response = server
            .upload_with(
                &[("a.txt".to_owned(), made("form", "txt", 0))],
                Some(key),
                &[("x-callback-url", callback.as_str())],
            )
            .await;
        assert_eq!(response.status(), 200);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let delivered = loop {
        let delivered: Vec<Received> = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.answered == 200)
            .cloned()
            .collect();
        if delivered.len() == 2 {
            break delivered;
        }
        assert!(Instant::now() < deadline, "{:?}", seen.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let signed_with = |received: &Received, secret: &str| {
        std::panic::catch_unwind(|| verify(&received.signature, secret, &received.body)).is_ok()
    };
    let globex_secret = heron_core::webhook::derived_callback_secret(CALLBACK_SECRET, "globex");
    for received in &delivered {
        let (own, others) = if received.path == "/acme" {
            (&acme_secret, [&first, &globex_secret])
        } else {
            (&globex_secret, [&first, &acme_secret])
        };
        assert!(signed_with(received, own), "{}", received.path);
        for other in others {
            assert!(!signed_with(received, other), "{}", received.path);
        }
    }
    // Only an admin may rotate it.
    let reader = server.create_key("acme", "reader");
    let refused = server
        .call("POST", "/v1/admin/callback-secret", Some(&reader), None)
        .await;
    assert_error(refused, 403, "forbidden").await;
}
