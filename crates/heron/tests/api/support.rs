//! Starting `heron serve` for a test and talking to it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const API_KEY: &str = "test-key-0123456789";

/// A receipt the default model is unsure of: from an allotment society,
/// in words no generated receipt uses (the learning tests correct it).
pub const UNSURE_RECEIPT: &str = "Harbour Lane Allotment Society
Plot holder renewal
Member: Jordan Price
Plot 14B, half plot
Season 2026: water levy and plot fee paid in cash at the spring meeting.
Received with thanks by the treasurer, 12 March 2026.
Amount 45.00
";

/// Run `openssl args` in `dir` (test keys and certificates); its output.
pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed (scripts/setup-system --test)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A document of type `label` (one of the original seven) written by
/// Heron's own generator as a file of `extension` (`pdf`, `docx`, `csv`,
/// `txt`, `html`, `eml`, `xlsx`): the same bytes every run, so a test
/// needs nothing outside the repository. `nth` picks another document of
/// the same type.
pub fn made(label: &str, extension: &str, nth: usize) -> Vec<u8> {
    let text = made_text(label, nth);
    let title = text.lines().next().unwrap_or(label).to_owned();
    heron_classify::render::render(&text, &title, extension)
}

/// The text of the document [`made`] writes.
pub fn made_text(label: &str, nth: usize) -> String {
    const SEED: u64 = 0x0048_4552_4F4E;
    // Texts as typed, not the OCR-degraded share (those are for training).
    heron_classify::synth::generate(nth + 8, SEED)
        .into_iter()
        .filter(|s| s.label == label && s.format != "image")
        .nth(nth)
        .unwrap_or_else(|| panic!("the generator writes no {label} number {nth}"))
        .text
}

/// The first page of a made PDF (see [`made`]) as a JPEG picture, as a
/// scanner app would send it: Poppler's `pdftoppm` renders it at 150 dpi.
pub fn made_picture(label: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let pdf = dir.path().join("page.pdf");
    std::fs::write(&pdf, made(label, "pdf", 0)).expect("writing the PDF");
    let status = Command::new("pdftoppm")
        .args(["-r", "150", "-jpeg", "-singlefile", "-f", "1", "-l", "1"])
        .arg(&pdf)
        .arg(dir.path().join("page"))
        .status()
        .expect("pdftoppm is installed (scripts/setup-system)");
    assert!(status.success(), "pdftoppm failed");
    std::fs::read(dir.path().join("page.jpg")).expect("the rendered page")
}

/// The codes of a result's notices in `field` (`"warnings"` or `"errors"`).
pub fn notice_codes<'a>(result: &'a serde_json::Value, field: &str) -> Vec<&'a str> {
    result[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} is not an array: {result}"))
        .iter()
        .filter_map(|n| n["code"].as_str())
        .collect()
}

/// Whether the external tools the pipeline uses are installed: when they
/// are not, `heron_testkit::missing` (a notice, or a failure in CI).
pub fn tools_available() -> bool {
    let ok = ["tesseract", "pdftotext", "pdftoppm"]
        .iter()
        .all(|tool| heron_testkit::can_run(tool));
    if !ok {
        heron_testkit::missing("tesseract/poppler-utils (scripts/setup-system installs them)");
    }
    ok
}

/// Which `heron` command a [`TestServer`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `heron serve`: the API (and in-process workers unless
    /// `HERON_WORKERS=0`).
    Api,
    /// `heron worker`: tasks only; its address serves health, readiness
    /// and metrics.
    Worker,
}

/// A running `heron serve` or `heron worker`, killed when dropped.
pub struct TestServer {
    pub base: String,
    pub data_dir: PathBuf,
    role: Role,
    child: Option<Child>,
    port: u16,
    env: Vec<(String, String)>,
    _temp: Option<tempfile::TempDir>,
    pub client: reqwest::Client,
}

/// Whether this run of the suite uses PostgreSQL and S3.
pub fn shared_storage() -> bool {
    std::env::var("HERON_TEST_SHARED_STORAGE").is_ok_and(|v| v == "1")
}

