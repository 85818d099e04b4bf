//! Typed settings and their loader.
//!
//! Sources, later ones winning: built-in defaults, `heron.toml` (or the file
//! named by `--config` / `HERON_CONFIG`), a `.env` file in the working
//! directory (it never overrides the real environment), environment
//! variables, command-line flags. Each setting has one environment name (the
//! original service's names are kept as they were) and one TOML key, its
//! lowercase form. A value that does not parse stops start-up with an error
//! naming the setting.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every file extension Heron parses; the default of `ALLOWED_EXTENSIONS`.
pub const PARSED_EXTENSIONS: &[&str] = &[
    "pdf", "docx", "docm", "doc", "xlsx", "xlsm", "xlsb", "xls", "ods", "pptx", "ppt", "odt",
    "odp", "rtf", "csv", "tsv", "txt", "text", "md", "markdown", "html", "htm", "xml", "json",
    "eml", "msg", "zip", "jpg", "jpeg", "png", "tif", "tiff", "bmp", "gif", "webp",
];

/// A secret string that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// All settings of a Heron process, parsed and validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// Where the default model is cached (empty: `<data_dir>/models`). Its
    /// file name says what built it, so data dirs may share one directory.
    pub models_dir: Option<PathBuf>,
    /// A model file to serve instead of the active or default model.
    pub model: Option<PathBuf>,
    /// A taxonomy file to use instead of the built-in one.
    pub taxonomy: Option<PathBuf>,
    /// A sentence-transformers model folder for the semantic stage
    /// (empty: `<data_dir>/embedding-model` when it exists).
    pub embedding_model: Option<PathBuf>,
    /// When the semantic stage runs: `cascade` (below
    /// `semantic_cascade`), `always`, or `off`.
    pub semantic: SemanticSetting,
    /// Windows of a document the semantic stage reads at most.
    pub semantic_max_windows: usize,
    pub bind: SocketAddr,
    /// `ALLOWED_API_KEYS`. Empty: a key is generated in the data directory.
    pub allowed_api_keys: Vec<Secret>,
    pub allowed_extensions: BTreeSet<String>,
    pub max_file_size_bytes: u64,
    pub max_batch_size: usize,
    /// Batches of at most this many files are answered synchronously (200);
    /// larger ones become jobs (202). The original's value is 10.
    pub sync_max_files: usize,
    pub confidence_threshold: f64,
    /// `HERON_TARGET_ERROR_RATE`: the error rate allowed among auto-accepted
    /// documents; the cut-off comes from the model's risk–coverage curve.
    pub target_error_rate: Option<f64>,
    pub early_exit_confidence: f64,
    /// `PIPELINE_VERSION`; when unset the version names Heron and the model.
    pub pipeline_version: Option<String>,
    pub commit_sha: Option<String>,
    pub prometheus_enabled: bool,
    pub debug: bool,
    /// In-process task workers; 0 serves the API only.
    pub workers: usize,
    pub database_url: Option<String>,
    pub ocr_languages: String,
    /// The folder of the PP-OCR models and ONNX Runtime's library
    /// (`scripts/fetch-ocr-models`; empty: `<data_dir>/ocr-models` when
    /// it exists); `off` reads pictures with Tesseract alone.
    pub ocr_models: Option<PathBuf>,
    /// Re-read OCR text in its own language when a first pass shows one.
    pub ocr_auto_language: bool,
    pub ocr_dpi: u32,
    pub max_pages: u32,
    pub max_ocr_pages: u32,
    /// Total bytes decompressed from one ZIP-based file (archives,
    /// OOXML/ODF containers): the zip-bomb fence.
    pub max_decompressed_bytes: u64,
    /// How deep attachments and archive members are followed.
    pub max_nesting_depth: u32,
    /// Spreadsheet cells read per file.
    pub max_spreadsheet_cells: usize,
    /// Text kept per file, in bytes.
    pub max_text_bytes: usize,
    pub extraction_timeout: Duration,
    /// Address-space limit of each extraction child process, in bytes.
    pub extraction_memory_bytes: u64,
    /// The user extraction children run as (a name, `uid` or `uid:gid`),
    /// so that parsers cannot read the service's files; `None`: the
    /// service's own user.
    pub extract_user: Option<String>,
    pub task_lease: Duration,
    pub max_attempts: u32,
    pub log_format: LogFormat,
    pub log_level: String,
    /// Time allowed for in-flight work after SIGTERM/SIGINT.
    pub shutdown_grace: Duration,
    /// `HERON_BLOB_STORE`: empty for `<data_dir>/blobs`, a directory, or
    /// `s3://bucket/prefix` (endpoint and credentials from `AWS_*`).
    pub blob_store: Option<String>,
    /// Connections of the database pool (per process).
    pub db_max_connections: u32,
    /// How long a query waits for a connection before failing; also the
    /// PostgreSQL statement timeout is 6× this.
    pub db_timeout: Duration,
    /// First retry delay after a transient failure; doubles per attempt.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How long an `Idempotency-Key` binds its request.
    pub idempotency_ttl: Duration,
    /// Keys allowed on admin routes (dead letters); never accepted for
    /// other routes unless also in `ALLOWED_API_KEYS`.
    pub admin_api_keys: Vec<Secret>,
    /// Signs deliveries to jobs' own `callback_url`s (registered endpoints
    /// have secrets of their own). Unset: `callback_url` is refused.
    pub webhook_secret: Option<Secret>,
    /// Keys the audit chain's hashes (HMAC-SHA256; at least 32 bytes), so
    /// that write access to the database is not enough to rewrite it.
    pub audit_key: Option<Secret>,
    pub webhook_max_attempts: u32,
    pub webhook_timeout: Duration,
    /// Where webhooks may be delivered: public addresses, plus the
    /// internal networks named in `HERON_WEBHOOK_ALLOWED_NETWORKS` (and
    /// link-local ones with `HERON_WEBHOOK_ALLOW_LINK_LOCAL`).
    pub webhook_networks: crate::webhook::NetworkPolicy,
    /// OpenID Connect issuers whose signed tokens are accepted (their
    /// discovery documents name the JWKS).
    pub oidc_issuers: Vec<String>,
    /// The `aud` a token must carry; required when issuers are set.
    pub oidc_audience: Option<String>,
    /// The tenants each issuer may speak for (`URL=acme|globex`, `*` for
    /// any): required for every issuer when there are several, so that no
    /// identity provider can assert another's tenants.
    pub oidc_issuer_tenants: Vec<(String, Vec<String>)>,
    /// The claim naming the caller's tenant.
    pub oidc_tenant_claim: String,
    /// The claim listing the caller's roles (an array or a space-separated
    /// string).
    pub oidc_roles_claim: String,
    /// Clock skew allowed on `exp` and `nbf`.
    pub oidc_leeway: Duration,
    /// How long a fetched JWKS is trusted before it is fetched again.
    pub oidc_jwks_cache: Duration,
    /// Development only: accept HS256 tokens signed with this secret.
    pub jwt_hs256_secret: Option<Secret>,
    /// Requests per second per API key (the burst is twice this).
    pub rate_limit_key_rps: u32,
    /// Requests per second per tenant, over all its keys.
    pub rate_limit_tenant_rps: u32,
    /// Upload bytes per tenant per rolling day; 0 is unlimited.
    pub quota_tenant_bytes_per_day: u64,
    /// Failed authentications per client address per minute; past them a
    /// failed attempt is answered `429` (a valid credential never is).
    pub auth_failures_per_minute: u32,
    /// Peers allowed to name the client in `Forwarded` / `X-Forwarded-For`
    /// (a load balancer, an ingress); from any other peer the socket's
    /// address is the client's.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The largest request body of a route that does not stream files
    /// (JSON, forms, the sign-in page); larger bodies get `413` unread.
    pub max_body_bytes: u64,
    /// Days a document (file, results) is kept, for tenants without a
    /// retention setting of their own; `None` keeps it until deleted.
    pub retention_days: Option<u32>,
    /// How often expired documents are purged.
    pub purge_interval: Duration,
    /// Estimated text similarity (0..=1) at which a document is reported
    /// as a near duplicate of an earlier one.
    pub near_duplicate_threshold: f64,
    /// Confidence under which a labelled document goes to the review
    /// queue (labels without their own threshold).
    pub review_threshold: f64,
    /// Per-label review thresholds (`invoice=0.9,bank_statement=0.85`).
    pub review_thresholds: BTreeMap<String, f64>,
    /// Documents whose two best types are closer than this go to the
    /// review queue too (margin sampling).
    pub review_margin: f64,
    /// Generated documents per taxonomy type in a challenger's base data.
    pub train_per_type: usize,
    /// How long a web UI sign-in lasts.
    pub ui_session: Duration,
    /// How long an unfinished resumable upload is kept.
    pub upload_expiry: Duration,
    /// How long a presigned upload URL is valid.
    pub presign_expiry: Duration,
    /// PEM certificate chain and private key: serve HTTPS (both or
    /// neither).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates: clients must present a certificate signed by
    /// one of them (mutual TLS), unless `tls_client_auth_optional`.
    pub tls_client_ca: Option<PathBuf>,
    /// With a client CA: accept clients without a certificate too (those
    /// that present one must still present a valid one).
    pub tls_client_auth_optional: bool,
    /// Base64 of 32 bytes: encrypts texts and blobs at rest.
    pub master_key: Option<Secret>,
    /// A file holding the master key (preferred over the variable).
    pub master_key_file: Option<PathBuf>,
    /// Web origins allowed to call the API from a browser; none by default.
    pub cors_origins: Vec<String>,
}

