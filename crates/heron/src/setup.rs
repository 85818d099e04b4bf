//! Shared set-up of the commands: logging, the data directory lock, the
//! model and the pipeline.

use std::path::{Path, PathBuf};

use anyhow::Context;
use heron_classify::Taxonomy;
use heron_classify::TextModel;
use heron_classify::features::FEATURE_VERSION;
use heron_classify::synth::GENERATOR_VERSION;
use heron_classify::train::{self, DEFAULT_PER_TYPE, DEFAULT_SEED};
use heron_core::SemanticSetting;
use heron_core::Settings;
use heron_core::settings::LogFormat;
use heron_extract::{ExtractionLimits, Extractor, IsolatedExtractor, OcrEngine};
use heron_pipeline::semantic::{SemanticMode, SemanticStage};
use heron_pipeline::{Pipeline, PipelineConfig};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Structured logs to stderr: JSON lines (with the request id of the span
/// they belong to) or human-readable text.
pub fn init_logging(settings: &Settings, default_level: &str) {
    let _ = tracing_subscriber::registry()
        .with(log_filter(settings, default_level))
        .with(log_layer(settings))
        .try_init();
}

/// Traces exported over OTLP/HTTP while this lives; dropping it flushes
/// the spans not yet sent. Drop it outside the async runtime.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("warning: flushing traces: {e}");
        }
    }
}

/// [`init_logging`], plus OpenTelemetry traces of every span (HTTP
/// request, task, pipeline stages) exported over OTLP/HTTP (JSON) when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set; the standard `OTEL_*` variables
/// (service name, batch delays, headers) apply.
pub fn init_logging_and_traces(
    settings: &Settings,
    default_level: &str,
    service: &'static str,
) -> anyhow::Result<Telemetry> {
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|e| !e.trim().is_empty());
    let Some(endpoint) = endpoint else {
        init_logging(settings, default_level);
        return Ok(Telemetry { provider: None });
    };
    // reqwest is built without a default TLS crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpJson)
        .build()
        .context("setting up the OTLP trace exporter")?;
    let service_name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service.to_owned());
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(service_name)
                .build(),
        )
        .build();
    let tracer = provider.tracer("heron");
    let _ = tracing_subscriber::registry()
        .with(log_filter(settings, default_level))
        .with(log_layer(settings))
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init();
    tracing::info!(endpoint = %endpoint, "exporting traces over OTLP/HTTP");
    Ok(Telemetry {
        provider: Some(provider),
    })
}

fn log_filter(settings: &Settings, default_level: &str) -> EnvFilter {
    let level = if settings.debug {
        "debug"
    } else {
        default_level
    };
    EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("{level},sqlx=warn,tower_http=warn")))
}

fn log_layer<S>(settings: &Settings) -> Box<dyn tracing_subscriber::Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Json => layer
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        LogFormat::Pretty => layer.boxed(),
    }
}

/// An exclusive lock on the data directory, held while the process runs:
/// the embedded store assumes one process per directory.
pub struct DataDirLock {
    _file: std::fs::File,
}

/// The master key of encryption at rest, from `HERON_MASTER_KEY_FILE` or
/// `HERON_MASTER_KEY`; `None` when neither is set.
pub fn master_key(
    settings: &Settings,
) -> anyhow::Result<Option<std::sync::Arc<heron_store::MasterKey>>> {
    let key = match (&settings.master_key_file, &settings.master_key) {
        (Some(path), _) => {
            heron_core::settings::check_secret_file("HERON_MASTER_KEY_FILE", path)?;
            heron_store::MasterKey::from_file(path)
                .with_context(|| format!("HERON_MASTER_KEY_FILE {}", path.display()))?
        }
        (None, Some(secret)) => {
            heron_store::MasterKey::from_base64(secret.expose()).context("HERON_MASTER_KEY")?
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(std::sync::Arc::new(key)))
}

/// Attach the configured keys to `store`: the master key, checked to open
/// the data keys already stored (a wrong key stops start-up here) and
/// sealing any webhook secret still stored in the clear, and the
/// audit key, with every chain written before it keyed from its head on.
pub async fn with_keys(
    store: heron_store::Store,
    settings: &Settings,
) -> anyhow::Result<heron_store::Store> {
    let store = store.with_master_key(master_key(settings)?);
    store
        .check_master_key()
        .await
        .context("checking the master key")?;
    let sealed = store
        .seal_stored_secrets()
        .await
        .context("sealing webhook secrets")?;
    if sealed > 0 {
        tracing::info!(
            sealed,
            "webhook and callback secrets stored in the clear were sealed"
        );
    }
    let audit_key = match &settings.audit_key {
        Some(secret) => Some(std::sync::Arc::new(
            heron_store::AuditKey::new(secret.expose().trim().as_bytes())
                .context("HERON_AUDIT_KEY")?,
        )),
        None => None,
    };
    let store = store.with_audit_key(audit_key);
    store
        .key_audit_chains()
        .await
        .context("keying the audit chains")?;
    Ok(store)
}

pub fn lock_data_dir(data_dir: &Path) -> anyhow::Result<DataDirLock> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let path = data_dir.join("heron.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another heron process is using {}; stop it or choose another --data-dir",
            data_dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).context("locking the data directory"),
    }
}

