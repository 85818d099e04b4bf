//! Bearer JWTs from an OpenID Connect issuer: a real issuer on loopback
//! (discovery document + JWKS) with RSA and P-256 keys made for the test
//! by `openssl`, tokens signed here.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::{API_KEY, TestServer, assert_error, openssl};

const AUDIENCE: &str = "heron-api";

/// A signing key and its public JWK.
struct Key {
    kid: String,
    algorithm: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn rsa_key(dir: &Path, kid: &str) -> Key {
    let pem = format!("{kid}.pem");
    openssl(dir, &["genrsa", "-traditional", "-out", &pem, "2048"]);
    let der = openssl(
        dir,
        &["rsa", "-in", &pem, "-outform", "DER", "-traditional"],
    );
    let modulus =
        String::from_utf8(openssl(dir, &["rsa", "-in", &pem, "-noout", "-modulus"])).unwrap();
    let modulus = hex::decode(modulus.trim().trim_start_matches("Modulus=")).unwrap();
    Key {
        kid: kid.to_owned(),
        algorithm: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(&der),
        jwk: json!({
            "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(modulus), "e": "AQAB",
        }),
    }
}

fn ec_key(dir: &Path, kid: &str) -> Key {
    let pem = format!("{kid}.pem");
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            &pem,
        ],
    );
    let pkcs8 = openssl(
        dir,
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", &pem, "-outform", "DER",
        ],
    );
    let public = openssl(dir, &["ec", "-in", &pem, "-pubout", "-outform", "DER"]);
    // The SubjectPublicKeyInfo ends with the point 04 || x || y.
    let point = &public[public.len() - 65..];
    assert_eq!(point[0], 4);
    Key {
        kid: kid.to_owned(),
        algorithm: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(&pkcs8),
        jwk: json!({
            "kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        }),
    }
}

/// The issuer: serves its discovery document and whatever key set the
/// test puts in `jwks`.
struct Issuer {
    url: String,
    jwks: Arc<Mutex<Value>>,
}

impl Issuer {
    async fn start(keys: &[&Key]) -> Issuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let jwks = Arc::new(Mutex::new(Value::Null));
        let discovery = json!({ "issuer": url, "jwks_uri": format!("{url}/jwks") });
        let served = jwks.clone();
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || {
                    let discovery = discovery.clone();
                    async move { axum::Json(discovery) }
                }),
            )
            .route(
                "/jwks",
                axum::routing::get(move || {
                    let set = served.lock().unwrap().clone();
                    async move { axum::Json(set) }
                }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let issuer = Issuer { url, jwks };
        issuer.publish(keys);
        issuer
    }

    fn publish(&self, keys: &[&Key]) {
        let set: Vec<Value> = keys.iter().map(|k| k.jwk.clone()).collect();
        *self.jwks.lock().unwrap() = json!({ "keys": set });
    }

    /// Good claims for `tenant` with `roles`, valid for an hour.
    fn claims(&self, tenant: &str, roles: &[&str]) -> Value {
        let now = now();
        json!({
            "iss": self.url, "sub": "alice", "aud": AUDIENCE,
            "iat": now, "nbf": now - 5, "exp": now + 3600,
            "tenant": tenant, "roles": roles,
        })
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(key: &Key, claims: &Value) -> String {
    let mut header = Header::new(key.algorithm);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

async fn assert_refused(server: &TestServer, token: &str, why: &str) {
    let response = server.call("GET", "/v1/jobs", Some(token), None).await;
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\"",
        "{why}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_token", "{why}: {body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains(why),
        "{why}: {body}"
    );
}

#[tokio::test]
async fn tokens_of_a_configured_issuer_are_verified_and_its_key_rotation_followed() {
    let dir = tempfile::tempdir().unwrap();
    let rsa = rsa_key(dir.path(), "rsa-1");
    let ec = ec_key(dir.path(), "ec-1");
    let issuer = Issuer::start(&[&rsa, &ec]).await;
    let server = TestServer::start(&[
        ("HERON_OIDC_ISSUERS", issuer.url.as_str()),
        ("HERON_OIDC_AUDIENCE", AUDIENCE),
        ("HERON_OIDC_LEEWAY_SECS", "30"),
    ])
    .await;

    // RS256, a reader: may read, may not administer.
    let reader = sign(&rsa, &issuer.claims("acme", &["reader"]));
    assert_eq!(
        server
            .call("GET", "/v1/jobs", Some(&reader), None)
            .await
            .status(),
        200
    );
    assert_error(
        server
            .call("GET", "/v1/admin/keys", Some(&reader), None)
            .await,
        403,
        "forbidden",
    )
    .await;
    // ES256, an admin of acme: sees acme only, and is named in the audit log.
    let admin = sign(
        &ec,
        &issuer.claims("acme", &["admin", "someone-elses-role"]),
    );
    assert_eq!(
        server
            .call("GET", "/v1/admin/keys", Some(&admin), None)
            .await
            .status(),
        200
    );
    server
        .upload_document(API_KEY, "a.txt", "invoice total 10.00")
        .await;
    let mine = server.call("GET", "/v1/jobs", Some(&admin), None).await;
    let mine: Value = mine.json().await.unwrap();
    assert_eq!(mine["jobs"].as_array().unwrap().len(), 0, "{mine}");
    let denied = server
        .call("GET", "/v1/audit?action=access.denied", Some(&admin), None)
        .await;
    let denied: Value = denied.json().await.unwrap();
    assert_eq!(
        denied["entries"][0]["actor"],
        format!("token:{}#alice", issuer.url)
    );

    // Every way a token can be wrong.
    let mut expired = issuer.claims("acme", &["reader"]);
    expired["exp"] = json!(now() - 3600);
    assert_refused(&server, &sign(&rsa, &expired), "expired").await;
    let mut early = issuer.claims("acme", &["reader"]);
    early["nbf"] = json!(now() + 3600);
    assert_refused(&server, &sign(&rsa, &early), "not valid yet").await;
    let mut audience = issuer.claims("acme", &["reader"]);
    audience["aud"] = json!("another-api");
    assert_refused(&server, &sign(&rsa, &audience), "another audience").await;
    // A token minted for no audience at all is not one for us either.
    let mut no_audience = issuer.claims("acme", &["reader"]);
    no_audience.as_object_mut().unwrap().remove("aud");
    assert_refused(&server, &sign(&rsa, &no_audience), "\"aud\" claim").await;
    let mut stranger = issuer.claims("acme", &["reader"]);
    stranger["iss"] = json!("http://127.0.0.1:1/evil");
    assert_refused(&server, &sign(&rsa, &stranger), "not trusted").await;
    let mut no_tenant = issuer.claims("acme", &["reader"]);
    no_tenant.as_object_mut().unwrap().remove("tenant");
    assert_refused(&server, &sign(&rsa, &no_tenant), "tenant").await;
    let unknown = Key {
        kid: "nobody-knows".to_owned(),
        ..rsa_key(dir.path(), "rsa-unknown")
    };
    assert_refused(
        &server,
        &sign(&unknown, &issuer.claims("acme", &["reader"])),
        "no key",
    )
    .await;
    // A token signed by a key the issuer does not publish, under a kid it
    // does: the signature fails.
    let forged = Key {
        kid: "rsa-1".to_owned(),
        ..rsa_key(dir.path(), "rsa-forger")
    };
    assert_refused(
        &server,
        &sign(&forged, &issuer.claims("acme", &["admin"])),
        "signature",
    )
    .await;
    // Algorithm confusion: HS256 "signed" with the public key is refused
    // (HS256 is off unless HERON_JWT_HS256_SECRET is set).
    let public = rsa.jwk["n"].as_str().unwrap().as_bytes().to_vec();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".to_owned());
    let confused = jsonwebtoken::encode(
        &header,
        &issuer.claims("acme", &["admin"]),
        &EncodingKey::from_secret(&public),
    )
    .unwrap();
    assert_refused(&server, &confused, "HS256").await;
    // API keys keep working beside tokens.
    assert_eq!(
        server
            .call("GET", "/v1/jobs", Some(API_KEY), None)
            .await
            .status(),
        200
    );

    // The issuer rotates: a new key replaces the old one. Heron fetches
    // the key set again when a token names the new key (after the short
    // cool-down that protects the issuer), without a restart.
    let rotated = rsa_key(dir.path(), "rsa-2");
    issuer.publish(&[&rotated, &ec]);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let fresh = sign(&rotated, &issuer.claims("acme", &["reader"]));
    assert_eq!(
        server
            .call("GET", "/v1/jobs", Some(&fresh), None)
            .await
            .status(),
        200
    );
    assert_refused(&server, &reader, "no key").await;

    // Nothing of a token reaches the log.
    let log = server.log();
    for token in [&reader, &admin, &fresh] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!log.contains(signature), "a token is in the log");
    }
}