/// When the semantic stage runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SemanticSetting {
    Off,
    Always,
    /// When the linear model's confidence is below this.
    Cascade(f64),
}

/// Values given on the command line, which win over every other source.
#[derive(Debug, Clone, Default)]
pub struct SettingsOverrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub bind: Option<String>,
    pub workers: Option<usize>,
    pub database_url: Option<String>,
    pub blob_store: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_client_ca: Option<PathBuf>,
    pub embedding_model: Option<PathBuf>,
}

/// Why settings could not be loaded. Each variant names the setting.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("setting {name}: invalid value {value:?}: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("configuration file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("configuration file {path}: unknown setting {key:?}")]
    UnknownKey { path: PathBuf, key: String },
}

/// (environment name, default) of every setting, in one table so that the
/// loader, the README's configuration table and the TOML keys agree.
const SETTINGS: &[(&str, &str)] = &[
    ("HERON_DATA_DIR", "./heron-data"),
    ("HERON_MODELS_DIR", ""),
    ("HERON_EMBEDDING_MODEL", ""),
    ("HERON_SEMANTIC", "cascade"),
    ("HERON_SEMANTIC_CASCADE", "0.9"),
    ("HERON_SEMANTIC_MAX_WINDOWS", "8"),
    ("HERON_MODEL", ""),
    ("HERON_TAXONOMY", ""),
    ("HERON_BIND", "127.0.0.1:8000"),
    ("ALLOWED_API_KEYS", ""),
    ("ALLOWED_EXTENSIONS", ""),
    ("MAX_FILE_SIZE_MB", "10"),
    ("MAX_BATCH_SIZE", "50"),
    ("HERON_SYNC_MAX_FILES", "10"),
    ("CONFIDENCE_THRESHOLD", "0.65"),
    ("HERON_TARGET_ERROR_RATE", ""),
    ("EARLY_EXIT_CONFIDENCE", "0.95"),
    ("PIPELINE_VERSION", ""),
    ("COMMIT_SHA", ""),
    ("PROMETHEUS_ENABLED", "true"),
    ("DEBUG", "false"),
    ("HERON_WORKERS", ""),
    ("HERON_DATABASE_URL", ""),
    ("HERON_OCR_LANGUAGES", "eng"),
    ("HERON_OCR_MODELS", ""),
    ("HERON_OCR_AUTO_LANGUAGE", "true"),
    ("HERON_OCR_DPI", "300"),
    ("HERON_MAX_PAGES", "500"),
    ("HERON_MAX_OCR_PAGES", "20"),
    ("HERON_MAX_DECOMPRESSED_MB", "200"),
    ("HERON_MAX_NESTING_DEPTH", "3"),
    ("HERON_MAX_SPREADSHEET_CELLS", "2000000"),
    ("HERON_MAX_TEXT_KB", "4096"),
    ("HERON_EXTRACTION_TIMEOUT_SECS", "60"),
    ("HERON_EXTRACTION_MEMORY_MB", "1536"),
    ("HERON_EXTRACT_USER", ""),
    ("HERON_TASK_LEASE_SECS", "120"),
    ("HERON_MAX_ATTEMPTS", "3"),
    ("HERON_LOG_FORMAT", "json"),
    ("HERON_LOG_LEVEL", "info"),
    ("HERON_SHUTDOWN_GRACE_SECS", "30"),
    ("HERON_BLOB_STORE", ""),
    ("HERON_DB_MAX_CONNECTIONS", "8"),
    ("HERON_DB_TIMEOUT_SECS", "5"),
    ("HERON_RETRY_BASE_MS", "2000"),
    ("HERON_RETRY_MAX_SECS", "300"),
    ("HERON_IDEMPOTENCY_TTL_HOURS", "24"),
    ("HERON_ADMIN_API_KEYS", ""),
    ("HERON_WEBHOOK_SECRET", ""),
    ("HERON_WEBHOOK_MAX_ATTEMPTS", "8"),
    ("HERON_WEBHOOK_TIMEOUT_SECS", "10"),
    ("HERON_WEBHOOK_ALLOW_LINK_LOCAL", "false"),
    ("HERON_WEBHOOK_ALLOWED_NETWORKS", ""),
    ("HERON_OIDC_ISSUERS", ""),
    ("HERON_OIDC_AUDIENCE", ""),
    ("HERON_OIDC_ISSUER_TENANTS", ""),
    ("HERON_OIDC_TENANT_CLAIM", "tenant"),
    ("HERON_OIDC_ROLES_CLAIM", "roles"),
    ("HERON_OIDC_LEEWAY_SECS", "60"),
    ("HERON_OIDC_JWKS_CACHE_SECS", "600"),
    ("HERON_JWT_HS256_SECRET", ""),
    ("HERON_RATE_LIMIT_KEY_RPS", "20"),
    ("HERON_RATE_LIMIT_TENANT_RPS", "50"),
    ("HERON_QUOTA_TENANT_MB_PER_DAY", "10240"),
    ("HERON_AUTH_FAILURES_PER_MINUTE", "30"),
    ("HERON_TRUSTED_PROXIES", ""),
    ("HERON_MAX_BODY_KB", "64"),
    ("HERON_RETENTION_DAYS", ""),
    ("HERON_PURGE_INTERVAL_SECS", "3600"),
    ("HERON_NEAR_DUPLICATE_THRESHOLD", "0.8"),
    ("HERON_REVIEW_THRESHOLD", "0.8"),
    ("HERON_REVIEW_THRESHOLDS", ""),
    ("HERON_REVIEW_MARGIN", "0.2"),
    ("HERON_TRAIN_PER_TYPE", "400"),
    ("HERON_UI_SESSION_HOURS", "12"),
    ("HERON_TLS_CERT", ""),
    ("HERON_TLS_KEY", ""),
    ("HERON_TLS_CLIENT_CA", ""),
    ("HERON_TLS_CLIENT_AUTH", "required"),
    ("HERON_UPLOAD_EXPIRY_HOURS", "24"),
    ("HERON_PRESIGN_EXPIRY_SECS", "300"),
    ("HERON_MASTER_KEY", ""),
    ("HERON_MASTER_KEY_FILE", ""),
    ("HERON_AUDIT_KEY", ""),
    ("HERON_CORS_ORIGINS", ""),
];

