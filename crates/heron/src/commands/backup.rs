//! `heron backup --to DIR|s3://...` and `heron restore --from
//! DIR|s3://...`: the embedded store (SQLite database, blob folder, model
//! files) saved while the service runs and brought back into an empty
//! data directory. A bucket holds the same files as a folder would (made
//! in a staging folder, uploaded with the manifest last; downloaded to a
//! staging folder and checked before anything is restored).
//!
//! A backup is a folder: `heron.db` (a consistent copy, `VACUUM INTO`),
//! `blobs/` (the files the copy refers to, as stored: sealed when
//! encryption is on — the master key is not in the backup), `models/`
//! (the models directory's files) and, written last, `manifest.json`
//! (format, Heron version, counts, every file's size and SHA-256). A
//! folder without a manifest is an unfinished backup; restore refuses it,
//! and refuses any file whose size or checksum differs, before writing
//! anything. PostgreSQL deployments back up with PostgreSQL's own tools
//! (docs/operations.md).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail, ensure};
use heron_core::Settings;
use heron_store::{BlobStore, RemoteFolder, SnapshotCounts, Store};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cli::{BackupArgs, RestoreArgs};
use crate::setup;

const FORMAT: &str = "heron-backup/1";
const MANIFEST: &str = "manifest.json";

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    heron_version: String,
    created_unix: u64,
    counts: SnapshotCounts,
    /// Blobs the database referred to that were erased before they could
    /// be copied (their documents were erased meanwhile).
    missing_blobs: Vec<String>,
    files: Vec<FileEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FileEntry {
    /// Relative, with `/`.
    path: String,
    size: u64,
    sha256: String,
}

