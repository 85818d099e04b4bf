//! Content-addressed blob store: a local folder (the embedded default) or
//! an S3-compatible bucket, behind one interface.
//!
//! A blob is streamed while it is hashed and measured — to a temporary
//! file (local) or a temporary object uploaded in parts (S3) — and only
//! when complete is it moved to its content address, `<first two hex
//! digits>/<sha256>`. Identical uploads share one blob; a crash mid-upload
//! leaves only a temporary file (cleared at the next start) or temporary
//! object (the bucket's lifecycle rule for `tmp/` removes it; see
//! docs/deploy.md).
//!
//! Workers read a blob as a local file: the local store hands out its own
//! path; the S3 store downloads the object into a spool file and checks
//! its SHA-256 on the way, so a corrupted object is never classified.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::blob_crypto::{HEADER_LEN, Opener, Sealer, key_id};
use crate::{Store, StoreError};

/// Part size of multipart uploads: S3's minimum, so that an upload holds
/// at most a few parts in memory however large the file.
const PART_BYTES: usize = 5 * 1024 * 1024;
/// A temporary upload file this old was abandoned by a crashed process.
const STALE_UPLOAD: Duration = Duration::from_secs(3600);
/// Parts of one upload in flight at once.
const PARTS_IN_FLIGHT: usize = 2;

/// The blob store.
#[derive(Debug, Clone)]
pub struct BlobStore {
    location: Arc<Location>,
    /// Set when blobs are encrypted: the store that makes and unwraps
    /// their data keys.
    keys: Option<Store>,
}

#[derive(Debug)]
enum Location {
    Local {
        root: PathBuf,
    },
    Remote {
        store: Arc<dyn ObjectStore>,
        /// The bucket itself, unprefixed: signs presigned URLs.
        bucket: Arc<object_store::aws::AmazonS3>,
        /// The key prefix of `store` within the bucket (may be empty).
        prefix: String,
        /// `s3://bucket/prefix`, for logs and readiness.
        url: String,
        /// Where downloaded blobs wait for the pipeline.
        spool: PathBuf,
    },
}

/// A blob that has been written and committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: String,
    pub size_bytes: u64,
}

/// A blob as a local file, for as long as this value lives.
#[derive(Debug)]
pub struct LocalBlob {
    path: PathBuf,
    /// Set for downloaded copies: removed on drop.
    _spooled: Option<tempfile::TempPath>,
}

impl LocalBlob {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl BlobStore {
    /// Open the store named by `spec`: empty for `<data_dir>/blobs`, a
    /// directory (or `file://` URL), or `s3://bucket/prefix` with the
    /// endpoint, region and credentials from the usual `AWS_*` environment
    /// variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP` for plain-HTTP endpoints).
    pub async fn open(spec: Option<&str>, data_dir: &Path) -> Result<BlobStore, StoreError> {
        match spec.map(str::trim).filter(|s| !s.is_empty()) {
            None => Self::open_local(&data_dir.join("blobs")).await,
            Some(url) if url.starts_with("s3://") => {
                Self::open_s3(url, &data_dir.join("spool")).await
            }
            Some(url) => {
                let path = url.strip_prefix("file://").unwrap_or(url);
                if path.contains("://") {
                    return Err(StoreError::UnsupportedUrl(url.to_owned()));
                }
                Self::open_local(Path::new(path)).await
            }
        }
    }