/// `HERON_DATABASE_URL` and `HERON_BLOB_STORE` of a fresh database and
/// prefix, when this run uses shared storage.
pub async fn shared_storage_env() -> Vec<(String, String)> {
    if !shared_storage() {
        return Vec::new();
    }
    let admin = heron_store::testing::postgres_admin_url()
        .expect("HERON_TEST_SHARED_STORAGE=1 needs HERON_TEST_DATABASE_URL");
    let database = heron_store::testing::fresh_postgres_database(&admin)
        .await
        .expect("creating a PostgreSQL test database");
    let blobs = heron_store::testing::s3_test_location()
        .expect("HERON_TEST_SHARED_STORAGE=1 needs HERON_TEST_BLOB_STORE");
    vec![
        ("HERON_DATABASE_URL".to_owned(), database),
        ("HERON_BLOB_STORE".to_owned(), blobs),
    ]
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding an ephemeral port");
    listener.local_addr().expect("local address").port()
}

impl TestServer {
    /// Start a server with a fresh data directory and extra environment.
    /// Under `HERON_TEST_SHARED_STORAGE=1` (the suite's second run in
    /// `scripts/test`) it also gets a fresh PostgreSQL database and S3
    /// prefix instead of the embedded SQLite file and blob folder.
    pub async fn start(env: &[(&str, &str)]) -> TestServer {
        let mut env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        env.extend(shared_storage_env().await);
        Self::start_owned(env).await
    }

    /// Start `role` with exactly `env` (no storage of its own chosen):
    /// processes of one deployment share the database and blob store
    /// named there.
    pub async fn start_role(role: Role, env: &[(String, String)]) -> TestServer {
        Self::start_as(role, env.to_vec()).await
    }

    async fn start_owned(env: Vec<(String, String)>) -> TestServer {
        Self::start_as(Role::Api, env).await
    }

    async fn start_as(role: Role, env: Vec<(String, String)>) -> TestServer {
        let temp = tempfile::tempdir().expect("temporary data directory");
        // A server started with HTTPS is reached over HTTPS, trusting the
        // test's CA.
        let ca = env
            .iter()
            .find(|(k, _)| k == "HERON_TEST_CA_FILE")
            .map(|(_, v)| std::fs::read(v).expect("the test CA"));
        // A server that asks for client certificates gets this one (PEM
        // certificate and key in one file).
        let identity = env
            .iter()
            .find(|(k, _)| k == "HERON_TEST_CLIENT_IDENTITY")
            .map(|(_, v)| std::fs::read(v).expect("the test client identity"));
        let mut server = TestServer {
            role,
            base: String::new(),
            data_dir: temp.path().to_path_buf(),
            child: None,
            port: 0,
            env,
            _temp: Some(temp),
            client: {
                // reqwest is built without a default crypto provider.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut builder = reqwest::Client::builder();
                if let Some(pem) = &ca {
                    builder = builder.add_root_certificate(
                        reqwest::Certificate::from_pem(pem).expect("the test CA"),
                    );
                }
                if let Some(pem) = &identity {
                    builder = builder.identity(
                        reqwest::Identity::from_pem(pem).expect("the test client identity"),
                    );
                }
                builder
            }
            .timeout(Duration::from_secs(120))
            .build()
            .expect("http client"),
        };
        server.launch().await;
        server
    }

    async fn launch(&mut self) {
        self.port = free_port();
        let tls = self.env.iter().any(|(k, _)| k == "HERON_TLS_CERT");
        self.base = format!(
            "{}://127.0.0.1:{}",
            if tls { "https" } else { "http" },
            self.port
        );
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.join("server.log"))
            .expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_heron"));
        command
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg(match self.role {
                Role::Api => "serve",
                Role::Worker => "worker",
            })
            .arg("--bind")
            .arg(format!("127.0.0.1:{}", self.port))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("ALLOWED_API_KEYS", API_KEY)
            .envs(std::env::vars().filter(|(k, _)| k.starts_with("AWS_")))
            .env("HERON_LOG_FORMAT", "json")
            // One default model for the whole test run (trained by the
            // first server, loaded by the others).
            .env(
                "HERON_MODELS_DIR",
                std::env::temp_dir().join("heron-test-models"),
            )
            .current_dir(&self.data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        // Photos are read as deployed: with PP-OCR when its models are
        // there (`scripts/test` fetches them); a test may set
        // HERON_OCR_MODELS=off for Tesseract alone.
        if let Ok(models) = std::env::var("HERON_TEST_OCR_MODELS") {
            command.env("HERON_OCR_MODELS", models);
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        self.child = Some(command.spawn().expect("starting heron"));
        self.wait_ready().await;
    }

    /// Wait until the API is ready, or a worker is alive (a worker may be
    /// started while its dependencies are down, on purpose).
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let probe = match self.role {
            Role::Api => "/v1/ready",
            Role::Worker => "/v1/health",
        };
        loop {
            if let Ok(response) = self.client.get(self.url(probe)).send().await
                && response.status() == 200
            {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "heron exited with {status} before it was ready:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "heron not ready after 60 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("server.log")).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Change one variable of the server's environment (takes effect at
    /// the next `restart`, and in `cli`).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// Run the `heron` command line on this server's data directory and
    /// database (`heron keys …`, `heron audit verify`).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_heron"));
        command
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "HERON_MODELS_DIR",
                std::env::temp_dir().join("heron-test-models"),
            )
            .envs(std::env::vars().filter(|(k, _)| k.starts_with("AWS_")));
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command.output().expect("running heron")
    }