/// Settings that may be given as `<NAME>_FILE`, a file holding the value
/// (the master key has its own `HERON_MASTER_KEY_FILE`).
pub const FILE_SECRETS: [&str; 6] = [
    "ALLOWED_API_KEYS",
    "HERON_AUDIT_KEY",
    "HERON_ADMIN_API_KEYS",
    "HERON_WEBHOOK_SECRET",
    "HERON_JWT_HS256_SECRET",
    "HERON_DATABASE_URL",
];

/// Refuse a secret file any user of the machine may read.
pub fn check_secret_file(name: &'static str, path: &Path) -> Result<(), SettingsError> {
    let metadata = std::fs::metadata(path).map_err(|e| SettingsError::File {
        path: path.to_path_buf(),
        reason: format!("{name}: {e}"),
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o004 != 0 {
            return Err(invalid(
                name,
                &path.display().to_string(),
                "the file is readable by every user of the machine: chmod 600 it (640 for a group)",
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    Ok(())
}

/// The value in a secret file (surrounding whitespace removed), after
/// [`check_secret_file`].
pub fn read_secret_file(name: &'static str, path: &Path) -> Result<String, SettingsError> {
    check_secret_file(name, path)?;
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_owned())
        .map_err(|e| SettingsError::File {
            path: path.to_path_buf(),
            reason: format!("{name}: {e}"),
        })
}

/// The TOML key of an environment name: `HERON_DATA_DIR` → `data_dir`,
/// `MAX_FILE_SIZE_MB` → `max_file_size_mb`.
pub fn toml_key(env_name: &str) -> String {
    env_name
        .strip_prefix("HERON_")
        .unwrap_or(env_name)
        .to_ascii_lowercase()
}

impl Settings {
    /// Load settings from every source (see the module docs).
    pub fn load(overrides: &SettingsOverrides) -> Result<Settings, SettingsError> {
        // `.env` only fills in what the environment lacks; a missing file is fine.
        let _ = dotenvy::dotenv();
        let environment: BTreeMap<String, String> = std::env::vars().collect();
        Self::from_sources(overrides, &environment)
    }

    /// Load from an explicit environment map (tests use this instead of
    /// mutating the process environment).
    pub fn from_sources(
        overrides: &SettingsOverrides,
        environment: &BTreeMap<String, String>,
    ) -> Result<Settings, SettingsError> {
        let mut raw: BTreeMap<&'static str, String> = SETTINGS
            .iter()
            .map(|(name, default)| (*name, (*default).to_owned()))
            .collect();

        let config_file = overrides
            .config_file
            .clone()
            .or_else(|| environment.get("HERON_CONFIG").map(PathBuf::from));
        let explicit_file = config_file.is_some();
        let config_file = config_file.unwrap_or_else(|| PathBuf::from("heron.toml"));
        if config_file.exists() || explicit_file {
            for (name, value) in read_toml(&config_file)? {
                raw.insert(name, value);
            }
        }
        for (name, _) in SETTINGS {
            if let Some(value) = environment.get(*name) {
                raw.insert(name, value.clone());
            }
        }
        // Secrets may come from files, as Kubernetes and secret managers
        // mount them (`ALLOWED_API_KEYS_FILE=/run/secrets/keys`).
        for name in FILE_SECRETS {
            if let Some(path) = environment.get(&format!("{name}_FILE")) {
                let value = read_secret_file(name, Path::new(path))?;
                raw.insert(name, value);
            }
        }
        let mut set = |name: &'static str, value: Option<String>| {
            if let Some(value) = value {
                raw.insert(name, value);
            }
        };
        set(
            "HERON_DATA_DIR",
            overrides.data_dir.as_ref().map(|p| p.display().to_string()),
        );
        set("HERON_BIND", overrides.bind.clone());
        set("HERON_WORKERS", overrides.workers.map(|w| w.to_string()));
        set("HERON_DATABASE_URL", overrides.database_url.clone());
        set("HERON_BLOB_STORE", overrides.blob_store.clone());
        set(
            "HERON_TLS_CERT",
            overrides.tls_cert.as_ref().map(|p| p.display().to_string()),
        );
        set(
            "HERON_TLS_KEY",
            overrides.tls_key.as_ref().map(|p| p.display().to_string()),
        );
        set(
            "HERON_EMBEDDING_MODEL",
            overrides
                .embedding_model
                .as_ref()
                .map(|p| p.display().to_string()),
        );
        set(
            "HERON_TLS_CLIENT_CA",
            overrides
                .tls_client_ca
                .as_ref()
                .map(|p| p.display().to_string()),
        );

        let settings = Self::parse(&raw)?;
        if settings.tls_cert.is_some() != settings.tls_key.is_some() {
            return Err(invalid(
                "HERON_TLS_KEY",
                raw.get("HERON_TLS_KEY").map_or("", String::as_str),
                "HTTPS needs both HERON_TLS_CERT and HERON_TLS_KEY (--tls-cert, --tls-key)",
            ));
        }
        if settings.tls_client_ca.is_some() && settings.tls_cert.is_none() {
            return Err(invalid(
                "HERON_TLS_CLIENT_CA",
                raw.get("HERON_TLS_CLIENT_CA").map_or("", String::as_str),
                "client certificates need HTTPS (HERON_TLS_CERT and HERON_TLS_KEY)",
            ));
        }
        Ok(settings)
    }

    fn parse(raw: &BTreeMap<&'static str, String>) -> Result<Settings, SettingsError> {
        let get = |name: &'static str| raw.get(name).map(String::as_str).unwrap_or("").trim();
        let confidence_threshold =
            parse_fraction("CONFIDENCE_THRESHOLD", get("CONFIDENCE_THRESHOLD"))?;
        let early_exit_confidence =
            parse_fraction("EARLY_EXIT_CONFIDENCE", get("EARLY_EXIT_CONFIDENCE"))?;
        let target_error_rate = match get("HERON_TARGET_ERROR_RATE") {
            "" => None,
            value => Some(parse_fraction("HERON_TARGET_ERROR_RATE", value)?),
        };
        if early_exit_confidence < confidence_threshold {
            return Err(invalid(
                "EARLY_EXIT_CONFIDENCE",
                get("EARLY_EXIT_CONFIDENCE"),
                format!("must be at least CONFIDENCE_THRESHOLD ({confidence_threshold})"),
            ));
        }
        let max_file_size_mb: f64 = parse_number("MAX_FILE_SIZE_MB", get("MAX_FILE_SIZE_MB"))?;
        if max_file_size_mb <= 0.0 {
            return Err(invalid(
                "MAX_FILE_SIZE_MB",
                get("MAX_FILE_SIZE_MB"),
                "must be positive",
            ));
        }
        let max_batch_size: usize = parse_positive("MAX_BATCH_SIZE", get("MAX_BATCH_SIZE"))?;
        let sync_max_files: usize =
            parse_number("HERON_SYNC_MAX_FILES", get("HERON_SYNC_MAX_FILES"))?;
        let workers = match get("HERON_WORKERS") {
            "" => std::thread::available_parallelism().map_or(2, |n| n.get()),
            value => parse_number("HERON_WORKERS", value)?,
        };
        let bind = get("HERON_BIND")
            .parse::<SocketAddr>()
            .map_err(|e| invalid("HERON_BIND", get("HERON_BIND"), e.to_string()))?;
        let log_format = match get("HERON_LOG_FORMAT") {
            "json" => LogFormat::Json,
            "pretty" | "text" => LogFormat::Pretty,
            other => {
                return Err(invalid(
                    "HERON_LOG_FORMAT",
                    other,
                    "expected json or pretty",
                ));
            }
        };
        let ocr_languages = get("HERON_OCR_LANGUAGES").to_owned();
        let languages_ok = !ocr_languages.is_empty()
            && ocr_languages
                .split('+')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        if !languages_ok {
            return Err(invalid(
                "HERON_OCR_LANGUAGES",
                &ocr_languages,
                "expected Tesseract language codes joined by +, e.g. eng+deu",
            ));
        }

        Ok(Settings {
            data_dir: PathBuf::from(non_empty("HERON_DATA_DIR", get("HERON_DATA_DIR"))?),
            models_dir: Some(get("HERON_MODELS_DIR"))
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            model: Some(get("HERON_MODEL"))
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            embedding_model: Some(get("HERON_EMBEDDING_MODEL"))
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            semantic: match get("HERON_SEMANTIC") {
                "off" => SemanticSetting::Off,
                "always" => SemanticSetting::Always,
                "cascade" | "" => SemanticSetting::Cascade(parse_fraction(
                    "HERON_SEMANTIC_CASCADE",
                    get("HERON_SEMANTIC_CASCADE"),
                )?),
                other => {
                    return Err(invalid(
                        "HERON_SEMANTIC",
                        other,
                        "expected `cascade`, `always` or `off`",
                    ));
                }
            },
            semantic_max_windows: parse_range(
                "HERON_SEMANTIC_MAX_WINDOWS",
                get("HERON_SEMANTIC_MAX_WINDOWS"),
                1,
                64,
            )?,
            taxonomy: Some(get("HERON_TAXONOMY"))
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            bind,
            allowed_api_keys: parse_list(get("ALLOWED_API_KEYS"), "ALLOWED_API_KEYS")?
                .into_iter()
                .map(Secret::new)
                .collect(),
            allowed_extensions: parse_extensions(get("ALLOWED_EXTENSIONS"))?,
            max_file_size_bytes: (max_file_size_mb * 1024.0 * 1024.0) as u64,
            max_batch_size,
            sync_max_files: sync_max_files.min(max_batch_size),
            confidence_threshold,
            target_error_rate,
            early_exit_confidence,
            pipeline_version: optional(get("PIPELINE_VERSION")),
            commit_sha: optional(get("COMMIT_SHA")),
            prometheus_enabled: parse_bool("PROMETHEUS_ENABLED", get("PROMETHEUS_ENABLED"))?,
            debug: parse_bool("DEBUG", get("DEBUG"))?,
            workers,
            database_url: optional(get("HERON_DATABASE_URL")),
            ocr_languages,
            ocr_models: Some(get("HERON_OCR_MODELS"))
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            ocr_auto_language: parse_bool(
                "HERON_OCR_AUTO_LANGUAGE",
                get("HERON_OCR_AUTO_LANGUAGE"),
            )?,
            ocr_dpi: parse_range("HERON_OCR_DPI", get("HERON_OCR_DPI"), 72, 1200)?,
            max_pages: parse_positive("HERON_MAX_PAGES", get("HERON_MAX_PAGES"))?,
            max_ocr_pages: parse_number("HERON_MAX_OCR_PAGES", get("HERON_MAX_OCR_PAGES"))?,
            max_decompressed_bytes: parse_positive::<u64>(
                "HERON_MAX_DECOMPRESSED_MB",
                get("HERON_MAX_DECOMPRESSED_MB"),
            )?
            .saturating_mul(1024 * 1024),
            max_nesting_depth: parse_number(
                "HERON_MAX_NESTING_DEPTH",
                get("HERON_MAX_NESTING_DEPTH"),
            )?,
            max_spreadsheet_cells: parse_positive(
                "HERON_MAX_SPREADSHEET_CELLS",
                get("HERON_MAX_SPREADSHEET_CELLS"),
            )?,
            max_text_bytes: parse_positive::<usize>("HERON_MAX_TEXT_KB", get("HERON_MAX_TEXT_KB"))?
                .saturating_mul(1024),
            extraction_timeout: Duration::from_secs(parse_positive(
                "HERON_EXTRACTION_TIMEOUT_SECS",
                get("HERON_EXTRACTION_TIMEOUT_SECS"),
            )?),
            extraction_memory_bytes: parse_range::<u64>(
                "HERON_EXTRACTION_MEMORY_MB",
                get("HERON_EXTRACTION_MEMORY_MB"),
                64,
                1 << 20,
            )? * 1024
                * 1024,
            extract_user: optional(get("HERON_EXTRACT_USER")),
            task_lease: Duration::from_secs(parse_range(
                "HERON_TASK_LEASE_SECS",
                get("HERON_TASK_LEASE_SECS"),
                5,
                86_400,
            )?),
            max_attempts: parse_positive("HERON_MAX_ATTEMPTS", get("HERON_MAX_ATTEMPTS"))?,
            log_format,
            log_level: get("HERON_LOG_LEVEL").to_owned(),
            shutdown_grace: Duration::from_secs(parse_number(
                "HERON_SHUTDOWN_GRACE_SECS",
                get("HERON_SHUTDOWN_GRACE_SECS"),
            )?),
            blob_store: optional(get("HERON_BLOB_STORE")),
            db_max_connections: parse_range(
                "HERON_DB_MAX_CONNECTIONS",
                get("HERON_DB_MAX_CONNECTIONS"),
                1,
                1000,
            )?,
            db_timeout: Duration::from_secs(parse_range(
                "HERON_DB_TIMEOUT_SECS",
                get("HERON_DB_TIMEOUT_SECS"),
                1,
                600,
            )?),
            retry_base: Duration::from_millis(parse_positive(
                "HERON_RETRY_BASE_MS",
                get("HERON_RETRY_BASE_MS"),
            )?),
            retry_max: Duration::from_secs(parse_positive(
                "HERON_RETRY_MAX_SECS",
                get("HERON_RETRY_MAX_SECS"),
            )?),
            idempotency_ttl: Duration::from_secs(
                parse_range::<u64>(
                    "HERON_IDEMPOTENCY_TTL_HOURS",
                    get("HERON_IDEMPOTENCY_TTL_HOURS"),
                    1,
                    24 * 365,
                )? * 3600,
            ),
            admin_api_keys: parse_list(get("HERON_ADMIN_API_KEYS"), "HERON_ADMIN_API_KEYS")?
                .into_iter()
                .map(Secret::new)
                .collect(),
            webhook_secret: optional(get("HERON_WEBHOOK_SECRET")).map(Secret::new),
            audit_key: optional(get("HERON_AUDIT_KEY")).map(Secret::new),
            webhook_max_attempts: parse_range(
                "HERON_WEBHOOK_MAX_ATTEMPTS",
                get("HERON_WEBHOOK_MAX_ATTEMPTS"),
                1,
                100,
            )?,
            webhook_timeout: Duration::from_secs(parse_range(
                "HERON_WEBHOOK_TIMEOUT_SECS",
                get("HERON_WEBHOOK_TIMEOUT_SECS"),
                1,
                300,
            )?),
            webhook_networks: crate::webhook::NetworkPolicy {
                allowed: parse_networks(
                    "HERON_WEBHOOK_ALLOWED_NETWORKS",
                    get("HERON_WEBHOOK_ALLOWED_NETWORKS"),
                )?,
                allow_link_local: parse_bool(
                    "HERON_WEBHOOK_ALLOW_LINK_LOCAL",
                    get("HERON_WEBHOOK_ALLOW_LINK_LOCAL"),
                )?,
            },
            oidc_issuers: parse_list(get("HERON_OIDC_ISSUERS"), "HERON_OIDC_ISSUERS")?,
            oidc_audience: optional(get("HERON_OIDC_AUDIENCE")),
            oidc_issuer_tenants: parse_issuer_tenants(get("HERON_OIDC_ISSUER_TENANTS"))?,
            oidc_tenant_claim: non_empty(
                "HERON_OIDC_TENANT_CLAIM",
                get("HERON_OIDC_TENANT_CLAIM"),
            )?
            .to_owned(),
            oidc_roles_claim: non_empty("HERON_OIDC_ROLES_CLAIM", get("HERON_OIDC_ROLES_CLAIM"))?
                .to_owned(),
            oidc_leeway: Duration::from_secs(parse_range(
                "HERON_OIDC_LEEWAY_SECS",
                get("HERON_OIDC_LEEWAY_SECS"),
                0,
                600,
            )?),
            oidc_jwks_cache: Duration::from_secs(parse_range(
                "HERON_OIDC_JWKS_CACHE_SECS",
                get("HERON_OIDC_JWKS_CACHE_SECS"),
                10,
                86_400,
            )?),
            jwt_hs256_secret: optional(get("HERON_JWT_HS256_SECRET")).map(Secret::new),
            rate_limit_key_rps: parse_positive(
                "HERON_RATE_LIMIT_KEY_RPS",
                get("HERON_RATE_LIMIT_KEY_RPS"),
            )?,
            rate_limit_tenant_rps: parse_positive(
                "HERON_RATE_LIMIT_TENANT_RPS",
                get("HERON_RATE_LIMIT_TENANT_RPS"),
            )?,
            quota_tenant_bytes_per_day: parse_number::<u64>(
                "HERON_QUOTA_TENANT_MB_PER_DAY",
                get("HERON_QUOTA_TENANT_MB_PER_DAY"),
            )?
            .saturating_mul(1024 * 1024),
            auth_failures_per_minute: parse_positive(
                "HERON_AUTH_FAILURES_PER_MINUTE",
                get("HERON_AUTH_FAILURES_PER_MINUTE"),
            )?,
            trusted_proxies: parse_networks("HERON_TRUSTED_PROXIES", get("HERON_TRUSTED_PROXIES"))?,
            max_body_bytes: parse_range::<u64>(
                "HERON_MAX_BODY_KB",
                get("HERON_MAX_BODY_KB"),
                1,
                1024 * 1024,
            )? * 1024,
            retention_days: optional(get("HERON_RETENTION_DAYS"))
                .map(|days| parse_range("HERON_RETENTION_DAYS", &days, 1, 36_500))
                .transpose()?,
            purge_interval: Duration::from_secs(parse_range(
                "HERON_PURGE_INTERVAL_SECS",
                get("HERON_PURGE_INTERVAL_SECS"),
                1,
                86_400 * 7,
            )?),
            near_duplicate_threshold: parse_fraction(
                "HERON_NEAR_DUPLICATE_THRESHOLD",
                get("HERON_NEAR_DUPLICATE_THRESHOLD"),
            )?,
            review_threshold: parse_fraction(
                "HERON_REVIEW_THRESHOLD",
                get("HERON_REVIEW_THRESHOLD"),
            )?,
            review_thresholds: parse_thresholds(get("HERON_REVIEW_THRESHOLDS"))?,
            review_margin: parse_fraction("HERON_REVIEW_MARGIN", get("HERON_REVIEW_MARGIN"))?,
            train_per_type: parse_range(
                "HERON_TRAIN_PER_TYPE",
                get("HERON_TRAIN_PER_TYPE"),
                10,
                5_000,
            )?,
            ui_session: Duration::from_secs(
                parse_range::<u64>(
                    "HERON_UI_SESSION_HOURS",
                    get("HERON_UI_SESSION_HOURS"),
                    1,
                    24 * 30,
                )? * 3600,
            ),
            upload_expiry: Duration::from_secs(
                parse_range::<u64>(
                    "HERON_UPLOAD_EXPIRY_HOURS",
                    get("HERON_UPLOAD_EXPIRY_HOURS"),
                    1,
                    24 * 30,
                )? * 3600,
            ),
            presign_expiry: Duration::from_secs(parse_range::<u64>(
                "HERON_PRESIGN_EXPIRY_SECS",
                get("HERON_PRESIGN_EXPIRY_SECS"),
                10,
                3600,
            )?),
            tls_cert: optional(get("HERON_TLS_CERT")).map(PathBuf::from),
            tls_key: optional(get("HERON_TLS_KEY")).map(PathBuf::from),
            tls_client_ca: optional(get("HERON_TLS_CLIENT_CA")).map(PathBuf::from),
            tls_client_auth_optional: match get("HERON_TLS_CLIENT_AUTH") {
                "" | "required" => false,
                "optional" => true,
                other => {
                    return Err(invalid(
                        "HERON_TLS_CLIENT_AUTH",
                        other,
                        "expected `required` or `optional`",
                    ));
                }
            },
            master_key: optional(get("HERON_MASTER_KEY")).map(Secret::new),
            master_key_file: optional(get("HERON_MASTER_KEY_FILE")).map(PathBuf::from),
            cors_origins: parse_origins(get("HERON_CORS_ORIGINS"))?,
        })
    }

    /// Whether a file extension (lowercase, without dot) may be uploaded.
    pub fn extension_allowed(&self, extension: &str) -> bool {
        self.allowed_extensions
            .contains(&extension.to_ascii_lowercase())
    }
}

fn read_toml(path: &Path) -> Result<Vec<(&'static str, String)>, SettingsError> {
    let file_error = |reason: String| SettingsError::File {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| file_error(e.to_string()))?;
    let mut values = Vec::new();
    for (key, value) in table {
        let Some((name, _)) = SETTINGS.iter().find(|(name, _)| toml_key(name) == key) else {
            return Err(SettingsError::UnknownKey {
                path: path.to_path_buf(),
                key,
            });
        };
        let text = match value {
            toml::Value::Array(items) => {
                items.iter().map(scalar_text).collect::<Vec<_>>().join(",")
            }
            other => scalar_text(&other),
        };
        values.push((*name, text));
    }
    Ok(values)
}

/// A TOML scalar as the text an environment variable would hold.
fn scalar_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Array(_) | toml::Value::Table(_) => String::new(),
    }
}

fn invalid(name: &'static str, value: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        name,
        value: value.to_owned(),
        reason: reason.into(),
    }
}