    /// A store in a local folder. Temporary files left by interrupted
    /// uploads are cleared once they are an hour old (younger ones may
    /// belong to another process sharing the folder).
    pub async fn open_local(root: &Path) -> Result<BlobStore, StoreError> {
        let temporary = root.join("tmp");
        tokio::fs::create_dir_all(&temporary).await?;
        let mut entries = tokio::fs::read_dir(&temporary).await?;
        while let Some(entry) = entries.next_entry().await? {
            let stale = entry
                .metadata()
                .await
                .and_then(|m| m.modified())
                .ok()
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age > STALE_UPLOAD);
            if stale {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
        Ok(BlobStore {
            location: Arc::new(Location::Local {
                root: root.to_path_buf(),
            }),
            keys: None,
        })
    }

    async fn open_s3(url: &str, spool: &Path) -> Result<BlobStore, StoreError> {
        let (bucket, store, prefix) = s3_location(url)?;
        if tokio::fs::try_exists(spool).await? {
            tokio::fs::remove_dir_all(spool).await?;
        }
        tokio::fs::create_dir_all(spool).await?;
        Ok(BlobStore {
            location: Arc::new(Location::Remote {
                store,
                bucket,
                prefix,
                url: url.to_owned(),
                spool: spool.to_path_buf(),
            }),
            keys: None,
        })
    }

    /// Encrypt blobs written from now on when `store` has a master key,
    /// and read encrypted blobs with its data keys. Blobs written before
    /// stay readable.
    pub fn with_encryption(mut self, store: &Store) -> BlobStore {
        if store.encrypts() {
            self.keys = Some(store.clone());
        }
        self
    }

    /// `local:<dir>` or the `s3://` URL.
    pub fn describe(&self) -> String {
        match self.location.as_ref() {
            Location::Local { root } => format!("local:{}", root.display()),
            Location::Remote { url, .. } => url.clone(),
        }
    }

    /// The file of a blob in a local blob folder (`None` for object
    /// storage, whose bucket is backed up by its own versioning or
    /// replication). The file holds the bytes as stored: sealed when
    /// encryption is on.
    pub fn local_file(&self, sha256: &str) -> Option<PathBuf> {
        match self.location.as_ref() {
            Location::Local { root } => Some(local_path(root, sha256)),
            Location::Remote { .. } => None,
        }
    }

    /// Whether blobs live in object storage (shared by every process).
    pub fn is_remote(&self) -> bool {
        matches!(self.location.as_ref(), Location::Remote { .. })
    }

    /// Start writing a blob of at most `limit` bytes.
    pub async fn writer(&self, limit: u64) -> Result<BlobWriter, StoreError> {
        let name = uuid::Uuid::new_v4().simple().to_string();
        let sink = match self.location.as_ref() {
            Location::Local { root } => {
                let temporary = root.join("tmp").join(name);
                let file = tokio::fs::File::create(&temporary).await?;
                Sink::File {
                    file: Some(file),
                    temporary,
                }
            }
            Location::Remote { store, .. } => {
                let temporary = ObjectPath::from(format!("tmp/{name}"));
                let writer = BufWriter::with_capacity(store.clone(), temporary.clone(), PART_BYTES)
                    .with_max_concurrency(PARTS_IN_FLIGHT);
                Sink::Object {
                    writer: Some(writer),
                    temporary,
                    store: store.clone(),
                }
            }
        };
        let mut writer = BlobWriter {
            store: self.clone(),
            sink,
            sealer: None,
            hasher: Sha256::new(),
            size: 0,
            limit,
        };
        if let Some(keys) = &self.keys
            && let Some((id, key)) = keys.new_blob_key().await?
        {
            let (sealer, header) = Sealer::new(key, &id)?;
            writer.write_raw(&header).await?;
            writer.sealer = Some(sealer);
        }
        Ok(writer)
    }

    /// The blob `sha256` as a local file. A downloaded copy is checked
    /// against its hash and size.
    pub async fn fetch(&self, sha256: &str, size_bytes: u64) -> Result<LocalBlob, StoreError> {
        match self.location.as_ref() {
            Location::Local { root } => {
                let path = local_path(root, sha256);
                if self.local_is_sealed(&path).await? {
                    return self
                        .open_sealed_local(root, &path, sha256, size_bytes)
                        .await;
                }
                let length = match tokio::fs::metadata(&path).await {
                    Ok(metadata) => metadata.len(),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(StoreError::MissingBlob(sha256.to_owned()));
                    }
                    Err(e) => return Err(e.into()),
                };
                if length != size_bytes {
                    return Err(StoreError::Corrupt(format!(
                        "blob {sha256} is {length} bytes, expected {size_bytes}"
                    )));
                }
                Ok(LocalBlob {
                    path,
                    _spooled: None,
                })
            }
            Location::Remote { store, spool, .. } => {
                download(
                    store.as_ref(),
                    spool,
                    sha256,
                    size_bytes,
                    self.keys.as_ref(),
                )
                .await
            }
        }
    }