    /// A new API key from `heron keys create`.
    pub fn create_key(&self, tenant: &str, roles: &str) -> String {
        let output = self.cli(&["keys", "create", "--tenant", tenant, "--roles", roles]);
        assert!(
            output.status.success(),
            "heron keys create: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("key is text")
            .trim()
            .to_owned()
    }

    /// The database this server uses, opened beside it (to read or tamper
    /// with rows as someone with database access could).
    pub async fn open_store(&self) -> heron_store::Store {
        let url = self
            .env
            .iter()
            .find(|(k, _)| k == "HERON_DATABASE_URL")
            .map(|(_, v)| v.clone());
        heron_store::Store::open(url.as_deref(), &self.data_dir)
            .await
            .expect("opening the server's database")
    }

    /// The server's blob store.
    pub async fn open_blobs(&self) -> heron_store::BlobStore {
        let spec = self
            .env
            .iter()
            .find(|(k, _)| k == "HERON_BLOB_STORE")
            .map(|(_, v)| v.clone());
        heron_store::BlobStore::open(spec.as_deref(), &self.data_dir)
            .await
            .expect("opening the server's blob store")
    }

    /// A request with `key` (none: anonymous) and an optional JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, self.url(path));
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Upload one small text file with `key`; its result's document id.
    pub async fn upload_document(&self, key: &str, name: &str, text: &str) -> String {
        let response = self
            .upload_with(
                &[(name.to_owned(), text.as_bytes().to_vec())],
                Some(key),
                &[],
            )
            .await;
        assert_eq!(response.status(), 200, "upload");
        let results: serde_json::Value = response.json().await.expect("results");
        results[0]["document_id"]
            .as_str()
            .expect("document_id")
            .to_owned()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("server running")
    }

    /// Kill the process at once (SIGKILL): no shutdown code runs.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Send SIGTERM and wait for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server running");
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("heron did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Start again on the same data directory (after kill or terminate).
    pub async fn restart(&mut self) {
        self.kill();
        self.launch().await;
    }

    /// `POST /v1/files` with `(name, bytes)` parts and the test key.
    pub async fn upload(&self, files: &[(String, Vec<u8>)]) -> reqwest::Response {
        self.upload_with(files, Some(API_KEY), &[]).await
    }

    pub async fn upload_with(
        &self,
        files: &[(String, Vec<u8>)],
        key: Option<&str>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        self.upload_to("/v1/files", files, key, headers).await
    }

    /// `POST` of `(name, bytes)` parts to `path` (which may carry a query).
    pub async fn upload_to(
        &self,
        path: &str,
        files: &[(String, Vec<u8>)],
        key: Option<&str>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            form = form.part(
                "files",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.clone()),
            );
        }
        let mut request = self.client.post(self.url(path)).multipart(form);
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// Upload a batch that must become a job (`202`); its id.
    pub async fn upload_job(&self, files: &[(String, Vec<u8>)]) -> String {
        self.upload_job_with(files, &[]).await
    }

    /// [`TestServer::upload_job`] with extra headers.
    pub async fn upload_job_with(
        &self,
        files: &[(String, Vec<u8>)],
        headers: &[(&str, &str)],
    ) -> String {
        let response = self.upload_with(files, Some(API_KEY), headers).await;
        assert_eq!(response.status(), 202, "expected a job");
        let body: serde_json::Value = response.json().await.expect("job JSON");
        body["job_id"].as_str().expect("job_id").to_owned()
    }

    /// `GET path` with the test key, as JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.get(path)
            .await
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: not JSON: {e}"))
    }

