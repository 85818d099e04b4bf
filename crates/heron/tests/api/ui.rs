//! The web UI end to end, in Debian's headless Chromium driven through
//! chromedriver (WebDriver): sign in, upload five files (one the model is
//! unsure of), correct it in the review queue, retrain, compare, promote,
//! see the corrected document recognised under a new name, define a new
//! type from five examples and see a sixth recognised, then the dashboard.
//! Screenshots of every step go to `target/ui-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::support::{
    API_KEY, TestServer, UNSURE_RECEIPT, free_port, made, made_picture, vet_record,
};

const ADMIN_KEY: &str = "ui-admin-key-0123456789";

/// chromedriver and its browser session; both end on drop.
struct Browser {
    driver: Child,
    client: Client,
    shots: PathBuf,
    step: usize,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Start chromedriver and a headless Chromium; `None` (after
    /// `heron_testkit::missing`) where they are not installed.
    async fn start() -> Option<Browser> {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let driver_installed = Command::new("chromedriver")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        let (Some(chromium), true) = (chromium, driver_installed) else {
            heron_testkit::missing(
                "chromium and chromedriver, for the web UI test (apt-get install chromium chromium-driver; scripts/setup-system --test does)",
            );
            return None;
        };
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-dev-shm-usage",
                    "--window-size=1366,1000"
                ]
            }
        });
        let capabilities = capabilities.as_object().cloned().expect("an object");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => panic!("chromedriver: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots");
        std::fs::create_dir_all(&shots).expect("screenshot folder");
        Some(Browser {
            driver,
            client,
            shots,
            step: 0,
        })
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigating");
    }

    async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current URL")
            .path()
            .to_owned()
    }

    /// Save a screenshot of the page as `NN-name.png`.
    async fn shot(&mut self, name: &str) {
        self.step += 1;
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{:02}-{name}.png", self.step)), png)
            .expect("writing a screenshot");
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!("no {css} on {}: {e}", self.path().await),
        }
    }

    async fn text_of(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    /// Wait until `check` holds for the page (polled), or fail with `what`.
    async fn until(&self, what: &str, timeout: Duration, check: impl AsyncFn(&Client) -> bool) {
        let deadline = Instant::now() + timeout;
        while !check(&self.client).await {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} on {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Choose `files` in the upload page's file input and wait until each
    /// has its result row; returns each file's (name, label) in row order.
    async fn upload(&self, files: &[PathBuf]) -> Vec<(String, String)> {
        let before = self.rows_done().await;
        let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        self.find("#files")
            .await
            .send_keys(&paths.join("\n"))
            .await
            .expect("choosing files");
        let wanted = before + files.len();
        self.until(
            "upload results",
            Duration::from_secs(240),
            async |client: &Client| {
                client
                    .find_all(Locator::Css(
                        "#results tbody tr.done, #results tbody tr.failed",
                    ))
                    .await
                    .map_or(0, |rows| rows.len())
                    >= wanted
            },
        )
        .await;
        let failed = self
            .client
            .find_all(Locator::Css("#results tbody tr.failed"))
            .await
            .expect("rows");
        if let Some(row) = failed.first() {
            panic!("an upload failed: {}", row.text().await.unwrap_or_default());
        }
        let mut out = Vec::new();
        for row in self
            .client
            .find_all(Locator::Css("#results tbody tr"))
            .await
            .expect("rows")
        {
            let file = row
                .attr("data-file")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            let label = row
                .attr("data-label")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            out.push((file, label));
        }
        out
    }

    async fn rows_done(&self) -> usize {
        self.client
            .find_all(Locator::Css(
                "#results tbody tr.done, #results tbody tr.failed",
            ))
            .await
            .map_or(0, |rows| rows.len())
    }

    /// Sign in with `key` from the sign-in page.
    async fn sign_in(&self, base: &str, key: &str, next: &str) {
        self.goto(&format!("{base}{next}")).await;
        self.until(
            "the sign-in page",
            Duration::from_secs(10),
            async |c: &Client| c.current_url().await.is_ok_and(|u| u.path() == "/ui/login"),
        )
        .await;
        self.find("#credential")
            .await
            .send_keys(key)
            .await
            .expect("typing the key");
        self.find("form.card button[type=submit]")
            .await
            .click()
            .await
            .expect("signing in");
        self.until(
            "the page after sign-in",
            Duration::from_secs(10),
            async |c: &Client| c.current_url().await.is_ok_and(|u| u.path() == next),
        )
        .await;
    }

    /// Start a retrain on the models page and wait for its comparison.
    async fn retrain(&self, base: &str, server: &TestServer) -> serde_json::Value {
        self.goto(&format!("{base}/ui/models")).await;
        let runs_before = server.get_json("/v1/models").await["runs"]
            .as_array()
            .map_or(0, Vec::len);
        self.find("#train").await.click().await.expect("retrain");
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let models = server.get_json("/v1/models").await;
            let runs = models["runs"].as_array().cloned().unwrap_or_default();
            if runs.len() > runs_before && runs[0]["state"] == "done" {
                // The page reloads itself when the run is done.
                self.find("#comparison").await;
                return runs[0].clone();
            }
            assert!(
                runs.first().is_none_or(|r| r["state"] != "failed"),
                "training failed: {}",
                runs[0]
            );
            assert!(Instant::now() < deadline, "training did not finish");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("writing a test file");
    path
}

#[tokio::test]
async fn review_retrain_promote_and_a_new_type_in_a_real_browser() {
    let Some(mut browser) = Browser::start().await else {
        return;
    };
    let server = TestServer::start(&[("HERON_ADMIN_API_KEYS", ADMIN_KEY)]).await;
    let base = server.url("");
    let files = tempfile::tempdir().expect("temporary folder");
    let dir = files.path();

    // 1. Sign in; upload five files, one of which the model is unsure of.
    browser.sign_in(&base, ADMIN_KEY, "/ui/upload").await;
    browser.shot("signed-in").await;
    let mut five = Vec::new();
    for (name, bytes) in [
        ("invoice_1.pdf", made("invoice", "pdf", 0)),
        ("bank_statement_1.pdf", made("bank_statement", "pdf", 0)),
        ("drivers_license_1.jpg", made_picture("drivers_licence")),
        (
            "sample_financial_report.docx",
            made("financial_report", "docx", 0),
        ),
    ] {
        five.push(write(dir, &format!("upload_{name}"), &bytes));
    }
    five.push(write(dir, "scan_0043.txt", UNSURE_RECEIPT.as_bytes()));
    let results = browser.upload(&five).await;
    browser.shot("five-uploaded").await;
    assert_eq!(results.len(), 5, "{results:?}");
    let label_of = |results: &[(String, String)], file: &str| {
        results
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| panic!("{file} not in {results:?}"))
    };
    assert_eq!(label_of(&results, "upload_invoice_1.pdf"), "invoice");
    assert_ne!(
        label_of(&results, "scan_0043.txt"),
        "receipt",
        "the default model must not know this receipt yet"
    );

    // 2. Find it in the review queue and correct its label.
    browser.goto(&format!("{base}/ui/review")).await;
    browser.find("#queue").await;
    browser.shot("review-queue").await;
    browser
        .client
        .find(Locator::LinkText("scan_0043.txt"))
        .await
        .expect("the unsure receipt is in the queue")
        .click()
        .await
        .expect("opening it");
    browser.find("#review").await;
    browser.shot("review-item").await;
    let document_path = browser.path().await;
    let document_id = document_path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    browser
        .find("#other-type")
        .await
        .select_by_value("receipt")
        .await
        .expect("choosing receipt");
    browser
        .find("button[data-action=correct-other]")
        .await
        .click()
        .await
        .expect("correcting");
    browser
        .until(
            "the verdict to be saved",
            Duration::from_secs(15),
            async |c: &Client| {
                match c.find(Locator::Css("#review-status")).await {
                    Ok(e) => e.text().await.is_ok_and(|t| t.contains("Saved")),
                    // Already moved on to the next document.
                    Err(_) => true,
                }
            },
        )
        .await;
    let reviews = server
        .get_json(&format!("/v1/documents/{document_id}/reviews"))
        .await;
    assert_eq!(reviews["reviews"][0]["label"], "receipt", "{reviews}");
    assert_eq!(reviews["reviews"][0]["action"], "correct");

    // 3. Retrain, see champion against challenger, promote.
    let run = browser.retrain(&base, &server).await;
    browser.shot("champion-challenger").await;
    assert!(browser.text_of("#comparison").await.contains("Challenger"));
    let challenger = run["challenger_id"]
        .as_str()
        .expect("a challenger")
        .to_owned();
    browser
        .find("#promote-latest")
        .await
        .click()
        .await
        .expect("promoting");
    browser
        .until(
            "the promotion",
            Duration::from_secs(15),
            async |c: &Client| match c.find(Locator::Css("#serving")).await {
                Ok(e) => e.text().await.is_ok_and(|t| challenger.starts_with(&t)),
                Err(_) => false,
            },
        )
        .await;
    browser.shot("promoted").await;

    // 4. The corrected document again, under a new name: now a receipt.
    browser.goto(&format!("{base}/ui/upload")).await;
    let again = write(dir, "IMG_2231.txt", UNSURE_RECEIPT.as_bytes());
    let results = browser.upload(&[again]).await;
    assert_eq!(label_of(&results, "IMG_2231.txt"), "receipt", "{results:?}");
    browser.shot("recognised-after-promotion").await;

    // 5. A new type from five uploaded examples; retrain; a sixth example.
    browser.goto(&format!("{base}/ui/types")).await;
    browser
        .find("#type-name")
        .await
        .send_keys("Veterinary record")
        .await
        .expect("naming the type");
    browser
        .find("#type-parent")
        .await
        .select_by_value("healthcare/clinical")
        .await
        .expect("choosing its family");
    browser.shot("define-type").await;
    browser
        .find("#define-type button[type=submit]")
        .await
        .click()
        .await
        .expect("defining the type");
    browser
        .until(
            "the examples upload page",
            Duration::from_secs(10),
            async |c: &Client| {
                c.current_url()
                    .await
                    .is_ok_and(|u| u.query() == Some("label=veterinary_record"))
            },
        )
        .await;
    let examples: Vec<PathBuf> = (0..5)
        .map(|i| write(dir, &format!("pet_{i}.txt"), vet_record(i).as_bytes()))
        .collect();
    browser.upload(&examples).await;
    browser.shot("examples-labelled").await;
    let figures = server.get_json("/v1/dashboard").await;
    assert_eq!(
        figures["reviewed_documents"], 6,
        "one correction, five examples"
    );
    let labelled = server.get_json("/v1/types").await.to_string();
    assert!(labelled.contains("veterinary_record"));
    let run = browser.retrain(&base, &server).await;
    assert_eq!(
        run["report"]["new_labels"],
        serde_json::json!(["veterinary_record"]),
        "{run}"
    );
    browser
        .find("#promote-latest")
        .await
        .click()
        .await
        .expect("promoting");
    let second = run["challenger_id"]
        .as_str()
        .expect("a challenger")
        .to_owned();
    browser
        .until(
            "the second promotion",
            Duration::from_secs(15),
            async |c: &Client| match c.find(Locator::Css("#serving")).await {
                Ok(e) => e.text().await.is_ok_and(|t| second.starts_with(&t)),
                Err(_) => false,
            },
        )
        .await;
    browser.goto(&format!("{base}/ui/upload")).await;
    let sixth = write(dir, "IMG_0007.txt", vet_record(5).as_bytes());
    let results = browser.upload(&[sixth]).await;
    assert_eq!(
        label_of(&results, "IMG_0007.txt"),
        "veterinary_record",
        "{results:?}"
    );
    browser.shot("new-type-recognised").await;

    // 6. The dashboard shows the documents and the promoted version.
    browser.goto(&format!("{base}/ui/dashboard")).await;
    let count: usize = browser
        .text_of("#documents-count")
        .await
        .parse()
        .expect("a count");
    assert!(count >= 12, "{count} documents on the dashboard");
    assert!(second.starts_with(&browser.text_of("#model-serving").await));
    let versions = browser.text_of("#dashboard-models").await;
    assert!(
        versions.contains("champion") && versions.contains("retired"),
        "{versions}"
    );
    browser.shot("dashboard").await;

    // Roles: a reader sees documents but cannot correct or train; a
    // reviewer cannot change models.
    let reader = server.create_key("default", "reader");
    browser
        .client
        .delete_all_cookies()
        .await
        .expect("signing out");
    browser.sign_in(&base, &reader, "/ui/dashboard").await;
    browser.goto(&format!("{base}{document_path}")).await;
    assert!(browser.client.find(Locator::Css("#review")).await.is_err());
    browser.goto(&format!("{base}/ui/review")).await;
    assert!(browser.text_of("main").await.contains("Not allowed"));
    browser.shot("reader-refused").await;
    let reviewer = server.create_key("default", "reviewer");
    browser
        .client
        .delete_all_cookies()
        .await
        .expect("signing out");
    browser.sign_in(&base, &reviewer, "/ui/models").await;
    assert!(browser.client.find(Locator::Css("#train")).await.is_err());
    assert!(
        browser
            .client
            .find(Locator::Css("button.promote"))
            .await
            .is_err()
    );

    browser
        .client
        .clone()
        .close()
        .await
        .expect("closing the browser");
}

/// An `application/x-www-form-urlencoded` body.
fn form(pairs: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The meta tag's CSRF token of a page.
fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf-token\" content=\"";
    let start = page.find(marker).expect("a csrf meta tag") + marker.len();
    page[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn pages_send_strangers_to_sign_in_and_sessions_need_their_csrf_token() {
    let server = TestServer::start(&[]).await;
    let reader = server.create_key("default", "reader");
    let reviewer = server.create_key("default", "reviewer");
    let document = server
        .upload_document(API_KEY, "memo.txt", "Invoice 42\nTotal due 100.00 EUR\n")
        .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    // Not signed in: the sign-in page, coming back here afterwards.
    let page = client
        .get(server.url("/ui/review"))
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/ui/login?next=/ui/review");
    let login = client
        .get(server.url("/ui/login"))
        .send()
        .await
        .expect("GET");
    let policy = login.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"));
    // A reader may not review: an explanation, not the page.
    let refused = client
        .get(server.url("/ui/review"))
        .header("x-api-key", &reader)
        .send()
        .await
        .expect("GET");
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .text()
            .await
            .unwrap_or_default()
            .contains("Not allowed")
    );

    // A wrong key is sent back with a message; a right one gets a session.
    let wrong = client
        .post(server.url("/ui/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("credential", "hk_nope_nope"),
            ("next", "/ui/review"),
        ]))
        .send()
        .await
        .expect("POST");
    assert_eq!(wrong.status(), 303);
    assert!(
        wrong.headers()["location"]
            .to_str()
            .unwrap_or_default()
            .contains("error=unknown")
    );
    assert!(wrong.headers().get("set-cookie").is_none());
    let signed_in = client
        .post(server.url("/ui/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("credential", reviewer.as_str()),
            ("next", "https://evil.example/"),
        ]))
        .send()
        .await
        .expect("POST");
    assert_eq!(signed_in.status(), 303);
    assert_eq!(
        signed_in.headers()["location"],
        "/ui/upload",
        "no open redirect"
    );
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap_or_default().to_owned();
    assert!(
        !server
            .log()
            .contains(session.split('=').nth(1).unwrap_or("-"))
    );

    let page = client
        .get(server.url(&format!("/ui/documents/{document}")))
        .header("cookie", &session)
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status(), 200);
    let csrf = csrf_of(&page.text().await.unwrap_or_default());
    let review = |token: Option<String>| {
        let mut request = client
            .post(server.url(&format!("/v1/documents/{document}/review")))
            .header("cookie", &session)
            .json(&serde_json::json!({ "action": "correct", "label": "invoice" }));
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        request.send()
    };
    // A change from another site carries the cookie but not the token.
    let forged = review(None).await.expect("POST");
    assert_eq!(forged.status(), 403);
    assert!(
        forged
            .text()
            .await
            .unwrap_or_default()
            .contains("csrf_rejected")
    );
    assert_eq!(
        review(Some(csrf.clone())).await.expect("POST").status(),
        201
    );
    // The session holds the reviewer's scopes only.
    let train = client
        .post(server.url("/v1/models/train"))
        .header("cookie", &session)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("POST");
    assert_eq!(train.status(), 403);

    // Page pictures: PDFs and images, for reviewers; audited.
    for (sample, mime, bytes) in [
        ("invoice", "pdf", made("invoice", "pdf", 0)),
        ("licence photo", "jpg", made_picture("drivers_licence")),
    ] {
        let response = server
            .upload_with(&[(format!("scan.{mime}"), bytes)], Some(API_KEY), &[])
            .await;
        let results: serde_json::Value = response.json().await.expect("results");
        let id = results[0]["document_id"].as_str().expect("id").to_owned();
        let page = client
            .get(server.url(&format!("/v1/documents/{id}/pages/1")))
            .header("x-api-key", &reviewer)
            .send()
            .await
            .expect("GET");
        assert_eq!(page.status(), 200, "{sample}");
        assert_eq!(page.headers()["content-type"], "image/png");
        let png = page.bytes().await.expect("PNG");
        assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "{sample}");
        let beyond = client
            .get(server.url(&format!("/v1/documents/{id}/pages/99")))
            .header("x-api-key", &reviewer)
            .send()
            .await
            .expect("GET");
        crate::support::assert_error(beyond, 404, "page_not_found").await;
        let as_reader = client
            .get(server.url(&format!("/v1/documents/{id}/pages/1")))
            .header("x-api-key", &reader)
            .send()
            .await
            .expect("GET");
        assert_eq!(as_reader.status(), 403);
    }

    // Signing out ends the session everywhere.
    let out = client
        .post(server.url("/ui/logout"))
        .header("cookie", &session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", csrf.as_str())]))
        .send()
        .await
        .expect("POST");
    assert_eq!(out.status(), 303);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap_or_default()
            .contains("Max-Age=0")
    );
    let after = client
        .get(server.url("/ui/review"))
        .header("cookie", &session)
        .send()
        .await
        .expect("GET");
    assert_eq!(after.status(), 303);
}