    /// Whether a local blob file starts like an encrypted blob.
    async fn local_is_sealed(&self, path: &Path) -> Result<bool, StoreError> {
        use tokio::io::AsyncReadExt;
        let mut file = match tokio::fs::File::open(path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let mut header = [0u8; HEADER_LEN];
        let mut read = 0;
        while read < HEADER_LEN {
            let n = file.read(&mut header[read..]).await?;
            if n == 0 {
                break;
            }
            read += n;
        }
        Ok(key_id(&header[..read]).is_some())
    }

    /// Decrypt a local encrypted blob into a temporary file beside it.
    async fn open_sealed_local(
        &self,
        root: &Path,
        path: &Path,
        sha256: &str,
        size_bytes: u64,
    ) -> Result<LocalBlob, StoreError> {
        use tokio::io::AsyncReadExt;
        let mut spooler = Spooler::new(&root.join("tmp"), sha256, size_bytes, self.keys.as_ref())?;
        let mut file = tokio::fs::File::open(path).await?;
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let n = file.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            spooler.feed(&buffer[..n]).await?;
        }
        spooler.finish().await
    }

    /// Delete the blob `sha256`; deleting a missing blob is not an error
    /// (erasure may be retried).
    pub async fn remove(&self, sha256: &str) -> Result<(), StoreError> {
        match self.location.as_ref() {
            Location::Local { root } => {
                match tokio::fs::remove_file(local_path(root, sha256)).await {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                    _ => Ok(()),
                }
            }
            Location::Remote { store, .. } => match store.delete(&object_path(sha256)).await {
                Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
                Err(other) => Err(object_error(other)),
            },
        }
    }

    /// The data key the blob `sha256` is sealed under, read from its
    /// header; `None` for a blob stored in the clear or not stored.
    pub(crate) async fn data_key_id(&self, sha256: &str) -> Result<Option<String>, StoreError> {
        let head = match self.location.as_ref() {
            Location::Local { root } => {
                let mut file = match tokio::fs::File::open(local_path(root, sha256)).await {
                    Ok(file) => file,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                use tokio::io::AsyncReadExt;
                let mut head = Vec::with_capacity(HEADER_LEN);
                (&mut file)
                    .take(HEADER_LEN as u64)
                    .read_to_end(&mut head)
                    .await?;
                head
            }
            Location::Remote { store, .. } => {
                let path = object_path(sha256);
                match store.head(&path).await {
                    // Shorter than a header: a small blob in the clear.
                    Ok(meta) if meta.size < HEADER_LEN as u64 => return Ok(None),
                    Ok(_) => {}
                    Err(object_store::Error::NotFound { .. }) => return Ok(None),
                    Err(other) => return Err(object_error(other)),
                }
                store
                    .get_range(&path, 0..HEADER_LEN as u64)
                    .await
                    .map_err(object_error)?
                    .to_vec()
            }
        };
        Ok(key_id(&head))
    }

    /// Whether the blob `sha256` is stored (tests of erasure use this).
    pub async fn contains(&self, sha256: &str) -> Result<bool, StoreError> {
        match self.location.as_ref() {
            Location::Local { root } => Ok(tokio::fs::try_exists(local_path(root, sha256)).await?),
            Location::Remote { store, .. } => match store.head(&object_path(sha256)).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(other) => Err(object_error(other)),
            },
        }
    }

    /// A URL that lets its holder `PUT` an object at the key
    /// `incoming/<name>` (beside the blobs, under the store's prefix), and
    /// nowhere else, until `expires_in` runs out. S3 cannot bind the size
    /// to a presigned `PUT` (object_store refuses to sign
    /// `content-length`), so the caller checks the size when the upload is
    /// completed. `None` for a local store (nothing to presign).
    pub async fn presigned_put(
        &self,
        name: &str,
        expires_in: Duration,
    ) -> Result<Option<String>, StoreError> {
        use object_store::signer::{Method, Signer};
        let Location::Remote { bucket, prefix, .. } = self.location.as_ref() else {
            return Ok(None);
        };
        let key = incoming_path(name);
        let full = if prefix.is_empty() {
            key
        } else {
            ObjectPath::from(format!("{prefix}/{key}"))
        };
        let url = bucket
            .signed_url(Method::PUT, &full, expires_in)
            .await
            .map_err(object_error)?;
        Ok(Some(url.to_string()))
    }

