//! Tenants, keys, the access policy, rate limits, the audit log, erasure
//! and retention, through the real server.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use heron_core::access::Role;
use heron_server::access::policy::{Access, POLICY};
use serde_json::json;

use crate::support::{API_KEY, TestServer, assert_error, json_of};

const ADMIN_KEY: &str = "env-admin-key-0123456789";

/// Limits out of the way: the matrix sends hundreds of requests.
const NO_LIMITS: [(&str, &str); 4] = [
    ("HERON_RATE_LIMIT_KEY_RPS", "100000"),
    ("HERON_RATE_LIMIT_TENANT_RPS", "100000"),
    // The matrix sends one anonymous request per route.
    ("HERON_AUTH_FAILURES_PER_MINUTE", "1000"),
    ("HERON_ADMIN_API_KEYS", ADMIN_KEY),
];

/// One tenant's keys (one per role) and resources.
struct Tenant {
    name: &'static str,
    keys: BTreeMap<&'static str, String>,
    job_id: String,
    document_id: String,
    key_id: String,
    webhook_id: String,
    /// An unfinished resumable upload.
    upload_id: String,
}

impl Tenant {
    async fn create(server: &TestServer, name: &'static str) -> Tenant {
        let admin = server.create_key(name, "admin");
        let mut keys = BTreeMap::new();
        for &role in Role::ALL {
            let key = if role == Role::Admin {
                admin.clone()
            } else {
                new_key(server, &admin, role.as_str()).await.1
            };
            keys.insert(role.as_str(), key);
        }
        let document_id = server
            .upload_document(&keys["uploader"], "note.txt", &sample_text(name))
            .await;
        let jobs = get_json(server, "/v1/jobs", &admin).await;
        let job_id = jobs["jobs"][0]["job_id"]
            .as_str()
            .expect("a job")
            .to_owned();
        let (key_id, _) = new_key(server, &admin, "reader").await;
        let webhook_id = new_webhook(server, &admin).await;
        let upload_id = new_upload(server, &keys["uploader"]).await;
        Tenant {
            name,
            keys,
            job_id,
            document_id,
            key_id,
            webhook_id,
            upload_id,
        }
    }

    fn admin(&self) -> &str {
        &self.keys["admin"]
    }
}

fn sample_text(tenant: &str) -> String {
    format!(
        "INVOICE No. {tenant}-1001\nDate: 2024-03-01\nBill to: Example Ltd\n\
         Item: consulting 10 h at 100.00\nSubtotal 1000.00\nVAT 20% 200.00\nTotal due 1200.00\n"
    )
}

/// `GET path` with `key`, as JSON.
async fn get_json(server: &TestServer, path: &str, key: &str) -> serde_json::Value {
    json_of(server.call("GET", path, Some(key), None).await).await
}