fn optional(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

fn non_empty<'a>(name: &'static str, value: &'a str) -> Result<&'a str, SettingsError> {
    if value.is_empty() {
        Err(invalid(name, value, "may not be empty"))
    } else {
        Ok(value)
    }
}

fn parse_number<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T, SettingsError>
where
    T::Err: fmt::Display,
{
    value
        .parse::<T>()
        .map_err(|e| invalid(name, value, e.to_string()))
}

fn parse_positive<T>(name: &'static str, value: &str) -> Result<T, SettingsError>
where
    T: std::str::FromStr + PartialOrd + Default,
    T::Err: fmt::Display,
{
    let number: T = parse_number(name, value)?;
    if number <= T::default() {
        return Err(invalid(name, value, "must be greater than zero"));
    }
    Ok(number)
}

fn parse_range<T>(name: &'static str, value: &str, low: T, high: T) -> Result<T, SettingsError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display,
    T::Err: fmt::Display,
{
    let number: T = parse_number(name, value)?;
    if number < low || number > high {
        return Err(invalid(
            name,
            value,
            format!("must be between {low} and {high}"),
        ));
    }
    Ok(number)
}

/// Comma-separated networks (`10.0.0.0/8`) or single addresses.
fn parse_networks(name: &'static str, value: &str) -> Result<Vec<ipnet::IpNet>, SettingsError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    invalid(
                        name,
                        item,
                        "expected an address or a network such as 10.0.0.0/8",
                    )
                })
        })
        .collect()
}