    /// The size of the object a presigned upload `name` put, or `None`
    /// when nothing was put (yet).
    pub async fn incoming_size(&self, name: &str) -> Result<Option<u64>, StoreError> {
        let Location::Remote { store, .. } = self.location.as_ref() else {
            return Ok(None);
        };
        match store.head(&incoming_path(name)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(other) => Err(object_error(other)),
        }
    }

    /// Read the object a presigned upload `name` put into a blob (hashed,
    /// measured against `limit`, encrypted when encryption is on), then
    /// delete the object.
    pub async fn import_incoming(&self, name: &str, limit: u64) -> Result<StoredBlob, StoreError> {
        let Location::Remote { store, .. } = self.location.as_ref() else {
            return Err(StoreError::MissingBlob(format!("incoming/{name}")));
        };
        let path = incoming_path(name);
        let mut stream = store.get(&path).await.map_err(object_error)?.into_stream();
        let mut writer = self.writer(limit).await?;
        while let Some(chunk) = stream.next().await {
            writer.write(&chunk.map_err(object_error)?).await?;
        }
        let blob = writer.commit().await?;
        self.remove_incoming(name).await?;
        Ok(blob)
    }

    /// Delete what a presigned upload `name` put, if anything.
    pub async fn remove_incoming(&self, name: &str) -> Result<(), StoreError> {
        let Location::Remote { store, .. } = self.location.as_ref() else {
            return Ok(());
        };
        match store.delete(&incoming_path(name)).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(other) => Err(object_error(other)),
        }
    }

    /// Whether the store can be reached and written (for readiness): the
    /// local folder accepts a file; the bucket answers a listing.
    pub async fn check(&self) -> Result<(), StoreError> {
        match self.location.as_ref() {
            Location::Local { root } => {
                let probe = root.join("tmp").join(".ready-probe");
                tokio::fs::write(&probe, b"ok").await?;
                tokio::fs::remove_file(&probe).await?;
            }
            Location::Remote { store, .. } => {
                store
                    .list_with_delimiter(Some(&ObjectPath::from("tmp")))
                    .await
                    .map_err(object_error)?;
            }
        }
        Ok(())
    }
}

/// A bucket's client, the store under the prefix, and the prefix.
type S3Location = (
    Arc<object_store::aws::AmazonS3>,
    Arc<dyn ObjectStore>,
    String,
);

/// The client of `s3://bucket/prefix` (endpoint, region and credentials
/// from the `AWS_*` environment), the store under the prefix, and the
/// prefix.
fn s3_location(url: &str) -> Result<S3Location, StoreError> {
    // reqwest is built without a default TLS crypto provider (to avoid
    // a second one); install ring's. Fails only if one is installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rest = url.trim_start_matches("s3://");
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    }
    // Our timeouts first, then the environment (which may override
    // them): `with_client_options` would otherwise drop the client
    // settings read from the environment, such as AWS_ALLOW_HTTP.
    let mut builder = object_store::aws::AmazonS3Builder::new().with_client_options(
        ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(60)),
    );
    for (key, value) in std::env::vars() {
        if key.starts_with("AWS_")
            && let Ok(key) = key.to_ascii_lowercase().parse()
        {
            builder = builder.with_config(key, value);
        }
    }
    let s3 = builder
        .with_bucket_name(bucket)
        // A few quick retries; beyond that the caller's own retry
        // (the task queue's backoff) takes over.
        .with_retry(RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(15),
            ..RetryConfig::default()
        })
        .build()
        .map_err(|e| StoreError::ObjectStore(e.to_string()))?;
    let prefix = prefix.trim_matches('/');
    let bucket = Arc::new(s3);
    let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
        bucket.clone()
    } else {
        Arc::new(PrefixStore::new(bucket.clone(), prefix))
    };
    Ok((bucket, store, prefix.to_owned()))
}

