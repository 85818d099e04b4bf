//! Command-line interface definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Heron classifies business documents — invoices, bank statements, IDs,
/// contracts, forms — from any file a user uploads.
///
/// Start the service with `heron serve`, then send files to
/// `POST /v1/files` (see http://127.0.0.1:8000/docs). Or classify files
/// locally with `heron classify FILE...`.
#[derive(Debug, Parser)]
#[command(name = "heron", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Settings file (default: ./heron.toml when present).
    #[arg(long, global = true, env = "HERON_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the database, files and models live (default ./heron-data).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API and in-process workers.
    Serve(ServeArgs),
    /// Process queued files only (no API): any number of these, on any
    /// number of machines, against one PostgreSQL and one blob store.
    Worker(WorkerArgs),
    /// Classify files locally, without a server.
    Classify(ClassifyArgs),
    /// Print the text and metadata Heron extracts from a file.
    Extract(ExtractArgs),
    /// Write synthetic training documents of every taxonomy type.
    Generate(GenerateArgs),
    /// Train a model from labelled folders (DIR/<type id>/files).
    Train(TrainArgs),
    /// Measure a model on labelled folders.
    Eval(EvalArgs),
    /// Measure field extraction (generated documents with known values, as
    /// files and scans) and packet splitting (generated and sample
    /// documents joined into PDFs).
    EvalUnderstanding(EvalUnderstandingArgs),
    /// List, inspect, activate or roll back trained models.
    Models(ModelsArgs),
    /// Create, list and revoke API keys (of any tenant: this is the
    /// operator's tool; a tenant's admins use /v1/admin/keys).
    Keys(KeysArgs),
    /// Check the audit log's hash chains.
    Audit(AuditArgs),
    /// Print the secret that signs a tenant's job callbacks, derived from
    /// HERON_WEBHOOK_SECRET, for the operator to hand to that tenant (once
    /// the tenant sets its own, POST /v1/admin/callback-secret, that one
    /// signs instead).
    CallbackSecret(CallbackSecretArgs),
    /// Export reviewed documents as training data.
    Dataset(DatasetArgs),
    /// Save the embedded store (database, files, models) while it runs.
    Backup(BackupArgs),
    /// Bring a backup back into an empty data directory (--data-dir).
    Restore(RestoreArgs),
    /// Internal: an extraction child process (started by heron itself).
    #[command(hide = true)]
    ExtractWorker(ExtractWorkerArgs),
}

#[derive(Debug, Args)]
pub struct ExtractWorkerArgs {
    /// Address-space limit of this process, in MiB (0: none).
    #[arg(long, default_value_t = 1024)]
    pub memory_limit_mb: u64,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8000; env HERON_BIND).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// In-process workers; 0 serves the API only (default: one per core).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Serve HTTPS with this PEM certificate chain (env HERON_TLS_CERT);
    /// reloaded on SIGHUP or when the file changes.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's PEM private key (env HERON_TLS_KEY).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates signed by a CA in this PEM file
    /// (mutual TLS; env HERON_TLS_CLIENT_CA, HERON_TLS_CLIENT_AUTH=optional
    /// to also accept clients without one).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// The semantic stage's sentence-transformers model folder (env
    /// HERON_EMBEDDING_MODEL; default `<data dir>/embedding-model`).
    #[arg(long, value_name = "DIR")]
    pub embedding_model: Option<PathBuf>,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// Where jobs and files live (shared by `serve` and `worker`).