/// A key made by a tenant admin through the API: (id, key).
async fn new_key(server: &TestServer, admin: &str, role: &str) -> (String, String) {
    let response = server
        .call(
            "POST",
            "/v1/admin/keys",
            Some(admin),
            Some(json!({ "name": format!("{role} key"), "roles": [role] })),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body = json_of(response).await;
    (
        body["key_id"].as_str().unwrap().to_owned(),
        body["key"].as_str().unwrap().to_owned(),
    )
}

/// A resumable upload of 1000 bytes, nothing sent yet: its id.
async fn new_upload(server: &TestServer, key: &str) -> String {
    let response = server
        .client
        .post(server.url("/v1/uploads"))
        .header("authorization", format!("Bearer {key}"))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", "1000")
        .header("upload-metadata", "filename bWF0cml4LnR4dA==")
        .send()
        .await
        .expect("POST /v1/uploads");
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().expect("location");
    location.trim_start_matches("/v1/uploads/").to_owned()
}

async fn new_webhook(server: &TestServer, admin: &str) -> String {
    let response = server
        .call(
            "POST",
            "/v1/admin/webhooks",
            Some(admin),
            Some(json!({ "url": "https://hooks.example.com/hook" })),
        )
        .await;
    assert_eq!(response.status(), 201);
    json_of(response).await["endpoint_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What a caller holding the scope should get for `method route` on the
/// owner's resource (`foreign`: another tenant's).
fn expected_success(method: &str, route: &str, foreign: bool) -> u16 {
    let found = |status| if foreign { 404 } else { status };
    match (method, route) {
        ("POST", "/v1/files") => 200,
        ("GET", "/v1/jobs/{job_id}") | ("GET", "/v1/jobs/{job_id}/deliveries") => found(200),
        // The job finished: found, but no longer cancellable.
        ("DELETE", "/v1/jobs/{job_id}") => found(409),
        ("GET", "/v1/documents/{document_id}")
        | ("GET", "/v1/documents/{document_id}/text")
        | ("GET", "/v1/documents/{document_id}/similar")
        | ("GET", "/v1/documents/{document_id}/file") => found(200),
        ("DELETE", "/v1/documents/{document_id}") => found(204),
        ("POST", "/v1/admin/keys")
        | ("POST", "/v1/admin/webhooks")
        | ("POST", "/v1/admin/callback-secret") => 201,
        ("DELETE", "/v1/admin/keys/{key_id}") | ("DELETE", "/v1/admin/webhooks/{endpoint_id}") => {
            found(204)
        }
        // Nothing is dead-lettered: found nowhere.
        ("POST", "/v1/admin/dead-letters/{task_id}/retry") => 404,
        ("POST", "/v1/documents/{document_id}/review") => found(201),
        ("GET", "/v1/documents/{document_id}/reviews") => found(200),
        // A text document has no page pictures; no run or model is named.
        ("GET", "/v1/documents/{document_id}/pages/{page}")
        | ("GET", "/v1/models/runs/{run_id}")
        | ("POST", "/v1/models/{model_id}/promote") => 404,
        ("POST", "/v1/types") => 201,
        ("POST", "/v1/models/train") => 202,
        ("POST", "/v1/uploads") => 201,
        ("GET", "/v1/uploads/{upload_id}") | ("HEAD", "/v1/uploads/{upload_id}") => found(200),
        // Object storage only.
        ("POST", "/v1/uploads/presigned") if crate::support::shared_storage() => 201,
        ("POST", "/v1/uploads/presigned") => 400,
        ("PATCH", "/v1/uploads/{upload_id}") | ("DELETE", "/v1/uploads/{upload_id}") => found(204),
        // A resumable upload is not completed this way.
        ("POST", "/v1/uploads/{upload_id}/complete") => 404,
        _ => 200,
    }
}

/// The concrete request for `method route` against `owner`'s resources.
/// Requests that would consume the resource get a fresh one.
async fn concrete(
    server: &TestServer,
    method: &str,
    route: &str,
    owner: &Tenant,
    fresh: bool,
) -> (String, Option<serde_json::Value>) {
    let document = if fresh && method == "DELETE" && route.contains("{document_id}") {
        server
            .upload_document(
                &owner.keys["uploader"],
                "fresh.txt",
                &sample_text(owner.name),
            )
            .await
    } else {
        owner.document_id.clone()
    };
    let key_id = if fresh && method == "DELETE" && route.contains("{key_id}") {
        new_key(server, owner.admin(), "reader").await.0
    } else {
        owner.key_id.clone()
    };
    let webhook_id = if fresh && method == "DELETE" && route.contains("{endpoint_id}") {
        new_webhook(server, owner.admin()).await
    } else {
        owner.webhook_id.clone()
    };
    let upload_id =
        if fresh && matches!(method, "PATCH" | "DELETE") && route.contains("{upload_id}") {
            new_upload(server, &owner.keys["uploader"]).await
        } else {
            owner.upload_id.clone()
        };
    let path = route
        .replace("{upload_id}", &upload_id)
        .replace("{job_id}", &owner.job_id)
        .replace("{document_id}", &document)
        .replace("{task_id}", &owner.document_id)
        .replace("{key_id}", &key_id)
        .replace("{endpoint_id}", &webhook_id)
        .replace("{page}", "1")
        .replace("{run_id}", "no-such-run")
        .replace("{model_id}", "tm-000000000000");
    let body = match (method, route) {
        ("POST", "/v1/admin/keys") => Some(json!({ "name": "matrix", "scopes": ["read"] })),
        ("POST", "/v1/admin/webhooks") => Some(json!({ "url": "https://hooks.example.com/other" })),
        ("PUT", "/v1/admin/tenant") => Some(json!({ "retention_days": 365 })),
        // Another tenant's ids come back as unknown, never compared.
        ("POST", "/v1/compare") => Some(json!({ "document_ids": [document] })),
        ("POST", "/v1/documents/{document_id}/review") => {
            Some(json!({ "action": "correct", "label": "invoice" }))
        }
        ("POST", "/v1/uploads/presigned") => {
            Some(json!({ "filename": "matrix.pdf", "size_bytes": 1000 }))
        }
        ("POST", "/v1/types") => Some(json!({
            "name": format!("Matrix type {}", uuid_like()),
            "parent": "finance/billing",
        })),
        _ => None,
    };
    (path, body)
}

/// A name no earlier request used.
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("n{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

async fn send(
    server: &TestServer,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<serde_json::Value>,
    owner: &Tenant,
) -> reqwest::Response {
    if path == "/v1/files" {
        let file = (
            "matrix.txt".to_owned(),
            sample_text(owner.name).into_bytes(),
        );
        return server.upload_with(&[file], key, &[]).await;
    }
    if path.starts_with("/v1/uploads")
        && path != "/v1/uploads/presigned"
        && !path.ends_with("/complete")
    {
        return tus(server, method, path, key).await;
    }
    server.call(method, path, key, body).await
}

/// A tus request: the protocol's headers, a few bytes at offset 0 for a
/// `PATCH`, a declared length for a creation.
async fn tus(
    server: &TestServer,
    method: &str,
    path: &str,
    key: Option<&str>,
) -> reqwest::Response {
    let mut request = server
        .client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
            server.url(path),
        )
        .header("tus-resumable", "1.0.0");
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    request = match method {
        "POST" => request
            .header("upload-length", "1000")
            .header("upload-metadata", "filename bWF0cml4LnR4dA=="),
        "PATCH" => request
            .header("upload-offset", "0")
            .header("content-type", "application/offset+octet-stream")
            .body(b"12345".to_vec()),
        _ => request,
    };
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Who may call each API route that needs a credential, written out by
/// hand as the specification (not read from `Role::scopes` or the route
/// table under test): the matrix below expects exactly these roles to get
/// through, and every other role a `403`.
const UPLOADERS: &[&str] = &["uploader", "admin"];
const READERS: &[&str] = &["uploader", "reader", "reviewer", "trainer", "admin"];
const REVIEWERS: &[&str] = &["reviewer", "trainer", "admin"];
const TRAINERS: &[&str] = &["trainer", "admin"];
const ADMINS: &[&str] = &["admin"];
#[rustfmt::skip]
const WHO_MAY: &[(&str, &str, &[&str])] = &[
    ("POST",   "/v1/files",                                UPLOADERS),
    ("POST",   "/v1/uploads",                              UPLOADERS),
    ("POST",   "/v1/uploads/presigned",                    UPLOADERS),
    ("GET",    "/v1/uploads/{upload_id}",                  UPLOADERS),
    ("HEAD",   "/v1/uploads/{upload_id}",                  UPLOADERS),
    ("PATCH",  "/v1/uploads/{upload_id}",                  UPLOADERS),
    ("DELETE", "/v1/uploads/{upload_id}",                  UPLOADERS),
    ("POST",   "/v1/uploads/{upload_id}/complete",         UPLOADERS),
    ("GET",    "/v1/jobs",                                 READERS),
    ("GET",    "/v1/jobs/{job_id}",                        READERS),
    ("DELETE", "/v1/jobs/{job_id}",                        UPLOADERS),
    ("GET",    "/v1/jobs/{job_id}/deliveries",             READERS),
    ("GET",    "/v1/documents/{document_id}",              READERS),
    ("GET",    "/v1/documents/{document_id}/text",         READERS),
    ("GET",    "/v1/documents/{document_id}/similar",      READERS),
    ("POST",   "/v1/compare",                              READERS),
    ("GET",    "/v1/search",                               READERS),
    ("GET",    "/v1/documents/{document_id}/file",         REVIEWERS),
    ("DELETE", "/v1/documents/{document_id}",              ADMINS),
    ("GET",    "/v1/audit",                                ADMINS),
    ("GET",    "/v1/compliance/report",                    ADMINS),
    ("GET",    "/v1/admin/keys",                           ADMINS),
    ("POST",   "/v1/admin/keys",                           ADMINS),
    ("DELETE", "/v1/admin/keys/{key_id}",                  ADMINS),
    ("GET",    "/v1/admin/tenant",                         ADMINS),
    ("PUT",    "/v1/admin/tenant",                         ADMINS),
    ("GET",    "/v1/admin/dead-letters",                   ADMINS),
    ("POST",   "/v1/admin/dead-letters/{task_id}/retry",   ADMINS),
    ("GET",    "/v1/admin/webhooks",                       ADMINS),
    ("POST",   "/v1/admin/webhooks",                       ADMINS),
    ("DELETE", "/v1/admin/webhooks/{endpoint_id}",         ADMINS),
    ("POST",   "/v1/admin/callback-secret",                ADMINS),
    ("GET",    "/v1/review/queue",                         REVIEWERS),
    ("POST",   "/v1/documents/{document_id}/review",       REVIEWERS),
    ("GET",    "/v1/documents/{document_id}/reviews",      READERS),
    ("GET",    "/v1/documents/{document_id}/pages/{page}", REVIEWERS),
    ("GET",    "/v1/types",                                READERS),
    ("POST",   "/v1/types",                                TRAINERS),
    ("GET",    "/v1/models",                               READERS),
    ("POST",   "/v1/models/train",                         TRAINERS),
    ("GET",    "/v1/models/runs/{run_id}",                 READERS),
    ("POST",   "/v1/models/{model_id}/promote",            ADMINS),
    ("POST",   "/v1/models/rollback",                      ADMINS),
    ("GET",    "/v1/dashboard",                            READERS),
];

#[tokio::test]
async fn every_route_declares_its_scope_and_the_matrix_of_roles_and_tenants_holds() {
    let server = TestServer::start(&NO_LIMITS).await;
    // Every route of the API description is in the policy, and the reverse.
    let doc = json_of(server.call("GET", "/openapi.json", None, None).await).await;
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.to_ascii_uppercase(), path.clone()));
        }
    }
    for (method, path) in &documented {
        assert!(
            POLICY.iter().any(|(m, p, _)| m == method && p == path),
            "{method} {path} is routed but has no entry in policy::POLICY"
        );
    }
    for (method, path, _) in POLICY {
        // The web UI's pages are not part of the API (see the ui tests).
        let undocumented = ["/redoc"];
        if path.starts_with("/ui") {
            continue;
        }
        assert!(
            undocumented.contains(path) || documented.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is in the policy but not in the API description"
        );
    }

    let acme = Tenant::create(&server, "acme").await;
    let globex = Tenant::create(&server, "globex").await;
    let mut checked = 0;
    for (method, route, access) in POLICY {
        if route.starts_with("/ui") {
            continue;
        }
        let Access::Scope(_) = access else {
            let response = server.call(method, route, None, None).await;
            assert!(
                response.status().as_u16() < 400 || *route == "/v1/ready",
                "public {method} {route}: {}",
                response.status()
            );
            continue;
        };
        let Some((_, _, who_may)) = WHO_MAY.iter().find(|(m, r, _)| m == method && r == route)
        else {
            panic!(
                "{method} {route} needs a credential but is not in WHO_MAY: say who may call it"
            );
        };
        // Nobody, and a wrong key, are turned away.
        let (path, body) = concrete(&server, method, route, &acme, false).await;
        let anonymous = send(&server, method, &path, None, body.clone(), &acme).await;
        assert_eq!(anonymous.status(), 401, "anonymous {method} {route}");
        for &role in Role::ALL {
            let key = &acme.keys[role.as_str()];
            for foreign in [false, true] {
                let owner = if foreign { &globex } else { &acme };
                let allowed = who_may.contains(&role.as_str());
                let (path, body) = concrete(&server, method, route, owner, allowed).await;
                let response = send(&server, method, &path, Some(key), body, owner).await;
                let expected = if allowed {
                    expected_success(method, route, foreign)
                } else {
                    403
                };
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                assert_eq!(
                    status, expected,
                    "{role} of acme: {method} {route} on {}'s resource: {text}",
                    owner.name
                );
                checked += 1;
            }
        }
    }
    for (method, route, _) in WHO_MAY {
        assert!(
            POLICY
                .iter()
                .any(|(m, r, a)| m == method && r == route && *a != Access::Public),
            "WHO_MAY names {method} {route}, which is not a route that needs a credential"
        );
    }
    eprintln!("authorization matrix: {checked} cases checked");
    assert!(checked >= 180, "only {checked} cases");

    // Lists show only the caller's tenant.
    for (path, field, id_field, foreign_id) in [
        ("/v1/jobs", "jobs", "job_id", &globex.job_id),
        ("/v1/admin/keys", "keys", "key_id", &globex.key_id),
        (
            "/v1/admin/webhooks",
            "endpoints",
            "endpoint_id",
            &globex.webhook_id,
        ),
    ] {
        let body = json_of(server.call("GET", path, Some(acme.admin()), None).await).await;
        let ids: Vec<&str> = body[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item[id_field].as_str().unwrap())
            .collect();
        assert!(!ids.is_empty(), "{path}");
        assert!(!ids.contains(&foreign_id.as_str()), "{path} leaks globex");
    }
    let audit = json_of(
        server
            .call("GET", "/v1/audit?limit=500", Some(acme.admin()), None)
            .await,
    )
    .await;
    let text = audit.to_string();
    assert!(!text.contains(&globex.document_id) && !text.contains(&globex.job_id));
    assert!(text.contains("access.denied"), "denials are audited");

    // No key, token or secret was ever written to the log.
    let log = server.log();
    for secret in acme.keys.values().chain(globex.keys.values()) {
        let tail = secret.rsplit('_').next().unwrap();
        assert!(!log.contains(tail), "a key's secret is in the log");
    }
    assert!(!log.contains(ADMIN_KEY) && !log.contains(API_KEY));
}