/// Files under an `s3://bucket/prefix` (a backup's folder in a bucket):
/// written whole, read back, listed.
#[derive(Debug, Clone)]
pub struct RemoteFolder {
    store: Arc<dyn ObjectStore>,
    url: String,
}

impl RemoteFolder {
    pub fn open(url: &str) -> Result<RemoteFolder, StoreError> {
        let (_, store, _) = s3_location(url)?;
        Ok(RemoteFolder {
            store,
            url: url.to_owned(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Upload the local file `path` as `relative` (parts of 5 MiB).
    pub async fn put_file(&self, relative: &str, path: &Path) -> Result<(), StoreError> {
        use tokio::io::AsyncReadExt;
        let mut writer =
            BufWriter::with_capacity(self.store.clone(), ObjectPath::from(relative), PART_BYTES)
                .with_max_concurrency(PARTS_IN_FLIGHT);
        let mut file = tokio::fs::File::open(path).await?;
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            writer.write_all(&buffer[..n]).await?;
        }
        writer.shutdown().await?;
        Ok(())
    }

    /// Download `relative` into the local file `path`; `false` when
    /// there is no such object.
    pub async fn get_file(&self, relative: &str, path: &Path) -> Result<bool, StoreError> {
        let result = match self.store.get(&ObjectPath::from(relative)).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(other) => return Err(object_error(other)),
        };
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let mut file = tokio::fs::File::create(path).await?;
        let mut stream = result.into_stream();
        while let Some(chunk) = stream.next().await {
            file.write_all(&chunk.map_err(object_error)?).await?;
        }
        file.sync_all().await?;
        Ok(true)
    }

    /// Whether anything is stored under the folder.
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let mut listing = self.store.list(None);
        match listing.next().await {
            None => Ok(true),
            Some(Ok(_)) => Ok(false),
            Some(Err(e)) => Err(object_error(e)),
        }
    }
}

/// Where a committed blob lives under a local root.
fn local_path(root: &Path, sha256: &str) -> PathBuf {
    root.join(shard(sha256)).join(sha256)
}

/// Where a presigned upload puts its object (the bucket's lifecycle rule
/// for `incoming/` removes what was never completed; see docs/deploy.md).
fn incoming_path(name: &str) -> ObjectPath {
    ObjectPath::from(format!("incoming/{name}"))
}

fn object_path(sha256: &str) -> ObjectPath {
    ObjectPath::from(format!("{}/{sha256}", shard(sha256)))
}

fn shard(sha256: &str) -> &str {
    sha256.get(..2).unwrap_or("xx")
}

fn object_error(error: object_store::Error) -> StoreError {
    match error {
        object_store::Error::NotFound { path, .. } => StoreError::MissingBlob(path),
        other => StoreError::ObjectStore(other.to_string()),
    }
}

async fn download(
    store: &dyn ObjectStore,
    spool: &Path,
    sha256: &str,
    size_bytes: u64,
    keys: Option<&Store>,
) -> Result<LocalBlob, StoreError> {
    let mut spooler = Spooler::new(spool, sha256, size_bytes, keys)?;
    let mut stream = store
        .get(&object_path(sha256))
        .await
        .map_err(object_error)?
        .into_stream();
    while let Some(chunk) = stream.next().await {
        spooler.feed(&chunk.map_err(object_error)?).await?;
    }
    spooler.finish().await
}

/// Writes a blob's plaintext to a spool file as its stored bytes arrive —
/// decrypting them when they turn out to be an encrypted blob — and checks
/// its size and SHA-256 at the end.
struct Spooler<'a> {
    temporary: tempfile::TempPath,
    file: Option<tokio::fs::File>,
    path: PathBuf,
    sha256: &'a str,
    size_bytes: u64,
    keys: Option<&'a Store>,
    /// The first bytes, until they show whether the blob is encrypted.
    head: Vec<u8>,
    opener: Option<Opener>,
    plain: bool,
    hasher: Sha256,
    size: u64,
}