pub fn backup(settings: Settings, args: &BackupArgs) -> anyhow::Result<ExitCode> {
    setup::init_logging(&settings, "warn");
    embedded_only(&settings)?;
    // A backup to a bucket is made in a staging folder beside the data,
    // then uploaded, the manifest last.
    let remote = remote_folder(&args.to)?;
    let staging = match &remote {
        Some(_) => Some(
            tempfile::Builder::new()
                .prefix(".backup-")
                .tempdir_in(&settings.data_dir)
                .context("making a staging folder in the data directory")?,
        ),
        None => None,
    };
    let target = staging
        .as_ref()
        .map_or_else(|| PathBuf::from(&args.to), |s| s.path().to_path_buf());
    ensure_empty(&target)?;
    runtime()?.block_on(async {
        if let Some(remote) = &remote {
            ensure!(
                remote.is_empty().await?,
                "{} is not empty: choose a new prefix",
                remote.url()
            );
        }
        let live = open(&settings.data_dir, None).await?;
        let database = target.join("heron.db");
        live.snapshot_into(&database)
            .await
            .context("copying the database")?;
        live.close().await;
        let snapshot = open(&target, Some(&database)).await?;
        let counts = snapshot.snapshot_counts().await?;
        let referenced = snapshot.referenced_blobs().await?;
        snapshot.close().await;
        remove_sqlite_sidecars(&database);

        let blobs = BlobStore::open(settings.blob_store.as_deref(), &settings.data_dir)
            .await
            .context("opening the blob store")?;
        let mut files = vec![entry(&target, &database)?];
        let mut missing = Vec::new();
        for (sha256, _size) in &referenced {
            let source = blobs.local_file(sha256).context(
                "blobs in object storage are backed up by the bucket's versioning or replication",
            )?;
            let relative = format!("blobs/{}/{sha256}", &sha256[..2.min(sha256.len())]);
            let destination = target.join(&relative);
            if !source.exists() {
                missing.push(sha256.clone());
                continue;
            }
            copy(&source, &destination)?;
            files.push(entry(&target, &destination)?);
        }
        let models = setup::models_dir(&settings);
        if models.is_dir() {
            for item in std::fs::read_dir(&models)? {
                let path = item?.path();
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if path.is_file() && !name.starts_with('.') {
                    let destination = target.join("models").join(&name);
                    copy(&path, &destination)?;
                    files.push(entry(&target, &destination)?);
                }
            }
        }
        let manifest = Manifest {
            format: FORMAT.to_owned(),
            heron_version: heron_core::HERON_VERSION.to_owned(),
            created_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            counts,
            missing_blobs: missing,
            files,
        };
        // The manifest last, renamed into place: its presence says the
        // backup is complete.
        let partial = target.join("manifest.json.partial");
        std::fs::write(&partial, serde_json::to_vec_pretty(&manifest)?)?;
        std::fs::File::open(&partial)?.sync_all()?;
        std::fs::rename(&partial, target.join(MANIFEST))?;
        if let Some(remote) = &remote {
            for file in &manifest.files {
                remote
                    .put_file(&file.path, &target.join(safe_relative(&file.path)?))
                    .await
                    .with_context(|| format!("uploading {}", file.path))?;
            }
            remote
                .put_file(MANIFEST, &target.join(MANIFEST))
                .await
                .context("uploading the manifest")?;
        }
        println!(
            "backup of {} documents, {} jobs, {} audit entries, {} registered models ({} files) in {}{}",
            counts.documents,
            counts.jobs,
            counts.audit_entries,
            counts.models,
            manifest.files.len(),
            remote
                .as_ref()
                .map_or_else(|| target.display().to_string(), |r| r.url().to_owned()),
            if manifest.missing_blobs.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} files erased meanwhile were not copied",
                    manifest.missing_blobs.len()
                )
            }
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn restore(settings: Settings, args: &RestoreArgs) -> anyhow::Result<ExitCode> {
    setup::init_logging(&settings, "warn");
    embedded_only(&settings)?;
    // From a bucket: downloaded into a staging folder first (beside the
    // data directory, which must stay empty), then checked like a folder.
    let staging;
    let source = match remote_folder(&args.from)? {
        Some(remote) => {
            let parent = settings
                .data_dir
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            staging = tempfile::Builder::new()
                .prefix(".heron-restore-")
                .tempdir_in(&parent)
                .with_context(|| format!("making a staging folder in {}", parent.display()))?;
            download(&remote, staging.path())?;
            staging.path().to_path_buf()
        }
        None => PathBuf::from(&args.from),
    };
    let source = &source;
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(source.join(MANIFEST)).with_context(|| {
            format!(
                "{} has no {MANIFEST}: not a complete backup; refusing to restore it",
                args.from
            )
        })?)
        .context("reading the backup's manifest")?;
    ensure!(
        manifest.format == FORMAT,
        "unknown backup format {:?} (this Heron reads {FORMAT})",
        manifest.format
    );
    // Every file checked before anything is written.
    for file in &manifest.files {
        let path = source.join(safe_relative(&file.path)?);
        let (size, sha256) =
            digest(&path).with_context(|| format!("backup file {} is missing", file.path))?;
        if size != file.size || sha256 != file.sha256 {
            bail!(
                "backup file {} is corrupt (size {size}, expected {}; checksum differs: {}); refusing to restore",
                file.path,
                file.size,
                sha256 != file.sha256
            );
        }
    }
    let target = settings.data_dir.clone();
    ensure_empty(&target)?;
    let _lock = setup::lock_data_dir(&target)?;
    for file in &manifest.files {
        let relative = safe_relative(&file.path)?;
        copy(&source.join(&relative), &target.join(&relative))?;
    }
    runtime()?.block_on(async {
        // Opening runs the migrations: a backup of an earlier release is
        // brought forward here.
        let restored = open(&target, None).await?;
        let counts = restored.snapshot_counts().await?;
        restored.close().await;
        ensure!(
            counts == manifest.counts,
            "the restored database holds {counts:?}, the backup said {:?}",
            manifest.counts
        );
        println!(
            "restored {} documents, {} jobs, {} audit entries, {} registered models into {}",
            counts.documents,
            counts.jobs,
            counts.audit_entries,
            counts.models,
            target.display()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// The bucket folder named by `place`, when it is an `s3://` URL.
fn remote_folder(place: &str) -> anyhow::Result<Option<RemoteFolder>> {
    if !place.starts_with("s3://") {
        return Ok(None);
    }
    Ok(Some(
        RemoteFolder::open(place).with_context(|| format!("opening {place}"))?,
    ))
}

/// Download a backup from a bucket: the manifest, then every file it
/// lists (checked afterwards like a local backup's). A prefix without a
/// manifest is an unfinished backup: nothing more is downloaded.
fn download(remote: &RemoteFolder, into: &Path) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        if !remote.get_file(MANIFEST, &into.join(MANIFEST)).await? {
            bail!(
                "{} has no {MANIFEST}: not a complete backup; refusing to restore it",
                remote.url()
            );
        }
        let manifest: Manifest = serde_json::from_slice(&std::fs::read(into.join(MANIFEST))?)
            .context("reading the backup's manifest")?;
        for file in &manifest.files {
            let relative = safe_relative(&file.path)?;
            ensure!(
                remote.get_file(&file.path, &into.join(&relative)).await?,
                "backup file {} is missing from {}",
                file.path,
                remote.url()
            );
        }
        Ok(())
    })
}

fn embedded_only(settings: &Settings) -> anyhow::Result<()> {
    if let Some(url) = &settings.database_url
        && !url.starts_with("sqlite:")
    {
        bail!(
            "heron backup and restore are for the embedded store; back PostgreSQL up with its own \
             tools (point-in-time recovery, pg_dump): see docs/operations.md"
        );
    }
    if settings
        .blob_store
        .as_deref()
        .is_some_and(|b| b.starts_with("s3://"))
    {
        bail!(
            "blobs are in object storage: back the bucket up with its versioning or replication, \
             and the database with PostgreSQL's tools (docs/operations.md)"
        );
    }
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// The store in `dir`, or the SQLite file `database` when given.
async fn open(dir: &Path, database: Option<&Path>) -> anyhow::Result<Store> {
    let url = database.map(|path| format!("sqlite://{}", path.display()));
    Store::open(url.as_deref(), dir)
        .await
        .with_context(|| format!("opening the database in {}", dir.display()))
}

/// SQLite's write-ahead log files of a closed copy (empty after close).
fn remove_sqlite_sidecars(database: &Path) {
    for suffix in ["-wal", "-shm"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

fn ensure_empty(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(Result::ok)
            .filter(|e| e.file_name() != "heron.lock");
        ensure!(
            entries.next().is_none(),
            "{} is not empty: choose a new or empty folder",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(())
}

/// A manifest path that stays inside the backup.
fn safe_relative(path: &str) -> anyhow::Result<PathBuf> {
    let relative = PathBuf::from(path);
    ensure!(
        relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_))),
        "backup file path {path:?} leaves the backup; refusing"
    );
    Ok(relative)
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

fn entry(root: &Path, path: &Path) -> anyhow::Result<FileEntry> {
    let (size, sha256) = digest(path)?;
    let relative = path
        .strip_prefix(root)
        .context("a backup file outside the backup")?
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    Ok(FileEntry {
        path: relative,
        size,
        sha256,
    })
}

/// Size and SHA-256 of a file, read in 1 MiB pieces.
fn digest(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    Ok((size, hex::encode(hasher.finalize())))
}