fn parse_fraction(name: &'static str, value: &str) -> Result<f64, SettingsError> {
    let number: f64 = parse_number(name, value)?;
    if !(0.0..=1.0).contains(&number) {
        return Err(invalid(name, value, "must be between 0 and 1"));
    }
    Ok(number)
}

/// `invoice=0.9,bank_statement=0.85`: label=fraction pairs.
fn parse_thresholds(value: &str) -> Result<BTreeMap<String, f64>, SettingsError> {
    let name = "HERON_REVIEW_THRESHOLDS";
    let mut thresholds = BTreeMap::new();
    for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((label, threshold)) = pair.split_once('=') else {
            return Err(invalid(name, pair, "expected label=threshold"));
        };
        let label =
            crate::Label::parse(label.trim()).map_err(|e| invalid(name, pair, e.to_string()))?;
        thresholds.insert(
            label.as_str().to_owned(),
            parse_fraction(name, threshold.trim())?,
        );
    }
    Ok(thresholds)
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, SettingsError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(invalid(name, value, "expected true or false")),
    }
}

/// `https://app.example.com,https://admin.example.com`: exact origins
/// (scheme, host, optional port), no wildcards.
fn parse_origins(value: &str) -> Result<Vec<String>, SettingsError> {
    let origins = parse_list(value, "HERON_CORS_ORIGINS")?;
    for origin in &origins {
        let parsed = url::Url::parse(origin)
            .map_err(|e| invalid("HERON_CORS_ORIGINS", origin, format!("not an origin: {e}")))?;
        let bare = parsed.path() == "/" && parsed.query().is_none() && !origin.ends_with('/');
        if !matches!(parsed.scheme(), "http" | "https") || !bare {
            return Err(invalid(
                "HERON_CORS_ORIGINS",
                origin,
                "expected scheme://host[:port], without a path",
            ));
        }
    }
    Ok(origins)
}