#[derive(Debug, Args)]
pub struct StorageArgs {
    /// Database URL: `postgres://user:password@host/db` or `sqlite://path`
    /// (default: SQLite in the data directory).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Blob store: `s3://bucket/prefix` or a directory (default: the data
    /// directory's `blobs/`).
    #[arg(long, value_name = "URL")]
    pub blob_store: Option<String>,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Address of the health, readiness and metrics endpoints.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9100")]
    pub bind: String,
    /// Files processed at once (default: one per core).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// The semantic stage's sentence-transformers model folder (env
    /// HERON_EMBEDDING_MODEL; default `<data dir>/embedding-model`).
    #[arg(long, value_name = "DIR")]
    pub embedding_model: Option<PathBuf>,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Files to classify.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print the API's JSON results instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Show the full evidence of each decision: alternatives, the terms
    /// that weighed for each and where they occur, signals, coverage.
    #[arg(long)]
    pub explain: bool,
    /// Split a PDF made of several documents: each document's pages,
    /// label, confidence and fields.
    #[arg(long)]
    pub split: bool,
    /// What to read inside each file, comma-separated: fields, entities,
    /// tables, segments, documents, or all (shown with --json).
    #[arg(long, value_name = "PARTS")]
    pub extract: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// File to read.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print JSON (type, metadata, pages) instead of plain text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output folder; one sub-folder per type id.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Documents per type.
    #[arg(long, default_value_t = 20)]
    pub per_type: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Render scans and photos as images (needs pdftoppm); otherwise they
    /// are written as text-layer PDFs.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub images: bool,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Labelled folders: DIR/<type id>/<files in any format>.
    #[arg(long, value_name = "DIR", required_unless_present = "from_reviews")]
    pub data: Option<PathBuf>,
    /// Train a challenger for a tenant from its reviewed documents (the
    /// same run as the web UI's Retrain), registered beside its models.
    #[arg(long, conflicts_with = "data")]
    pub from_reviews: bool,
    /// The tenant whose reviews train (with --from-reviews).
    #[arg(long, default_value = "default", requires = "from_reviews")]
    pub tenant: String,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Train the default model on the generated documents plus one split
    /// of DIR/manifest.tsv (`train`), calibrated on those real documents
    /// out of fold (by source); `--seed` is then the generator's seed
    /// (the default model's by default).
    #[arg(long, value_name = "SPLIT", requires = "data")]
    pub split: Option<String>,
    /// With --split: SGD steps per epoch on each real document (a
    /// generated document gets one).
    #[arg(long, default_value_t = heron_classify::real::RealConfig::default().weight)]
    pub real_weight: u32,
    /// With --split: folds of sources for calibration.
    #[arg(long, default_value_t = heron_classify::real::RealConfig::default().folds)]
    pub folds: usize,
    /// With --split: generated documents per type.
    #[arg(long, default_value_t = heron_classify::train::DEFAULT_PER_TYPE)]
    pub per_type: usize,
    /// Write the model to this file instead of the models directory.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// With --split: save the compact form (8-bit weights), as the model
    /// shipped in the repository is.
    #[arg(long, requires = "split")]
    pub compact: bool,
    /// Serve this model from now on (with --data: the deployment's model,
    /// through the models directory; with --from-reviews: the tenant's
    /// champion).
    #[arg(long)]
    pub activate: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labelled folders: DIR/<type id>/<files in any format>.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Measure the service's answers on one split of DIR/manifest.tsv
    /// (`dev`, `train`): every file through the whole pipeline under an
    /// opaque name, reported per type and per kind.
    #[arg(long, value_name = "SPLIT")]
    pub split: Option<String>,
    /// With --split: DIR holds files that are no business document, one
    /// folder per kind; each should be rejected (`unsure`).
    #[arg(long, requires = "split")]
    pub foreign: bool,
    /// Model file (default: the served model).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Where report.md and report.json go.
    #[arg(long, value_name = "DIR", default_value = "heron-eval")]
    pub out: PathBuf,
    /// Error rate allowed among auto-accepted documents, for the cut-off.
    #[arg(long, default_value_t = 0.01)]
    pub target_error: f64,
    /// Store the measured risk–coverage curve in the model file, so that
    /// `HERON_TARGET_ERROR_RATE` picks its cut-off from these documents
    /// rather than from the training data's validation split.
    #[arg(long)]
    pub record: bool,
}

