//! Content-addressed blob store on the local file system.
//!
//! A blob is written to a temporary file while it is hashed and measured,
//! then renamed to `<root>/<first two hex digits>/<sha256>`. Identical
//! uploads share one file; a crash mid-upload leaves only a temporary file
//! that the next start removes.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::StoreError;

/// The blob store under one directory.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

/// A blob that has been written and committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: String,
    pub size_bytes: u64,
}

impl BlobStore {
    /// Open (creating) the store and clear temporary files of earlier runs.
    pub async fn open(root: &Path) -> Result<BlobStore, StoreError> {
        let temporary = root.join("tmp");
        if tokio::fs::try_exists(&temporary).await? {
            tokio::fs::remove_dir_all(&temporary).await?;
        }
        tokio::fs::create_dir_all(&temporary).await?;
        Ok(BlobStore {
            root: root.to_path_buf(),
        })
    }

    /// Where a committed blob lives.
    pub fn path(&self, sha256: &str) -> PathBuf {
        let prefix = sha256.get(..2).unwrap_or("xx");
        self.root.join(prefix).join(sha256)
    }

    /// Start writing a blob of at most `limit` bytes.
    pub async fn writer(&self, limit: u64) -> Result<BlobWriter, StoreError> {
        let temporary = self
            .root
            .join("tmp")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let file = tokio::fs::File::create(&temporary).await?;
        Ok(BlobWriter {
            store: self.clone(),
            temporary,
            file: Some(file),
            hasher: Sha256::new(),
            size: 0,
            limit,
        })
    }

    /// Whether the store's directory is writable (for readiness).
    pub async fn check(&self) -> Result<(), StoreError> {
        let probe = self.root.join("tmp").join(".ready-probe");
        tokio::fs::write(&probe, b"ok").await?;
        tokio::fs::remove_file(&probe).await?;
        Ok(())
    }
}

/// A blob being written. Dropped without [`BlobWriter::commit`], its
/// temporary file is removed.
#[derive(Debug)]
pub struct BlobWriter {
    store: BlobStore,
    temporary: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: Sha256,
    size: u64,
    limit: u64,
}

impl BlobWriter {
    /// Append bytes; fails as soon as the size limit is passed.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(StoreError::TooLarge { limit: self.limit });
        }
        self.hasher.update(chunk);
        if let Some(file) = self.file.as_mut() {
            file.write_all(chunk).await?;
        }
        Ok(())
    }

    /// Flush to disk and move the blob to its content address.
    pub async fn commit(mut self) -> Result<StoredBlob, StoreError> {
        if let Some(mut file) = self.file.take() {
            file.flush().await?;
            file.sync_all().await?;
        }
        let sha256 = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let destination = self.store.path(&sha256);
        if let Some(parent) = destination.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(&self.temporary, &destination).await?;
        Ok(StoredBlob {
            sha256,
            size_bytes: self.size,
        })
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.file.is_some() {
            // Not committed: remove the partial file. Errors only mean it
            // is already gone; the next start clears tmp/ anyway.
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_are_content_addressed_and_limited() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).await.unwrap();
        let mut writer = store.writer(100).await.unwrap();
        writer.write(b"hello ").await.unwrap();
        writer.write(b"world").await.unwrap();
        let blob = writer.commit().await.unwrap();
        assert_eq!(
            blob.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(
            std::fs::read(store.path(&blob.sha256)).unwrap(),
            b"hello world"
        );

        let mut writer = store.writer(4).await.unwrap();
        assert!(matches!(
            writer.write(b"12345").await,
            Err(StoreError::TooLarge { limit: 4 })
        ));
        drop(writer);
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