impl<'a> Spooler<'a> {
    fn new(
        spool: &Path,
        sha256: &'a str,
        size_bytes: u64,
        keys: Option<&'a Store>,
    ) -> Result<Spooler<'a>, StoreError> {
        let temporary = tempfile::Builder::new()
            .prefix("blob-")
            .tempfile_in(spool)?
            .into_temp_path();
        Ok(Spooler {
            path: temporary.to_path_buf(),
            temporary,
            file: None,
            sha256,
            size_bytes,
            keys,
            head: Vec::new(),
            opener: None,
            plain: false,
            hasher: Sha256::new(),
            size: 0,
        })
    }

    async fn feed(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        if let Some(opener) = &mut self.opener {
            let plaintext = opener.push(chunk)?;
            return self.write(&plaintext).await;
        }
        if self.plain {
            return self.write(chunk).await;
        }
        self.head.extend_from_slice(chunk);
        if self.head.len() >= HEADER_LEN {
            self.decide().await?;
        }
        Ok(())
    }

    /// Plain or encrypted, from the first bytes.
    async fn decide(&mut self) -> Result<(), StoreError> {
        let head = std::mem::take(&mut self.head);
        match key_id(&head) {
            Some(id) => {
                let keys = self.keys.ok_or_else(|| {
                    StoreError::Encryption(
                        "this blob is encrypted: configure the master key (HERON_MASTER_KEY_FILE)"
                            .to_owned(),
                    )
                })?;
                let mut opener = Opener::new(keys.data_key(&id).await?, &head[..HEADER_LEN])?;
                let plaintext = opener.push(&head[HEADER_LEN..])?;
                self.opener = Some(opener);
                self.write(&plaintext).await
            }
            None => {
                self.plain = true;
                self.write(&head).await
            }
        }
    }

    async fn write(&mut self, plaintext: &[u8]) -> Result<(), StoreError> {
        self.size += plaintext.len() as u64;
        if self.size > self.size_bytes {
            return Err(self.mismatch());
        }
        self.hasher.update(plaintext);
        if self.file.is_none() {
            self.file = Some(tokio::fs::File::create(&self.path).await?);
        }
        if let Some(file) = &mut self.file {
            file.write_all(plaintext).await?;
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<LocalBlob, StoreError> {
        if !self.plain && self.opener.is_none() {
            // Shorter than a header: a small plain blob.
            self.decide().await?;
        }
        if let Some(opener) = self.opener.take() {
            let plaintext = opener.finish()?;
            self.write(&plaintext).await?;
        }
        if self.file.is_none() {
            self.file = Some(tokio::fs::File::create(&self.path).await?);
        }
        if let Some(file) = &mut self.file {
            file.flush().await?;
        }
        let actual = hex::encode(std::mem::take(&mut self.hasher).finalize());
        if self.size != self.size_bytes || actual != self.sha256 {
            return Err(self.mismatch());
        }
        Ok(LocalBlob {
            path: self.path,
            _spooled: Some(self.temporary),
        })
    }

    fn mismatch(&self) -> StoreError {
        StoreError::Corrupt(format!(
            "blob {} read back as {}{} bytes, expected {}",
            self.sha256,
            if self.size > self.size_bytes {
                "over "
            } else {
                ""
            },
            self.size,
            self.size_bytes
        ))
    }
}

/// A blob being written. Dropped without [`BlobWriter::commit`], its
/// temporary file or object is removed.
#[derive(Debug)]
pub struct BlobWriter {
    store: BlobStore,
    sink: Sink,
    /// Set when the blob is encrypted.
    sealer: Option<Sealer>,
    hasher: Sha256,
    size: u64,
    limit: u64,
}

#[derive(Debug)]
enum Sink {
    File {
        file: Option<tokio::fs::File>,
        temporary: PathBuf,
    },
    Object {
        writer: Option<BufWriter>,
        temporary: ObjectPath,
        store: Arc<dyn ObjectStore>,
    },
}

impl BlobWriter {
    /// Bytes written so far (plain, before any encryption).
    pub fn written(&self) -> u64 {
        self.size
    }

    /// Append bytes; fails as soon as the size limit is passed, before
    /// anything past it is stored.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(StoreError::TooLarge { limit: self.limit });
        }
        self.hasher.update(chunk);
        match &mut self.sealer {
            Some(sealer) => {
                let sealed = sealer.push(chunk)?;
                self.write_raw(&sealed).await
            }
            None => self.write_raw(chunk).await,
        }
    }

    /// Append bytes as stored (ciphertext when encrypting).
    async fn write_raw(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        if bytes.is_empty() {
            return Ok(());
        }
        match &mut self.sink {
            Sink::File {
                file: Some(file), ..
            } => file.write_all(bytes).await?,
            Sink::Object {
                writer: Some(writer),
                ..
            } => writer
                .put(bytes::Bytes::copy_from_slice(bytes))
                .await
                .map_err(object_error)?,
            _ => {}
        }
        Ok(())
    }

    /// Make the blob durable and move it to its content address.
    pub async fn commit(mut self) -> Result<StoredBlob, StoreError> {
        if let Some(sealer) = self.sealer.take() {
            let last = sealer.finish()?;
            self.write_raw(&last).await?;
        }
        let sha256 = hex::encode(std::mem::take(&mut self.hasher).finalize());
        match &mut self.sink {
            Sink::File { file, temporary } => {
                if let Some(mut file) = file.take() {
                    file.flush().await?;
                    file.sync_all().await?;
                }
                let Location::Local { root } = self.store.location.as_ref() else {
                    return Err(StoreError::Corrupt("file sink on a remote store".into()));
                };
                let destination = local_path(root, &sha256);
                if let Some(parent) = destination.parent() {
                    tokio::fs::create_dir_all(parent).await?;
                }
                tokio::fs::rename(&temporary, &destination).await?;
            }
            Sink::Object {
                writer,
                temporary,
                store,
            } => {
                if let Some(mut writer) = writer.take() {
                    writer.shutdown().await?;
                }
                let destination = object_path(&sha256);
                // Same bytes already stored: keep that copy.
                if store.head(&destination).await.is_err() {
                    store
                        .copy(temporary, &destination)
                        .await
                        .map_err(object_error)?;
                }
                store.delete(temporary).await.map_err(object_error)?;
            }
        }
        Ok(StoredBlob {
            sha256,
            size_bytes: self.size,
        })
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        match &mut self.sink {
            Sink::File {
                file: Some(_),
                temporary,
            } => {
                // Not committed: remove the partial file. Errors only mean
                // it is already gone; the next start clears tmp/ anyway.
                let _ = std::fs::remove_file(temporary);
            }
            Sink::Object {
                writer,
                temporary,
                store,
            } => {
                // Not committed: abort the multipart upload and remove the
                // object, in the background (drop cannot wait).
                let Some(mut writer) = writer.take() else {
                    return;
                };
                let (temporary, store) = (temporary.clone(), store.clone());
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move {
                        let _ = writer.abort().await;
                        let _ = store.delete(&temporary).await;
                    });
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_are_content_addressed_and_limited() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(None, dir.path()).await.unwrap();
        let mut writer = store.writer(100).await.unwrap();
        writer.write(b"hello ").await.unwrap();
        writer.write(b"world").await.unwrap();
        let blob = writer.commit().await.unwrap();
        assert_eq!(
            blob.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        let local = store.fetch(&blob.sha256, 11).await.unwrap();
        assert_eq!(std::fs::read(local.path()).unwrap(), b"hello world");

        let mut writer = store.writer(4).await.unwrap();
        assert!(matches!(
            writer.write(b"12345").await,
            Err(StoreError::TooLarge { limit: 4 })
        ));
        drop(writer);
        assert_eq!(
            std::fs::read_dir(dir.path().join("blobs/tmp"))
                .unwrap()
                .count(),
            0
        );
        assert!(matches!(
            store.fetch(&"0".repeat(64), 1).await,
            Err(StoreError::MissingBlob(_))
        ));
    }
}