    /// `DELETE path` with the test key.
    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .header("x-api-key", API_KEY)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DELETE {path}: {e}"))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("x-api-key", API_KEY)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Poll a job until it is final, or fail after `timeout`.
    pub async fn wait_for_job(&self, job_id: &str, timeout: Duration) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let response = self.get(&format!("/v1/jobs/{job_id}")).await;
            assert_eq!(response.status(), 200, "GET job");
            let job: serde_json::Value = response.json().await.expect("job JSON");
            if matches!(job["status"].as_str(), Some("done" | "failed")) {
                return job;
            }
            assert!(
                Instant::now() < deadline,
                "job {job_id} not finished in {timeout:?}: {job}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Assert a JSON error envelope with `code` and the echoed request id.
/// A response's JSON body (its status and text when it is not JSON).
pub async fn json_of(response: reqwest::Response) -> serde_json::Value {
    let status = response.status();
    let body = response.text().await.expect("body");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {body}"))
}

pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) {
    assert_eq!(response.status().as_u16(), status, "status for {code}");
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("X-Request-ID header on errors");
    let body: serde_json::Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body["error"]["request_id"], request_id.as_str(), "{body}");
    assert_eq!(body["detail"], body["error"]["message"], "{body}");
}

/// Examples of a type no taxonomy has: vaccination records of pets.
pub fn vet_record(i: usize) -> String {
    let pets = [
        ("Biscuit", "dog", "Beagle"),
        ("Mochi", "cat", "Siamese"),
        ("Pepper", "dog", "Border Collie"),
        ("Luna", "cat", "Maine Coon"),
        ("Ziggy", "rabbit", "Dutch"),
        ("Hazel", "dog", "Labrador"),
    ];
    let owners = [
        "Alex Morgan",
        "Priya Nair",
        "Tom Becker",
        "Lena Fischer",
        "Omar Haddad",
        "Grace Liu",
    ];
    let vaccines = [
        "Rabies",
        "DHPP",
        "FVRCP",
        "Leptospirosis",
        "Bordetella",
        "RHDV2",
    ];
    let vets = ["Dr. Helen Ortiz", "Dr. Samuel Reed", "Dr. Aiko Tanaka"];
    let (name, species, breed) = pets[i % pets.len()];
    format!(
        "Riverside Veterinary Clinic\nVaccination Record\nPatient: {name} ({species}, {breed})\n\
         Owner: {}\nMicrochip: 98510{:08}\n\
         Vaccine administered: {} on 0{}/1{}/2026, lot A{}\n\
         Vaccine administered: {}, lot H{}\nNext booster due: {} June 2027\n\
         Weight {} kg, temperature normal, no adverse reaction observed.\n\
         Attending veterinarian: {}\n",
        owners[i % owners.len()],
        1_234_567 * (i + 3),
        vaccines[i % vaccines.len()],
        1 + i % 9,
        i % 3,
        4000 + 37 * i,
        vaccines[(i + 2) % vaccines.len()],
        5100 + 11 * i,
        3 + i,
        4 + 5 * i,
        vets[i % vets.len()],
    )
}