#[tokio::test]
async fn another_tenant_cannot_see_reuse_or_replay_what_a_tenant_uploaded() {
    let server = TestServer::start(&NO_LIMITS).await;
    let acme = server.create_key("acme", "uploader");
    let globex = server.create_key("globex", "uploader");
    let text = sample_text("shared").into_bytes();
    let file = [("same.txt".to_owned(), text)];
    let first = json_of(
        server
            .upload_with(&file, Some(&acme), &[("idempotency-key", "order-1")])
            .await,
    )
    .await;
    // The same bytes, name and idempotency key from another tenant: a new
    // document, classified afresh, not acme's stored answer.
    let second = json_of(
        server
            .upload_with(&file, Some(&globex), &[("idempotency-key", "order-1")])
            .await,
    )
    .await;
    assert_ne!(first[0]["document_id"], second[0]["document_id"]);
    assert_eq!(second[0]["cached"], false, "{second}");
    // Within one tenant the same upload is reused.
    let third = json_of(server.upload_with(&file, Some(&globex), &[]).await).await;
    assert_eq!(third[0]["cached"], true, "{third}");

    let acme_doc = first[0]["document_id"].as_str().unwrap();
    let foreign = server
        .call(
            "GET",
            &format!("/v1/documents/{acme_doc}"),
            Some(&globex),
            None,
        )
        .await;
    let unknown = server
        .call("GET", "/v1/documents/0123456789abcdef", Some(&globex), None)
        .await;
    assert_eq!(foreign.status(), unknown.status());
    let (foreign, unknown) = (json_of(foreign).await, json_of(unknown).await);
    assert_eq!(foreign["error"]["code"], unknown["error"]["code"]);
    assert_eq!(foreign["error"]["code"], "document_not_found");
}

