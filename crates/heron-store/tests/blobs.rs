//! The blob store's contract on a local folder and, when
//! `HERON_TEST_BLOB_STORE` names one, a real S3-compatible server.

use heron_store::{BlobStore, StoreError};

async fn stores() -> Vec<(BlobStore, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let mut stores = vec![(BlobStore::open(None, dir.path()).await.unwrap(), dir)];
    if let Some(url) = heron_store::testing::s3_test_location() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(Some(&url), dir.path()).await.unwrap();
        assert!(store.is_remote());
        stores.push((store, dir));
    }
    stores
}

/// Bytes that do not repeat, `len` long.
fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

#[tokio::test]
async fn a_blob_streams_in_hashed_and_reads_back_identical() {
    for (store, _dir) in stores().await {
        store.check().await.unwrap();
        // 12 MiB in 64 KiB chunks: on S3 this is a three-part upload.
        let bytes = payload(12 * 1024 * 1024, 7);
        let mut writer = store.writer(20 * 1024 * 1024).await.unwrap();
        for chunk in bytes.chunks(64 * 1024) {
            writer.write(chunk).await.unwrap();
        }
        let blob = writer.commit().await.unwrap();
        assert_eq!(blob.size_bytes, bytes.len() as u64);
        let expected = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&bytes))
        };
        assert_eq!(blob.sha256, expected, "{}", store.describe());
        let local = store.fetch(&blob.sha256, blob.size_bytes).await.unwrap();
        assert_eq!(std::fs::read(local.path()).unwrap(), bytes);

        // The same bytes again share the stored blob.
        let mut writer = store.writer(20 * 1024 * 1024).await.unwrap();
        writer.write(&bytes).await.unwrap();
        assert_eq!(writer.commit().await.unwrap(), blob);

        // A size that does not match what is stored is refused, not read.
        let truncated = store.fetch(&blob.sha256, blob.size_bytes - 1).await;
        assert!(
            matches!(truncated, Err(StoreError::Corrupt(_))),
            "{}: {truncated:?}",
            store.describe()
        );
    }
}

#[tokio::test]
async fn the_size_limit_stops_an_upload_and_nothing_is_kept() {
    for (store, _dir) in stores().await {
        let mut writer = store.writer(1000).await.unwrap();
        writer.write(&payload(900, 1)).await.unwrap();
        assert!(matches!(
            writer.write(&payload(200, 2)).await,
            Err(StoreError::TooLarge { limit: 1000 })
        ));
        drop(writer);
        let missing = store.fetch(&"ab".repeat(32), 10).await;
        assert!(
            matches!(missing, Err(StoreError::MissingBlob(_))),
            "{}: {missing:?}",
            store.describe()
        );
    }
}

#[tokio::test]
async fn encrypted_blobs_read_back_identical_and_need_their_key() {
    let keys_dir = tempfile::tempdir().unwrap();
    let master = heron_store::MasterKey::from_bytes(&[9u8; 32]).unwrap();
    let keys = heron_store::Store::open(None, keys_dir.path())
        .await
        .unwrap()
        .with_master_key(Some(std::sync::Arc::new(master)));
    for (plain_store, _dir) in stores().await {
        // A blob written before encryption was turned on stays readable.
        let old = payload(1000, 3);
        let mut writer = plain_store.writer(1 << 20).await.unwrap();
        writer.write(&old).await.unwrap();
        let old_blob = writer.commit().await.unwrap();

        let store = plain_store.clone().with_encryption(&keys);
        // Several segments and a ragged end, written in odd chunks.
        let bytes = payload(3 * 64 * 1024 + 123, 5);
        let mut writer = store.writer(1 << 20).await.unwrap();
        for chunk in bytes.chunks(10_000) {
            writer.write(chunk).await.unwrap();
        }
        let blob = writer.commit().await.unwrap();
        let read = store.fetch(&blob.sha256, blob.size_bytes).await.unwrap();
        assert_eq!(std::fs::read(read.path()).unwrap(), bytes);
        let read_old = store.fetch(&old_blob.sha256, 1000).await.unwrap();
        assert_eq!(std::fs::read(read_old.path()).unwrap(), old);
        // Without the key the encrypted blob cannot be read.
        assert!(matches!(
            plain_store.fetch(&blob.sha256, blob.size_bytes).await,
            Err(StoreError::Encryption(_))
        ));
    }
}