/// The default model's file: named after what determines its content.
fn default_model_path(settings: &Settings) -> PathBuf {
    match &settings.taxonomy {
        // The shipped model, once `heron eval --record` gave it a curve.
        None => models_dir(settings).join(format!(
            "default-{}.htm",
            heron_classify::shipped::DEFAULT_MODEL_ID
        )),
        Some(_) => models_dir(settings).join(format!(
            "default-{GENERATOR_VERSION}-{FEATURE_VERSION}-s{DEFAULT_SEED}-n{DEFAULT_PER_TYPE}.htm"
        )),
    }
}

/// The model to serve: `HERON_MODEL` when set, else the model activated
/// with `heron train --activate` (named in `<models dir>/active`), else
/// the default model.
pub fn load_model(settings: &Settings) -> anyhow::Result<TextModel> {
    let (path, origin) = served_model_path(settings);
    match origin {
        ModelOrigin::Default => load_or_train_model(settings),
        ModelOrigin::Setting => TextModel::load(&path)
            .with_context(|| format!("loading HERON_MODEL {}", path.display())),
        ModelOrigin::Active => TextModel::load(&path).with_context(|| {
            format!(
                "loading the active model {} (named in {})",
                path.display(),
                models_dir(settings).join("active").display()
            )
        }),
    }
}

/// Where the served model comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelOrigin {
    Setting,
    Active,
    Default,
}

/// The file of the model [`load_model`] serves (the default model's may not
/// exist yet).
pub fn served_model_path(settings: &Settings) -> (PathBuf, ModelOrigin) {
    if let Some(path) = &settings.model {
        return (path.clone(), ModelOrigin::Setting);
    }
    if let Ok(name) = std::fs::read_to_string(models_dir(settings).join("active")) {
        return (models_dir(settings).join(name.trim()), ModelOrigin::Active);
    }
    (default_model_path(settings), ModelOrigin::Default)
}

/// Where models are kept.
pub fn models_dir(settings: &Settings) -> PathBuf {
    settings
        .models_dir
        .clone()
        .unwrap_or_else(|| settings.data_dir.join("models"))
}

/// `HERON_TAXONOMY` when set, else the built-in taxonomy.
pub fn load_taxonomy(settings: &Settings) -> anyhow::Result<Taxonomy> {
    match &settings.taxonomy {
        None => Ok(Taxonomy::default_taxonomy()),
        Some(path) => {
            let source = std::fs::read_to_string(path)
                .with_context(|| format!("reading the taxonomy {}", path.display()))?;
            Taxonomy::parse(&source).with_context(|| format!("taxonomy {}", path.display()))
        }
    }
}