#[derive(Debug, Args)]
pub struct EvalUnderstandingArgs {
    /// Generated documents per type for the field evaluation.
    #[arg(long, default_value_t = 20)]
    pub per_type: usize,
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
    /// Share of documents also scanned or photographed and read by OCR.
    #[arg(long, default_value_t = 0.3)]
    pub scan_share: f64,
    /// Packets (PDFs of 3–6 documents) to split.
    #[arg(long, default_value_t = 40)]
    pub packets: usize,
    /// The original's sample documents, added to the packets' pieces.
    #[arg(long, value_name = "DIR")]
    pub samples: Option<PathBuf>,
    /// Where understanding.md and understanding.json go.
    #[arg(long, value_name = "DIR", default_value = "heron-eval")]
    pub out: PathBuf,
    /// List every wrong or missing value in the report.
    #[arg(long)]
    pub mistakes: bool,
}

#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: ModelsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// The models in the models directory; `*` marks the active one.
    List,
    /// A model's labels, training source and metrics.
    Show { id: String },
    /// Serve this model (a running server switches within seconds).
    Activate { id: String },
    /// Go back to the previously activated model.
    Rollback,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// A new (or empty) folder for the backup, or `s3://bucket/prefix`
    /// (an empty prefix; credentials from the `AWS_*` environment).
    #[arg(long, value_name = "DIR|s3://...")]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup written by `heron backup`: a folder or `s3://bucket/prefix`.
    #[arg(long, value_name = "DIR|s3://...")]
    pub from: String,
}

#[derive(Debug, Args)]
pub struct DatasetArgs {
    #[command(subcommand)]
    pub command: DatasetCommand,
    /// Database URL (default: SQLite in the data directory).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Write a tenant's reviewed documents as labelled folders
    /// (OUT/<type id>/<document id>.txt, readable by `heron train --data`
    /// and `heron eval --data`) with `reviews.jsonl` (who labelled what,
    /// when, from which prediction).
    Export {
        #[arg(long, default_value = "default")]
        tenant: String,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct CallbackSecretArgs {
    /// The tenant whose callback secret to print.
    pub tenant: String,
}

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
    /// Database URL (default: SQLite in the data directory).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Issue a key and print it (once: only its hash is stored).
    Create {
        /// The tenant the key acts for (a-z, 0-9, _ and -).
        #[arg(long)]
        tenant: String,
        /// Comma-separated: classify, read, review, train, admin.
        #[arg(long, value_name = "LIST", default_value = "")]
        scopes: String,
        /// Comma-separated roles (uploader, reader, reviewer, trainer,
        /// admin), added to the scopes.
        #[arg(long, value_name = "LIST", default_value = "")]
        roles: String,
        /// `90d`, `12h` or `never`.
        #[arg(long, default_value = "never")]
        expires: String,
        /// What the key is for.
        #[arg(long, default_value = "created by heron keys")]
        name: String,
    },
    /// Every key (or one tenant's), without secrets.
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Re-wrap every stored data key under a new master key (documents
    /// are not re-encrypted). The current key comes from
    /// HERON_MASTER_KEY_FILE / HERON_MASTER_KEY.
    RotateMaster {
        /// File with the new key's base64 (`openssl rand -base64 32`).
        #[arg(long, value_name = "FILE")]
        new_key_file: PathBuf,
    },
    /// Revoke a key: it stops working at once.
    Revoke {
        #[arg(long)]
        tenant: String,
        /// The key's id (`hk_<id>_…`, or from `heron keys list`).
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
    /// Database URL (default: SQLite in the data directory).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every tenant's chain; exit 1 when an entry was edited,
    /// removed or added out of order. Prints each chain's head as an
    /// `anchor` line, to keep somewhere the database's writers cannot
    /// reach (the service logs the same lines now and then).
    Verify {
        /// A file of earlier anchor lines (this command's output, or the
        /// service's log): each anchored entry must still be there,
        /// unchanged.
        #[arg(long, value_name = "FILE")]
        anchors: Option<std::path::PathBuf>,
    },
}
