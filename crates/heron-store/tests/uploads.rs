//! Uploads in pieces on real databases (SQLite, and PostgreSQL when
//! `HERON_TEST_DATABASE_URL` names one): offsets move only forward and
//! only once per offset, an upload becomes one job, dropped uploads give
//! their parts back to the blob store, and a part no longer needed by an
//! upload is deleted unless a document needs the same bytes.

mod support;

use heron_store::{BlobStore, Completion, NewUpload, UploadKind, UploadPart};
use support::{actor, job, stores};

fn upload(id: &str, length: u64) -> NewUpload {
    NewUpload {
        id: id.to_owned(),
        tenant: "t1".to_owned(),
        actor: "test".to_owned(),
        kind: UploadKind::Chunked,
        filename: "scan.pdf".to_owned(),
        length,
        request_id: "req".to_owned(),
        expires_at: i64::MAX / 2,
    }
}

async fn put(blobs: &BlobStore, bytes: &[u8]) -> UploadPart {
    let mut writer = blobs.writer(1 << 20).await.unwrap();
    writer.write(bytes).await.unwrap();
    let blob = writer.commit().await.unwrap();
    UploadPart {
        first_byte: 0,
        sha256: blob.sha256,
        size_bytes: blob.size_bytes,
    }
}

#[tokio::test]
async fn offsets_move_once_an_upload_becomes_one_job_and_parts_are_given_back() {
    for (store, dir) in stores().await {
        let blobs = BlobStore::open(None, dir.path()).await.unwrap();
        store.create_upload(&upload("u1", 10)).await.unwrap();
        assert!(
            store.upload("t2", "u1").await.unwrap().is_none(),
            "another tenant's"
        );

        // Two requests at offset 0: one lands, the other's part is queued
        // for deletion and deleted (nothing needs it).
        let first = put(&blobs, b"hello").await;
        let racing = put(&blobs, b"HELLO").await;
        assert!(store.append_upload_part("u1", &first).await.unwrap());
        assert!(!store.append_upload_part("u1", &racing).await.unwrap());
        store.drain_blob_deletions(&blobs).await.unwrap();
        assert!(!blobs.contains(&racing.sha256).await.unwrap());
        assert!(
            blobs.contains(&first.sha256).await.unwrap(),
            "an upload's part is kept"
        );

        // Past the declared length: refused.
        let mut too_long = put(&blobs, b"world!").await;
        too_long.first_byte = 5;
        assert!(!store.append_upload_part("u1", &too_long).await.unwrap());
        let mut rest = put(&blobs, b"world").await;
        rest.first_byte = 5;
        assert!(store.append_upload_part("u1", &rest).await.unwrap());
        let record = store.upload("t1", "u1").await.unwrap().unwrap();
        assert_eq!((record.received, record.length), (10, 10));
        assert_eq!(store.upload_parts("u1").await.unwrap().len(), 2);

        // Completed once; a second completion names the first job.
        let mut joined = put(&blobs, b"helloworld").await;
        joined.first_byte = 0;
        let mut file_job = job("j1", 1);
        file_job.tasks[0].sha256 = joined.sha256.clone();
        assert_eq!(
            store.complete_upload("u1", &file_job).await.unwrap(),
            Completion::Created
        );
        assert_eq!(
            store.complete_upload("u1", &job("j2", 1)).await.unwrap(),
            Completion::AlreadyComplete("j1".to_owned())
        );
        assert!(store.upload_parts("u1").await.unwrap().is_empty());
        store.drain_blob_deletions(&blobs).await.unwrap();
        assert!(
            !blobs.contains(&first.sha256).await.unwrap(),
            "parts deleted"
        );
        assert!(
            blobs.contains(&joined.sha256).await.unwrap(),
            "the file stays"
        );
        let record = store.upload("t1", "u1").await.unwrap().unwrap();
        assert_eq!(record.job_id.as_deref(), Some("j1"));

        // A dropped upload gives its parts back, except bytes a document
        // holds too; a completed one cannot be dropped.
        assert!(!store.drop_upload("t1", "u1", &actor()).await.unwrap());
        store.create_upload(&upload("u2", 20)).await.unwrap();
        let same_as_file = put(&blobs, b"helloworld").await;
        let own = {
            let mut part = put(&blobs, b"0123456789").await;
            part.first_byte = 10;
            part
        };
        assert!(store.append_upload_part("u2", &same_as_file).await.unwrap());
        assert!(store.append_upload_part("u2", &own).await.unwrap());
        assert!(
            !store.drop_upload("t2", "u2", &actor()).await.unwrap(),
            "not theirs"
        );
        assert!(store.drop_upload("t1", "u2", &actor()).await.unwrap());
        store.drain_blob_deletions(&blobs).await.unwrap();
        assert!(!blobs.contains(&own.sha256).await.unwrap());
        assert!(
            blobs.contains(&same_as_file.sha256).await.unwrap(),
            "a document's bytes"
        );
        assert!(store.upload("t1", "u2").await.unwrap().is_none());
        assert_eq!(
            store.complete_upload("u2", &job("j3", 1)).await.unwrap(),
            Completion::Gone
        );

        // Expiry: unfinished uploads past it are listed for the retention
        // loop; fresh ones are not.
        let mut stale = upload("u3", 5);
        stale.expires_at = 1;
        store.create_upload(&stale).await.unwrap();
        store.create_upload(&upload("u4", 5)).await.unwrap();
        let expired = store.expired_uploads(10).await.unwrap();
        let ids: Vec<&str> = expired.iter().map(|(_, id, _)| id.as_str()).collect();
        assert_eq!(ids, ["u3"]);
        let mut late = put(&blobs, b"abcde").await;
        late.first_byte = 0;
        assert!(
            !store.append_upload_part("u3", &late).await.unwrap(),
            "expired"
        );
    }
}