/// A veterinary record as other clinics write it: other titles, wording
/// and line order than [`vet_record`] (the few-shot test teaches with
/// that one and checks these).
pub fn vet_record_reworded(i: usize) -> String {
    let clinics = [
        "Oakwood Animal Hospital",
        "Harbour Pet Care Centre",
        "Greenfield Vets",
        "Maple Street Veterinary Practice",
        "Northside Companion Animal Clinic",
    ];
    let titles = [
        "PET HEALTH CERTIFICATE",
        "Immunisation history",
        "Patient chart: preventive care",
        "Vaccination certificate",
        "Annual wellness visit summary",
    ];
    let animals = [
        ("Max", "canine", "German Shepherd", "32.4"),
        ("Cleo", "feline", "domestic shorthair", "4.1"),
        ("Nibbles", "guinea pig", "Abyssinian", "0.9"),
        ("Rocky", "canine", "Boxer", "27.0"),
        ("Willow", "feline", "Ragdoll", "5.6"),
    ];
    let shots = [
        ("rabies (3-year)", "canine distemper/parvovirus"),
        ("feline leukaemia", "calicivirus booster"),
        ("kennel cough intranasal", "leptospirosis L4"),
        ("rabies (1-year)", "FeLV"),
    ];
    let (name, species, breed, kg) = animals[i % animals.len()];
    let (first, second) = shots[i % shots.len()];
    let lines = [
        format!("Animal name: {name}   Species: {species}   Breed: {breed}"),
        format!(
            "Client: {} household, account V-{:05}",
            ["Novak", "Osei", "Duarte", "Kim", "Walsh"][i % 5],
            2_000 + 17 * i
        ),
        format!("Body weight at visit: {kg} kg; heart and lungs normal; coat and teeth checked"),
        format!("Immunisations given today: {first}; {second}"),
        format!(
            "Revaccination reminder set for {} 2027",
            ["March", "July", "October", "January"][i % 4]
        ),
        format!(
            "Examined and signed by the treating vet, licence VS-{}",
            700 + 3 * i
        ),
        "Please bring this certificate to boarding kennels and grooming appointments.".to_owned(),
    ];
    // Each clinic orders its lines its own way.
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.rotate_left(i % lines.len());
    let body: Vec<&str> = order.iter().map(|k| lines[*k].as_str()).collect();
    format!(
        "{}\n{}\n{}\n",
        clinics[i % clinics.len()],
        titles[i % titles.len()],
        body.join("\n")
    )
}

/// A delivery note: close to types the project knows (packing lists,
/// bills of lading, invoices), so the linear model leans to one of them
/// with some confidence. `reworded` writes other carriers' notes: other
/// titles, wording and line order.
pub fn delivery_note(i: usize, reworded: bool) -> String {
    let customers = [
        "Harbor Foods Ltd",
        "Kestrel Joinery",
        "Blue Finch Bakery",
        "Orion Dental Lab",
        "Mill Lane Pharmacy",
    ];
    let goods = [
        ("pallets of bottled water", 4),
        ("boxes of printer paper A4", 12),
        ("crates of fresh vegetables", 6),
        ("cartons of dental gloves", 20),
        ("drums of cleaning fluid", 3),
    ];
    let (item, quantity) = goods[i % goods.len()];
    let customer = customers[i % customers.len()];
    if !reworded {
        return format!(
            "DELIVERY NOTE\nDelivery note no. DN-{}\nDelivered to: {customer}\nDelivery date: {:02}/03/2026\n\
             Goods delivered: {quantity} {item}\nReceived in good condition by: ________\n\
             Driver: {} Vehicle reg. {}\nNo prices are shown on this delivery note.\n",
            4100 + 7 * i,
            1 + i % 28,
            ["J. Mills", "A. Rossi", "K. Osei"][i % 3],
            ["LK21 ABC", "MX70 DEF", "BT19 XYZ"][i % 3],
        );
    }
    let lines = [
        format!(
            "Deliver to: {customer}, Unit {} Riverside Trading Estate",
            2 + i % 9
        ),
        format!(
            "Date delivered: {:02}.04.2026   Time: {:02}:{:02}",
            1 + i % 28,
            7 + i % 9,
            (13 * i) % 60
        ),
        format!("Qty {quantity}  Description: {item}"),
        format!("Qty {}  Description: returnable pallet", 1 + i % 3),
        format!(
            "Delivered by: {} for {}",
            ["M. Brandt", "S. Okafor", "L. Petit"][i % 3],
            ["Swift Freight", "RoadLink Couriers", "CityHop Logistics"][i % 3]
        ),
        "Goods received in good order and condition. Received by (print name and sign): ________"
            .to_owned(),
        format!(
            "Our ref: order {}-{:04}; no prices are shown on this note",
            ["SO", "ORD", "PO"][i % 3],
            300 + 11 * i
        ),
    ];
    // Each carrier orders its lines its own way.
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.rotate_left(i % lines.len());
    let body: Vec<&str> = order.iter().map(|k| lines[*k].as_str()).collect();
    format!(
        "{}\n{}\n",
        [
            "Proof of delivery",
            "Goods received note",
            "Delivery docket",
            "Dispatch and delivery slip"
        ][i % 4],
        body.join("\n")
    )
}
