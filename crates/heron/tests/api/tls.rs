//! HTTPS: `heron serve` with a certificate from a CA made by the test
//! (openssl), HTTP/2 by ALPN, HSTS, and the certificate replaced on disk
//! and reloaded on SIGHUP without a restart.

use std::path::Path;
use std::process::Command;

use crate::support::{TestServer, openssl};

/// A server certificate for 127.0.0.1 named `name`, signed by the CA.
fn server_certificate(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "server.key.new",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "server.key.new",
            "-subj",
            &format!("/CN={name}"),
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext",
            "-out",
            "server.pem.new",
        ],
    );
    // Replace both files at once, as a renewal tool does.
    std::fs::rename(dir.join("server.key.new"), dir.join("server.key")).expect("key");
    std::fs::rename(dir.join("server.pem.new"), dir.join("server.pem")).expect("cert");
}

/// `curl` over HTTPS trusting only the test CA: (HTTP version, subject of
/// the certificate the server presented).
fn curl(dir: &Path, url: &str) -> (String, String) {
    let output = Command::new("curl")
        .args(["-sv", "--http2", "--cacert"])
        .arg(dir.join("ca.pem"))
        .args(["-o", "/dev/null", "-w", "%{http_version}", url])
        .output()
        .expect("running curl");
    assert!(
        output.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let log = String::from_utf8_lossy(&output.stderr);
    let subject = log
        .lines()
        .find_map(|l| l.split_once("subject:").map(|(_, s)| s.trim().to_owned()))
        .unwrap_or_default();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        subject,
    )
}

#[tokio::test]
async fn https_with_http2_hsts_and_a_certificate_reloaded_on_sighup() {
    let curl_installed = Command::new("curl").arg("--version").output().is_ok();
    let openssl_installed = Command::new("openssl").arg("version").output().is_ok();
    if !curl_installed || !openssl_installed {
        eprintln!(
            "\n!!! SKIPPED the TLS test: openssl and curl are needed (.ci/run installs them) !!!\n"
        );
        return;
    }
    let folder = tempfile::tempdir().expect("folder");
    let dir = folder.path();
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ca.key",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-subj",
            "/CN=Heron Test CA",
            "-days",
            "2",
            "-out",
            "ca.pem",
        ],
    );
    server_certificate(dir, "first");
    let (cert, key, ca) = (
        dir.join("server.pem").display().to_string(),
        dir.join("server.key").display().to_string(),
        dir.join("ca.pem").display().to_string(),
    );
    let server = TestServer::start(&[
        ("HERON_TLS_CERT", cert.as_str()),
        ("HERON_TLS_KEY", key.as_str()),
        ("HERON_TEST_CA_FILE", ca.as_str()),
    ])
    .await;
    assert!(server.base.starts_with("https://"));

    // The API over HTTPS (HTTP/1.1 from reqwest), with HSTS.
    let health = server.get("/v1/health").await;
    assert_eq!(health.status(), 200);
    assert!(
        health.headers()["strict-transport-security"]
            .to_str()
            .unwrap_or_default()
            .contains("max-age=31536000")
    );
    let version = server.get_json("/v1/version").await;
    assert!(version.is_object());
    // HTTP/2 by ALPN.
    let (http, subject) = curl(dir, &server.url("/v1/health"));
    assert_eq!(http, "2", "HTTP version");
    assert!(subject.contains("first"), "{subject}");
    // Plain HTTP to the HTTPS port gets nothing useful.
    let plain = reqwest::Client::new()
        .get(server.url("/v1/health").replace("https://", "http://"))
        .send()
        .await;
    assert!(plain.is_err() || plain.is_ok_and(|r| r.status() != 200));

    // A renewed certificate, picked up on SIGHUP without a restart.
    server_certificate(dir, "renewed");
    let status = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .expect("kill -HUP");
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let (_, subject) = curl(dir, &server.url("/v1/health"));
        if subject.contains("renewed") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still serving {subject}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        server.get("/v1/health").await.status(),
        200,
        "same process, still serving"
    );
}