/// A comma-separated list or a JSON array of strings, as the original accepted.
/// `HERON_OIDC_ISSUER_TENANTS`: a list of `URL=tenant|tenant` (or
/// `URL=*`), each issuer named once.
fn parse_issuer_tenants(value: &str) -> Result<Vec<(String, Vec<String>)>, SettingsError> {
    const NAME: &str = "HERON_OIDC_ISSUER_TENANTS";
    let mut bound: Vec<(String, Vec<String>)> = Vec::new();
    for entry in parse_list(value, NAME)? {
        let (url, tenants) = entry
            .rsplit_once('=')
            .ok_or_else(|| invalid(NAME, &entry, "expected URL=tenant|tenant or URL=*"))?;
        let url = url.trim().trim_end_matches('/').to_owned();
        let tenants: Vec<String> = tenants
            .split('|')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        if url.is_empty() || tenants.is_empty() {
            return Err(invalid(NAME, &entry, "expected URL=tenant|tenant or URL=*"));
        }
        if let Some(bad) = tenants
            .iter()
            .find(|t| *t != "*" && !crate::access::valid_tenant_id(t))
        {
            return Err(invalid(NAME, &entry, format!("{bad:?} is not a tenant id")));
        }
        if bound.iter().any(|(known, _)| *known == url) {
            return Err(invalid(NAME, &entry, "names an issuer twice"));
        }
        bound.push((url, tenants));
    }
    Ok(bound)
}