#[tokio::test]
async fn rate_limits_answer_429_with_their_headers_and_stop_key_guessing() {
    let server = TestServer::start(&[
        ("HERON_RATE_LIMIT_KEY_RPS", "1"),
        ("HERON_AUTH_FAILURES_PER_MINUTE", "3"),
        ("HERON_QUOTA_TENANT_MB_PER_DAY", "1"),
    ])
    .await;
    // Burst of two, then refused.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = server.call("GET", "/v1/jobs", Some(API_KEY), None).await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
            assert_eq!(response.headers()["ratelimit-limit"], "2");
            assert_eq!(response.headers()["ratelimit-remaining"], "0");
            assert_error(response, 429, "rate_limited").await;
        } else {
            assert!(response.headers().contains_key("ratelimit-remaining"));
        }
    }
    assert_eq!(statuses, [200, 200, 429]);
    // Limits come before the scope check: a key cannot make the server
    // write denial records faster than its rate.
    let denied = server
        .call("GET", "/v1/admin/keys", Some(API_KEY), None)
        .await;
    assert_error(denied, 429, "rate_limited").await;

    // Three wrong keys, then further guesses from that address wait (the
    // right key is still served: `hardening.rs`).
    for _ in 0..3 {
        let response = server.call("GET", "/v1/jobs", Some("guess"), None).await;
        assert_eq!(response.status(), 401);
    }
    let blocked = server.call("GET", "/v1/jobs", Some("guess"), None).await;
    assert_error(blocked, 429, "rate_limited").await;

    // The byte quota (another server: this address is blocked a while).
    let server = TestServer::start(&[("HERON_QUOTA_TENANT_MB_PER_DAY", "1")]).await;
    let big = vec![b'a'; 700 * 1024];
    let file = [("big.txt".to_owned(), big)];
    assert_eq!(server.upload(&file).await.status(), 200);
    assert_error(server.upload(&file).await, 429, "quota_exceeded").await;
}