/// Load the default model: the one shipped in the binary
/// ([`heron_classify::shipped`], trained on generated and real documents)
/// for the built-in taxonomy, or the same model with the risk–coverage
/// curve `heron eval --record` wrote beside it. For a taxonomy of the
/// user's own (`HERON_TAXONOMY`) there is none to ship: it is trained
/// (about ten seconds) on first start, once per models directory — the
/// first process takes a lock, the others wait for it and load its file.
pub fn load_or_train_model(settings: &Settings) -> anyhow::Result<TextModel> {
    let path = default_model_path(settings);
    if settings.taxonomy.is_none() {
        if path.exists() {
            return TextModel::load(&path)
                .with_context(|| format!("loading the recorded default model {}", path.display()));
        }
        return heron_classify::shipped::default_model().context("the shipped default model");
    }
    let directory = path.parent().unwrap_or(&settings.data_dir).to_path_buf();
    std::fs::create_dir_all(&directory).context("creating the models directory")?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(directory.join(".training.lock"))
        .context("opening the model training lock")?;
    lock.lock().context("waiting for the model training lock")?;
    if path.exists() {
        match TextModel::load(&path) {
            Ok(model) => return Ok(model),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "model file unreadable; training it again")
            }
        }
    }
    tracing::info!("training the default model from the built-in generator (first start)");
    let started = std::time::Instant::now();
    let (model, report) = train::train_default(DEFAULT_PER_TYPE, DEFAULT_SEED)
        .context("training the default model")?;
    model
        .save(&path)
        .with_context(|| format!("saving the model to {}", path.display()))?;
    tracing::info!(
        model = model.id(),
        seconds = started.elapsed().as_secs_f64(),
        validation_accuracy = report.validation_accuracy,
        "default model trained"
    );
    Ok(model)
}

/// What extraction needs, configured by `settings`: the isolated
/// extractor, the OCR engine and the limits.
pub fn build_extraction(
    settings: &Settings,
) -> anyhow::Result<(Extractor, OcrEngine, ExtractionLimits)> {
    let ocr = ocr_engine(settings).context("checking the OCR engine (HERON_OCR_LANGUAGES)")?;
    let (extractor, limits) = build_extractor(settings)?;
    Ok((extractor, ocr, limits))
}

/// The OCR engines `settings` name, checked: Tesseract with its language
/// packs (`tesseract --list-langs`), and PP-OCR when its models folder is
/// complete.
pub fn ocr_engine(settings: &Settings) -> Result<OcrEngine, heron_extract::ExtractError> {
    let ocr = OcrEngine::detect(&settings.ocr_languages, settings.ocr_auto_language)?;
    if !ocr.is_available() {
        tracing::warn!(
            "tesseract is not installed: images and scanned PDFs cannot be read (apt-get install tesseract-ocr)"
        );
    }
    let ocr = match ocr_models_dir(settings) {
        Some(dir) => {
            let missing = heron_extract::ppocr::missing_files(&dir);
            if missing.is_empty() {
                ocr.with_ppocr(&dir)
            } else {
                tracing::warn!(
                    folder = %dir.display(),
                    missing = %missing.join(", "),
                    "the PP-OCR folder is incomplete: pictures are read with Tesseract alone (scripts/fetch-ocr-models DIR)"
                );
                ocr
            }
        }
        None => ocr,
    };
    Ok(ocr)
}

/// The isolated extractor and the limits `settings` set.
pub fn build_extractor(settings: &Settings) -> anyhow::Result<(Extractor, ExtractionLimits)> {
    let limits = ExtractionLimits {
        max_bytes: settings.max_file_size_bytes,
        max_pages: settings.max_pages,
        max_ocr_pages: settings.max_ocr_pages,
        max_decompressed_bytes: settings.max_decompressed_bytes,
        max_depth: settings.max_nesting_depth,
        max_cells: settings.max_spreadsheet_cells,
        max_text_bytes: settings.max_text_bytes,
        timeout: settings.extraction_timeout,
        ocr_dpi: settings.ocr_dpi,
        ocr_languages: settings.ocr_languages.clone(),
    };
    Ok((isolated_extractor(settings)?, limits))
}

/// The pipeline configured by `settings`.
pub fn build_pipeline(settings: &Settings, model: TextModel) -> anyhow::Result<Pipeline> {
    let (extractor, ocr, limits) = build_extraction(settings)?;
    let config = PipelineConfig {
        confidence_threshold: settings.confidence_threshold,
        target_error_rate: settings.target_error_rate,
        early_exit_confidence: settings.early_exit_confidence,
        limits,
        pipeline_version: settings.pipeline_version.clone(),
    };
    let taxonomy = load_taxonomy(settings)?;
    let semantic = semantic_stage(settings, &taxonomy)?;
    let pipeline = Pipeline::new(config, extractor, ocr, model, taxonomy);
    Ok(match semantic {
        Some(stage) => pipeline.with_semantic(stage),
        None => pipeline,
    })
}