fn parse_list(value: &str, name: &'static str) -> Result<Vec<String>, SettingsError> {
    if value.starts_with('[') {
        let items: Vec<String> = serde_json::from_str(value).map_err(|e| {
            invalid(
                name,
                "<redacted>",
                format!("not a JSON array of strings: {e}"),
            )
        })?;
        return Ok(items
            .into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect());
    }
    Ok(value
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

fn parse_extensions(value: &str) -> Result<BTreeSet<String>, SettingsError> {
    let listed = parse_list(value, "ALLOWED_EXTENSIONS")?;
    if listed.is_empty() {
        return Ok(PARSED_EXTENSIONS.iter().map(|s| (*s).to_owned()).collect());
    }
    let mut extensions = BTreeSet::new();
    for item in listed {
        let extension = item.trim_start_matches('.').to_ascii_lowercase();
        if extension.is_empty() || !extension.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid(
                "ALLOWED_EXTENSIONS",
                &item,
                "extensions are letters and digits",
            ));
        }
        extensions.insert(extension);
    }
    Ok(extensions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn secrets_come_from_private_files_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("heron-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys");
        std::fs::write(&path, "key-one-0123456789,key-two-0123456789\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let file = path.display().to_string();
        let settings = load(&[("ALLOWED_API_KEYS_FILE", file.as_str())]).unwrap();
        assert_eq!(settings.allowed_api_keys.len(), 2);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = load(&[("ALLOWED_API_KEYS_FILE", file.as_str())]).unwrap_err();
        assert!(
            error.to_string().contains("readable by every user"),
            "{error}"
        );
        let missing = load(&[("HERON_WEBHOOK_SECRET_FILE", "/nonexistent/secret")]).unwrap_err();
        assert!(
            missing.to_string().contains("HERON_WEBHOOK_SECRET"),
            "{missing}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let environment = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_sources(&SettingsOverrides::default(), &environment)
    }

    #[test]
    fn defaults_match_the_original() {
        let settings = load(&[]).unwrap();
        assert_eq!(settings.max_file_size_bytes, 10 * 1024 * 1024);
        assert_eq!(settings.max_batch_size, 50);
        assert_eq!(settings.sync_max_files, 10);
        assert_eq!(settings.confidence_threshold, 0.65);
        assert_eq!(settings.early_exit_confidence, 0.95);
        assert!(settings.extension_allowed("pdf"));
        assert!(settings.extension_allowed("JPG"));
    }

    #[test]
    fn api_keys_accept_commas_and_json() {
        let a = load(&[("ALLOWED_API_KEYS", "k1, k2")]).unwrap();
        let b = load(&[("ALLOWED_API_KEYS", r#"["k1","k2"]"#)]).unwrap();
        assert_eq!(a.allowed_api_keys, b.allowed_api_keys);
        assert_eq!(a.allowed_api_keys.len(), 2);
    }

    #[test]
    fn invalid_values_name_the_setting() {
        let error = load(&[("MAX_FILE_SIZE_MB", "ten")]).unwrap_err();
        assert!(error.to_string().contains("MAX_FILE_SIZE_MB"), "{error}");
        let error = load(&[("EARLY_EXIT_CONFIDENCE", "0.5")]).unwrap_err();
        assert!(
            error.to_string().contains("EARLY_EXIT_CONFIDENCE"),
            "{error}"
        );
        let error = load(&[("HERON_BIND", "nowhere")]).unwrap_err();
        assert!(error.to_string().contains("HERON_BIND"), "{error}");
    }

    #[test]
    fn secrets_do_not_print() {
        let settings = load(&[("ALLOWED_API_KEYS", "supersecret")]).unwrap();
        assert!(!format!("{settings:?}").contains("supersecret"));
    }

    #[test]
    fn toml_file_is_read_and_unknown_keys_rejected() {
        let dir = std::env::temp_dir().join(format!("heron-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("heron.toml");
        std::fs::write(
            &path,
            "max_batch_size = 20\nallowed_extensions = [\"pdf\", \"txt\"]\n",
        )
        .unwrap();
        let overrides = SettingsOverrides {
            config_file: Some(path.clone()),
            ..Default::default()
        };
        let settings = Settings::from_sources(&overrides, &BTreeMap::new()).unwrap();
        assert_eq!(settings.max_batch_size, 20);
        assert!(settings.extension_allowed("txt") && !settings.extension_allowed("png"));
        std::fs::write(&path, "max_batch = 20\n").unwrap();
        let error = Settings::from_sources(&overrides, &BTreeMap::new()).unwrap_err();
        assert!(matches!(error, SettingsError::UnknownKey { .. }), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