#[tokio::test]
async fn only_configured_origins_may_call_from_a_browser() {
    let server = TestServer::start(&[("HERON_CORS_ORIGINS", "https://app.example.com")]).await;
    let preflight = |origin: &'static str| {
        server
            .client
            .request(reqwest::Method::OPTIONS, server.url("/v1/jobs"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "x-api-key")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let refused = preflight("https://evil.example.net").await.unwrap();
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
    // Without the setting nobody is allowed.
    let closed = TestServer::start(&[]).await;
    let response = closed
        .client
        .get(closed.url("/v1/jobs"))
        .header("origin", "https://app.example.com")
        .header("x-api-key", API_KEY)
        .send()
        .await
        .unwrap();
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let server = TestServer::start(&[]).await;
    for path in ["/v1/health", "/v1/jobs", "/v1/nowhere"] {
        let response = server.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert!(headers.contains_key("content-security-policy"), "{path}");
    }
}

#[tokio::test]
async fn the_audit_log_records_actions_and_heron_audit_verify_detects_tampering() {
    let server = TestServer::start(&NO_LIMITS).await;
    let admin = server.create_key("acme", "admin");
    let document = server
        .upload_document(&admin, "a.txt", &sample_text("acme"))
        .await;
    let read = server
        .call(
            "GET",
            &format!("/v1/documents/{document}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(read.status(), 200);
    let erased = server
        .call(
            "DELETE",
            &format!("/v1/documents/{document}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(erased.status(), 204);

    let page = get_json(&server, "/v1/audit", &admin).await;
    let actions: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "document.erase",
            "document.read",
            "job.create",
            "key.create"
        ]
    );
    let entry = &page["entries"][0];
    assert_eq!(entry["resource"], format!("document:{document}"));
    assert!(entry["actor"].as_str().unwrap().starts_with("key:"));
    assert!(!entry["request_id"].as_str().unwrap().is_empty());
    let filtered = get_json(&server, "/v1/audit?action=job.create", &admin).await;
    assert_eq!(filtered["entries"].as_array().unwrap().len(), 1);

    let verify = server.cli(&["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(String::from_utf8_lossy(&verify.stdout).contains("tenant acme: 4 entries"));

    // Someone with database access edits the record of the read.
    let store = server.open_store().await;
    sqlx::query("UPDATE audit_log SET actor = 'nobody' WHERE action = 'document.read'")
        .execute(store.pool_for_tests())
        .await
        .unwrap();
    store.close().await;
    let verify = server.cli(&["audit", "verify"]);
    assert!(!verify.status.success());
    assert!(
        String::from_utf8_lossy(&verify.stderr).contains("entry 3 was altered"),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// With `HERON_AUDIT_KEY` the chain is keyed, and `heron audit verify`
/// prints anchor lines; kept outside the database, they catch what a
/// consistent edit of the database hides: the newest entries removed and
/// the head moved back to match.
#[tokio::test]
async fn audit_anchors_catch_a_truncation_the_chain_alone_cannot() {
    let mut env = NO_LIMITS.to_vec();
    env.push(("HERON_AUDIT_KEY", "an-audit-key-of-at-least-32-bytes-0123"));
    let server = TestServer::start(&env).await;
    let admin = server.create_key("acme", "admin");
    server
        .upload_document(&admin, "first.txt", &sample_text("first"))
        .await;
    let verify = server.cli(&["audit", "verify"]);
    let printed = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert!(verify.status.success(), "{printed}");
    let anchor_line = printed
        .lines()
        .find(|l| l.starts_with("anchor acme "))
        .unwrap_or_else(|| panic!("{printed}"));
    assert!(
        anchor_line.contains(" k1:"),
        "the chain is keyed: {anchor_line}"
    );
    let anchors = server.data_dir.join("anchors.txt");
    std::fs::write(&anchors, &printed).unwrap();

    // Someone with database access removes the newest entry and moves the
    // head back onto the one before: the chain is consistent again.
    let store = server.open_store().await;
    let pool = store.pool_for_tests();
    let (seq, prev): (i64, String) = sqlx::query_as(
        "SELECT seq, prev_hash FROM audit_log WHERE tenant_id = 'acme' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE tenant_id = 'acme' AND seq = $1")
        .bind(seq)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_heads SET seq = $1, hash = $2 WHERE tenant_id = 'acme'")
        .bind(seq - 1)
        .bind(&prev)
        .execute(pool)
        .await
        .unwrap();
    store.close().await;
    let alone = server.cli(&["audit", "verify"]);
    assert!(
        alone.status.success(),
        "{}",
        String::from_utf8_lossy(&alone.stderr)
    );
    let anchored = server.cli(&["audit", "verify", "--anchors", anchors.to_str().unwrap()]);
    assert!(!anchored.status.success());
    assert!(
        String::from_utf8_lossy(&anchored.stderr)
            .contains(&format!("entry {seq} was anchored but is gone")),
        "{}",
        String::from_utf8_lossy(&anchored.stderr)
    );
}

#[tokio::test]
async fn a_purged_document_leaves_nothing_behind() {
    let mut env = NO_LIMITS.to_vec();
    env.push(("HERON_PURGE_INTERVAL_SECS", "1"));
    let server = TestServer::start(&env).await;
    let admin = server.create_key("acme", "admin");
    let name = "unique-purge-name-7f3a.txt";
    let text = "Pay slip for Jane Q. Purgeable, employee 445566, net pay 2,345.67";
    let document = server.upload_document(&admin, name, text).await;
    let kept = server
        .upload_document(&admin, "kept.txt", &sample_text("kept"))
        .await;
    let detail = get_json(&server, &format!("/v1/documents/{document}"), &admin).await;
    let sha256 = detail["sha256"].as_str().unwrap().to_owned();
    let blobs = server.open_blobs().await;
    assert!(blobs.contains(&sha256).await.unwrap());

    // A one-day retention, and the document made two days old.
    let response = server
        .call(
            "PUT",
            "/v1/admin/tenant",
            Some(&admin),
            Some(json!({ "retention_days": 1 })),
        )
        .await;
    assert_eq!(response.status(), 200);
    let store = server.open_store().await;
    sqlx::query("UPDATE tasks SET created_at = created_at - 172800000 WHERE id = $1")
        .bind(&document)
        .execute(store.pool_for_tests())
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = server
            .call(
                "GET",
                &format!("/v1/documents/{document}"),
                Some(&admin),
                None,
            )
            .await;
        if response.status() == 404 {
            break;
        }
        assert!(Instant::now() < deadline, "not purged:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Nothing of it anywhere: rows, stored answers, deliveries, the blob.
    let pool = store.pool_for_tests();
    for (table, column) in [
        ("tasks", "filename"),
        ("tasks", "sha256"),
        ("tasks", "result_json"),
        ("idempotency_keys", "response_json"),
        ("audit_log", "detail"),
    ] {
        let sql = format!(
            "SELECT COUNT(*) FROM {table} WHERE {column} LIKE '%' || $1 || '%' OR {column} LIKE '%' || $2 || '%'"
        );
        let found: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .bind(&sha256)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(
            found, 0,
            "{table}.{column} still mentions the purged document"
        );
    }
    assert!(
        !blobs.contains(&sha256).await.unwrap(),
        "the blob is still stored"
    );
    // The other document stays, and the purge is on record.
    let other = server
        .call("GET", &format!("/v1/documents/{kept}"), Some(&admin), None)
        .await;
    assert_eq!(other.status(), 200);
    let purges = get_json(&server, "/v1/audit?action=document.purge", &admin).await;
    let entry = &purges["entries"][0];
    assert_eq!(entry["resource"], format!("document:{document}"));
    assert_eq!(entry["actor"], "system:retention");
    store.close().await;
    let verify = server.cli(&["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(!server.log().contains(text), "document text in the log");
}

#[tokio::test]
async fn heron_keys_creates_lists_and_revokes_and_revoked_keys_stop_at_once() {
    let server = TestServer::start(&NO_LIMITS).await;
    let key = server.create_key("acme", "reader");
    assert_eq!(
        server
            .call("GET", "/v1/jobs", Some(&key), None)
            .await
            .status(),
        200
    );
    // Sent the original way too.
    let original = server
        .client
        .get(server.url("/v1/jobs"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(original.status(), 200);
    let list = server.cli(&["keys", "list", "--tenant", "acme"]);
    let listing = String::from_utf8_lossy(&list.stdout).into_owned();
    let id = key.split('_').nth(1).unwrap();
    assert!(
        listing.contains(id) && listing.contains("active"),
        "{listing}"
    );
    assert!(
        !listing.contains(key.rsplit('_').next().unwrap()),
        "secret listed"
    );
    let revoke = server.cli(&["keys", "revoke", "--tenant", "acme", id]);
    assert!(revoke.status.success());
    assert_error(
        server.call("GET", "/v1/jobs", Some(&key), None).await,
        401,
        "unauthorized",
    )
    .await;
    // A key for another tenant's id is not revocable from here.
    let other = server.cli(&["keys", "revoke", "--tenant", "globex", id]);
    assert!(!other.status.success());
}

#[tokio::test]
async fn text_comes_redacted_unless_a_reviewer_asks_and_results_count_personal_data() {
    let server = TestServer::start(&NO_LIMITS).await;
    let admin = server.create_key("acme", "admin");
    let (_, reader) = new_key(&server, &admin, "reader").await;
    let (_, reviewer) = new_key(&server, &admin, "reviewer").await;
    let text = "PAY SLIP\nEmployee: Jane Doe\nSSN: 123-45-6789\nE-mail jane.doe@example.com\n\
                Net pay 2,345.67 paid to IBAN DE89 3704 0044 0532 0130 00\n";
    let response = server
        .upload_with(
            &[("slip.txt".to_owned(), text.as_bytes().to_vec())],
            Some(&admin),
            &[],
        )
        .await;
    let results = json_of(response).await;
    let result = &results[0];
    assert_eq!(
        result["pii"],
        json!({ "email": 1, "iban": 1, "ssn": 1 }),
        "{result}"
    );
    assert!(!result.to_string().contains("123-45-6789"));
    let document = result["document_id"].as_str().unwrap();
    let path = format!("/v1/documents/{document}/text");

    let redacted = server.call("GET", &path, Some(&reader), None).await;
    assert_eq!(redacted.status(), 200);
    assert!(
        redacted.headers()["heron-provenance"]
            .to_str()
            .unwrap()
            .contains("tenant acme")
    );
    let redacted = redacted.text().await.unwrap();
    assert!(
        redacted.starts_with("[exported by Heron for key:"),
        "{redacted}"
    );
    assert!(
        redacted.contains("SSN: [SSN]")
            && redacted.contains("[EMAIL]")
            && redacted.contains("[IBAN]")
    );
    assert!(!redacted.contains("123-45-6789") && !redacted.contains("jane.doe@"));

    let plain = format!("{path}?redact=false");
    assert_error(
        server.call("GET", &plain, Some(&reader), None).await,
        403,
        "forbidden",
    )
    .await;
    let full = server
        .call("GET", &plain, Some(&reviewer), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(full.contains("SSN: 123-45-6789"), "{full}");
    // The original file, stamped with its provenance, for reviewers only.
    let file_path = format!("/v1/documents/{document}/file");
    assert_error(
        server.call("GET", &file_path, Some(&reader), None).await,
        403,
        "forbidden",
    )
    .await;
    let original = server.call("GET", &file_path, Some(&reviewer), None).await;
    assert_eq!(original.status(), 200);
    assert!(
        original.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("slip.txt")
    );
    let original = original.text().await.unwrap();
    let (stamp, rest) = original.split_once('\n').unwrap();
    assert!(stamp.starts_with("[exported by Heron for key:") && stamp.contains("tenant acme"));
    assert_eq!(rest, text);

    // A tenant that keeps only redacted text has nothing else to give.
    let response = server
        .call(
            "PUT",
            "/v1/admin/tenant",
            Some(&admin),
            Some(json!({ "store_redacted_text": true })),
        )
        .await;
    assert_eq!(response.status(), 200);
    let other = server
        .upload_document(&admin, "slip2.txt", &text.replace("Jane", "Joan"))
        .await;
    let stored = server
        .call(
            "GET",
            &format!("/v1/documents/{other}/text?redact=false"),
            Some(&admin),
            None,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        stored.contains("[SSN]") && !stored.contains("123-45-6789"),
        "{stored}"
    );
    let store = server.open_store().await;
    let raw: Vec<String> = sqlx::query_scalar("SELECT body FROM document_texts WHERE task_id = $1")
        .bind(&other)
        .fetch_all(store.pool_for_tests())
        .await
        .unwrap();
    assert!(!raw[0].contains("123-45-6789"));
    store.close().await;
}

fn master_key_file(dir: &std::path::Path, name: &str) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = [uuid_bytes(), uuid_bytes()].concat();
    let path = dir.join(name);
    std::fs::write(
        &path,
        base64::engine::general_purpose::STANDARD.encode(bytes),
    )
    .unwrap();
    // Start-up refuses secret files every user may read.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path.to_string_lossy().into_owned()
}

fn uuid_bytes() -> Vec<u8> {
    use std::io::Read;
    // Test keys only: 16 bytes from the system's randomness.
    let mut bytes = vec![0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("reading /dev/urandom");
    bytes
}

#[tokio::test]
async fn files_and_texts_are_encrypted_at_rest_a_wrong_key_stops_start_up_and_rotation_rewraps() {
    let keys = tempfile::tempdir().unwrap();
    let first = master_key_file(keys.path(), "first.key");
    let second = master_key_file(keys.path(), "second.key");
    let mut env = NO_LIMITS.to_vec();
    env.push(("HERON_MASTER_KEY_FILE", first.as_str()));
    let mut server = TestServer::start(&env).await;
    let admin = server.create_key("acme", "admin");
    let secret_text =
        "Bank statement for account holder Jane Doe, SSN 123-45-6789, balance 9,876.54";
    let document = server
        .upload_document(&admin, "statement.txt", secret_text)
        .await;
    let path = format!("/v1/documents/{document}/text?redact=false");
    let read = server
        .call("GET", &path, Some(&admin), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(read.contains(secret_text), "{read}");

    // What the database holds is sealed.
    let store = server.open_store().await;
    let raw: String = sqlx::query_scalar("SELECT body FROM document_texts WHERE task_id = $1")
        .bind(&document)
        .fetch_one(store.pool_for_tests())
        .await
        .unwrap();
    assert!(raw.starts_with("enc:v1:"), "{raw}");
    assert!(!raw.contains("Jane") && !raw.contains("123-45-6789"));
    store.close().await;
    // So is the file itself (checked on the local blob folder).
    if !crate::support::shared_storage() {
        let detail = get_json(&server, &format!("/v1/documents/{document}"), &admin).await;
        let sha = detail["sha256"].as_str().unwrap();
        let stored =
            std::fs::read(server.data_dir.join("blobs").join(&sha[..2]).join(sha)).unwrap();
        assert!(stored.starts_with(b"HERONBLOB1"));
        assert!(!String::from_utf8_lossy(&stored).contains("Jane"));
    }

    // Started with another key, Heron refuses to run.
    server.kill();
    server.set_env("HERON_MASTER_KEY_FILE", &second);
    let refused = server.cli(&["serve", "--bind", "127.0.0.1:0", "--workers", "0"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("wrong master key"), "{stderr}");

    // Rotation re-wraps the data keys; the new key then opens everything.
    server.set_env("HERON_MASTER_KEY_FILE", &first);
    let rotate = server.cli(&["keys", "rotate-master", "--new-key-file", &second]);
    assert!(
        rotate.status.success(),
        "{}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    server.set_env("HERON_MASTER_KEY_FILE", &second);
    server.restart().await;
    let read = server
        .call("GET", &path, Some(&admin), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(read.contains(secret_text), "{read}");
    // The file sealed under the first key opens under the second.
    let master = heron_store::MasterKey::from_file(std::path::Path::new(&second)).unwrap();
    let store = server
        .open_store()
        .await
        .with_master_key(Some(std::sync::Arc::new(master)));
    let blobs = server.open_blobs().await.with_encryption(&store);
    let sha = get_json(&server, &format!("/v1/documents/{document}"), &admin).await["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = blobs.fetch(&sha, secret_text.len() as u64).await.unwrap();
    assert_eq!(std::fs::read(file.path()).unwrap(), secret_text.as_bytes());
    let after: String = sqlx::query_scalar("SELECT body FROM document_texts WHERE task_id = $1")
        .bind(&document)
        .fetch_one(store.pool_for_tests())
        .await
        .unwrap();
    assert_eq!(after, raw, "rotation does not re-encrypt documents");
    store.close().await;
    // The rotation is on record, in the deployment's chain.
    let verify = server.cli(&["audit", "verify"]);
    let chains = String::from_utf8_lossy(&verify.stdout);
    assert!(chains.contains("tenant _deployment: 1 entries"), "{chains}");
}

#[tokio::test]
async fn the_compliance_report_counts_documents_personal_data_accesses_and_keys() {
    let server = TestServer::start(&NO_LIMITS).await;
    let admin = server.create_key("acme", "admin");
    let globex = server.create_key("globex", "admin");
    let slip = "Employee SSN 123-45-6789, e-mail jane@example.com, phone (212) 555-0147";
    let first = server.upload_document(&admin, "one.txt", slip).await;
    server
        .upload_document(&admin, "two.txt", "Contact: joe@example.org")
        .await;
    server
        .upload_document(&globex, "other.txt", "SSN 234-56-7890")
        .await;
    let erased = server
        .call(
            "DELETE",
            &format!("/v1/documents/{first}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(erased.status(), 204);

    let report = get_json(&server, "/v1/compliance/report", &admin).await;
    assert_eq!(report["tenant"], "acme");
    assert_eq!(
        report["documents"],
        json!({
            "stored": 1, "uploaded": 2, "erased": 1, "purged": 0,
            "files_purged": 0, "texts_purged": 0,
        }),
        "{report}"
    );
    // The erased document's personal data is gone with it.
    assert_eq!(report["pii_found"], json!({ "email": 1 }), "{report}");
    let accesses = report["accesses"].as_array().unwrap();
    assert!(
        accesses
            .iter()
            .any(|a| a["action"] == "document.erase" && a["count"] == 1)
    );
    assert_eq!(report["keys"].as_array().unwrap().len(), 1);
    assert_eq!(report["audit_chain"]["intact"], true);
    assert!(!report.to_string().contains("globex"));

    let csv = server
        .call(
            "GET",
            "/v1/compliance/report?format=csv",
            Some(&admin),
            None,
        )
        .await;
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("section,name,value\n"), "{csv}");
    assert!(
        csv.contains("documents,erased,1\n") && csv.contains("pii_found,email,1\n"),
        "{csv}"
    );
    assert_error(
        server
            .call(
                "GET",
                "/v1/compliance/report?format=xml",
                Some(&admin),
                None,
            )
            .await,
        400,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn a_downloaded_pdf_carries_its_provenance_in_a_footer_and_its_metadata() {
    if !crate::support::tools_available() {
        return;
    }
    let server = TestServer::start(&NO_LIMITS).await;
    let admin = server.create_key("acme", "admin");
    let response = server
        .upload_with(
            &[(
                "scan_0042.pdf".to_owned(),
                crate::support::made("invoice", "pdf", 0),
            )],
            Some(&admin),
            &[],
        )
        .await;
    let document = json_of(response).await[0]["document_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = server
        .call(
            "GET",
            &format!("/v1/documents/{document}/file"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["heron-stamp"], "stamped");
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let bytes = response.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("downloaded.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let run = |program: &str, args: &[&str]| {
        let out = std::process::Command::new(program)
            .args(args)
            .arg(&path)
            .args(if program == "pdftotext" {
                &["-"][..]
            } else {
                &[][..]
            })
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = run("pdftotext", &[]);
    assert!(text.contains("INVOICE"), "the document is still there");
    assert!(
        text.contains("exported by Heron for key:") && text.contains("tenant acme"),
        "{text}"
    );
    let info = run("pdfinfo", &["-custom"]);
    assert!(
        info.contains("HeronProvenance: exported by Heron"),
        "{info}"
    );
}