#[tokio::test]
async fn each_of_several_issuers_speaks_only_for_its_own_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let key_a = rsa_key(dir.path(), "a-1");
    let key_b = ec_key(dir.path(), "b-1");
    let a = Issuer::start(&[&key_a]).await;
    let b = Issuer::start(&[&key_b]).await;
    let issuers = format!("{},{}", a.url, b.url);
    let bound = format!("{}=acme,{}=globex|initech", a.url, b.url);
    let server = TestServer::start(&[
        ("HERON_OIDC_ISSUERS", issuers.as_str()),
        ("HERON_OIDC_AUDIENCE", AUDIENCE),
        ("HERON_OIDC_ISSUER_TENANTS", bound.as_str()),
    ])
    .await;
    for (key, issuer, tenant) in [(&key_a, &a, "acme"), (&key_b, &b, "globex")] {
        let token = sign(key, &issuer.claims(tenant, &["reader"]));
        let response = server.call("GET", "/v1/jobs", Some(&token), None).await;
        assert_eq!(response.status(), 200, "{tenant}");
    }
    // Issuer A asserting a tenant of issuer B, and B asserting acme.
    assert_refused(
        &server,
        &sign(&key_a, &a.claims("globex", &["admin"])),
        "may not speak for tenant \"globex\"",
    )
    .await;
    assert_refused(
        &server,
        &sign(&key_b, &b.claims("acme", &["admin"])),
        "may not speak for tenant \"acme\"",
    )
    .await;
}