/// The folder of the PP-OCR models: `HERON_OCR_MODELS` (`off`: none),
/// else `<data_dir>/ocr-models` when `scripts/fetch-ocr-models` put them
/// there.
pub fn ocr_models_dir(settings: &Settings) -> Option<std::path::PathBuf> {
    match &settings.ocr_models {
        Some(dir) if dir.as_os_str() == "off" => None,
        Some(dir) => Some(dir.clone()),
        None => {
            let dir = settings.data_dir.join("ocr-models");
            dir.is_dir().then_some(dir)
        }
    }
}

/// The folder of the embedding model: `HERON_EMBEDDING_MODEL`, else
/// `<data_dir>/embedding-model` when `scripts/fetch-embedding-model` put
/// one there.
pub fn embedding_model_dir(settings: &Settings) -> Option<std::path::PathBuf> {
    match &settings.embedding_model {
        Some(dir) => Some(dir.clone()),
        None => {
            let dir = settings.data_dir.join("embedding-model");
            dir.join("model.safetensors").exists().then_some(dir)
        }
    }
}

/// The semantic stage, when a model is there and the stage is not off.
/// A named model that does not load stops start-up; no model at all only
/// leaves the stage off (readiness says so).
fn semantic_stage(
    settings: &Settings,
    taxonomy: &heron_classify::Taxonomy,
) -> anyhow::Result<Option<SemanticStage>> {
    let mode = match settings.semantic {
        SemanticSetting::Off => return Ok(None),
        SemanticSetting::Always => SemanticMode::Always,
        SemanticSetting::Cascade(threshold) => SemanticMode::Cascade(threshold),
    };
    let Some(dir) = embedding_model_dir(settings) else {
        tracing::warn!(
            "no embedding model (scripts/fetch-embedding-model DIR, then HERON_EMBEDDING_MODEL=DIR): the semantic stage is off"
        );
        return Ok(None);
    };
    let started = std::time::Instant::now();
    // The model's id and the type descriptions' vectors are kept here, so
    // a start with nothing changed reads no weights: the model loads when
    // a document first needs it.
    let cache = settings.data_dir.join("cache").join("semantic");
    let embedder = heron_embed::LazyEmbedder::open(&dir, Some(&cache))
        .with_context(|| format!("opening the embedding model in {}", dir.display()))?;
    let chunks = heron_embed::ChunkPolicy {
        max_windows: settings.semantic_max_windows,
        ..heron_embed::ChunkPolicy::default()
    };
    let stage = SemanticStage::new(embedder, taxonomy, mode, chunks, Some(&cache));
    tracing::info!(
        model = stage.model_id(),
        dir = %dir.display(),
        loaded = stage.model_loaded(),
        ms = started.elapsed().as_millis() as u64,
        "semantic stage ready"
    );
    Ok(Some(stage))
}

/// Text-layer parsers run in children of this same binary (`heron
/// extract-worker`), each limited to `HERON_EXTRACTION_MEMORY_MB`.
fn isolated_extractor(settings: &Settings) -> anyhow::Result<Extractor> {
    let program =
        std::env::current_exe().context("locating the heron binary for extraction children")?;
    let memory = (settings.extraction_memory_bytes / (1024 * 1024)).to_string();
    let slots = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(settings.workers);
    let pool = IsolatedExtractor::new(
        &program,
        &["extract-worker", "--memory-limit-mb", &memory],
        slots,
    );
    let pool = match &settings.extract_user {
        Some(spec) => {
            let user = heron_extract::isolation::ChildUser::resolve(spec)
                .map_err(|e| anyhow::anyhow!("HERON_EXTRACT_USER: {e}"))?;
            pool.with_user(user)
                .with_context(|| format!("HERON_EXTRACT_USER={spec}"))?
        }
        None => pool,
    };
    Ok(Extractor::Isolated(pool))
}
