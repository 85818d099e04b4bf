//! HTTPS: `heron serve` with a certificate from a CA made by the test
//! (openssl), HTTP/2 by ALPN, HSTS, and the certificate replaced on disk
//! and reloaded on SIGHUP without a restart.

use std::path::Path;
use std::process::Command;

use crate::support::{TestServer, openssl};

/// A CA named `name`: `<name>.key`, `<name>.pem`.
fn certificate_authority(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &format!("{name}.key"),
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &format!("{name}.key"),
            "-subj",
            &format!("/CN={name}"),
            "-days",
            "2",
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// A certificate for `subject` signed by the CA `ca`, with the extensions
/// `extensions`: `<out>.key`, `<out>.pem`, both replaced at once as a
/// renewal tool does.
fn signed_certificate(dir: &Path, ca: &str, subject: &str, extensions: &str, out: &str) {
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "new.key",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "new.key",
            "-subj",
            &format!("/CN={subject}"),
            "-out",
            "new.csr",
        ],
    );
    std::fs::write(dir.join("ext"), format!("{extensions}\n")).expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "new.csr",
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext",
            "-out",
            "new.pem",
        ],
    );
    std::fs::rename(dir.join("new.key"), dir.join(format!("{out}.key"))).expect("key");
    std::fs::rename(dir.join("new.pem"), dir.join(format!("{out}.pem"))).expect("cert");
}

/// A server certificate for 127.0.0.1 named `name`, signed by the CA.
fn server_certificate(dir: &Path, name: &str) {
    signed_certificate(
        dir,
        "ca",
        name,
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "server",
    );
}

/// Whether the tools are here (`heron_testkit::missing` when not).
fn tools_installed() -> bool {
    let curl_installed = Command::new("curl").arg("--version").output().is_ok();
    let openssl_installed = Command::new("openssl").arg("version").output().is_ok();
    if !curl_installed || !openssl_installed {
        heron_testkit::missing(
            "openssl and curl, for the TLS test (scripts/setup-system --test installs them)",
        );
    }
    curl_installed && openssl_installed
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
    if !tools_installed() {
        return;
    }
    let folder = tempfile::tempdir().expect("folder");
    let dir = folder.path();
    certificate_authority(dir, "ca");
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
    // A UI session signed in over Heron's own TLS: its cookie is Secure.
    let signed_in = Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/null", "--cacert"])
        .arg(dir.join("ca.pem"))
        .args(["--data", &format!("credential={}", crate::support::API_KEY)])
        .arg(server.url("/ui/login"))
        .output()
        .expect("running curl");
    let headers = String::from_utf8_lossy(&signed_in.stdout).to_lowercase();
    let cookie = headers
        .lines()
        .find(|l| l.starts_with("set-cookie: heron_session="))
        .unwrap_or_else(|| panic!("no session cookie: {headers}"));
    assert!(cookie.contains("; secure"), "{cookie}");
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

/// Mutual TLS: with `HERON_TLS_CLIENT_CA`, only clients presenting a
/// certificate from that CA get through the handshake.
#[tokio::test]
async fn mutual_tls_admits_only_clients_with_a_certificate_from_the_ca() {
    if !tools_installed() {
        return;
    }
    let folder = tempfile::tempdir().expect("folder");
    let dir = folder.path();
    certificate_authority(dir, "ca");
    certificate_authority(dir, "rogue");
    server_certificate(dir, "server");
    let client = "extendedKeyUsage=clientAuth";
    signed_certificate(dir, "ca", "worker-1", client, "client");
    signed_certificate(dir, "rogue", "intruder", client, "intruder");
    let identity = dir.join("client.identity");
    let pem = [
        std::fs::read(dir.join("client.pem")).expect("client cert"),
        std::fs::read(dir.join("client.key")).expect("client key"),
    ]
    .concat();
    std::fs::write(&identity, pem).expect("identity");
    let path = |name: &str| dir.join(name).display().to_string();
    let server = TestServer::start(&[
        ("HERON_TLS_CERT", path("server.pem").as_str()),
        ("HERON_TLS_KEY", path("server.key").as_str()),
        ("HERON_TLS_CLIENT_CA", path("ca.pem").as_str()),
        ("HERON_TEST_CA_FILE", path("ca.pem").as_str()),
        (
            "HERON_TEST_CLIENT_IDENTITY",
            identity.display().to_string().as_str(),
        ),
    ])
    .await;
    // The test's own client presents worker-1's certificate.
    assert_eq!(server.get("/v1/health").await.status(), 200);

    let curl = |extra: &[String]| {
        Command::new("curl")
            .args(["-s", "--cacert", &path("ca.pem")])
            .args(extra)
            .args([
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &server.url("/v1/health"),
            ])
            .output()
            .expect("running curl")
    };
    let with = |name: &str| {
        vec![
            "--cert".to_owned(),
            path(&format!("{name}.pem")),
            "--key".to_owned(),
            path(&format!("{name}.key")),
        ]
    };
    let admitted = curl(&with("client"));
    assert!(admitted.status.success());
    assert_eq!(String::from_utf8_lossy(&admitted.stdout), "200");
    for (who, args) in [
        ("no certificate", Vec::new()),
        ("another CA's certificate", with("intruder")),
    ] {
        let refused = curl(&args);
        assert!(
            !refused.status.success() && String::from_utf8_lossy(&refused.stdout) != "200",
            "{who}: {}",
            String::from_utf8_lossy(&refused.stdout)
        );
    }
}
