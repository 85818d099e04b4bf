//! Tenants, keys, the audit chain, erasure and retention on real databases
//! (SQLite, and PostgreSQL when `HERON_TEST_DATABASE_URL` names one).

mod support;

use heron_core::access::{Scope, Scopes};
use heron_store::{AuditFilter, BlobStore, NewApiKey, TenantSettings};
use support::{actor, claim, complete, job, result, stores};

#[tokio::test]
async fn another_tenants_job_is_invisible() {
    for (store, _dir) in stores().await {
        store.create_job(&job("mine", 1)).await.unwrap();
        assert!(store.job("t1", "mine").await.unwrap().is_some());
        assert!(store.job("t2", "mine").await.unwrap().is_none());
        assert!(store.document("t2", "mine-t0").await.unwrap().is_none());
        assert!(
            store
                .jobs("t2", None, 10, None)
                .await
                .unwrap()
                .jobs
                .is_empty()
        );
        assert_eq!(
            store.cancel_job("t2", "mine", &actor()).await.unwrap(),
            heron_store::Cancelled::NotFound
        );
        // A done result is reused only within its tenant.
        let task = claim(&store, "w", 3).await.unwrap();
        assert_eq!(task.tenant, "t1");
        store
            .complete_reusable(&task.id, "w", &support::result("f0.txt"), Some("k"), None)
            .await
            .unwrap();
        assert!(
            store
                .reusable_result("t1", &task.sha256, "k")
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .reusable_result("t2", &task.sha256, "k")
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn keys_authenticate_until_revoked_or_expired_and_store_no_secret() {
    for (store, _dir) in stores().await {
        let scopes: Scopes = [Scope::Classify, Scope::Read].into_iter().collect();
        let issued = store
            .create_api_key(
                &NewApiKey {
                    tenant: "acme".to_owned(),
                    name: "ci".to_owned(),
                    scopes,
                    expires_at_ms: None,
                },
                &actor(),
            )
            .await
            .unwrap();
        let found = store.authenticate_key(&issued.key).await.unwrap().unwrap();
        assert_eq!((found.tenant.as_str(), found.scopes), ("acme", scopes));
        assert!(
            store.api_keys(Some("acme")).await.unwrap()[0]
                .last_used_at_ms
                .is_some()
        );
        // A wrong secret with the right id, and garbage, are refused.
        let (prefix, _) = issued.key.rsplit_once('_').unwrap();
        let forged = format!("{prefix}_{}", "0".repeat(64));
        assert!(store.authenticate_key(&forged).await.unwrap().is_none());
        assert!(store.authenticate_key("hk_nope").await.unwrap().is_none());
        // Another tenant cannot revoke it; its own admin can.
        assert!(
            !store
                .revoke_api_key("other", &issued.record.id, &actor())
                .await
                .unwrap()
        );
        assert!(
            store
                .revoke_api_key("acme", &issued.record.id, &actor())
                .await
                .unwrap()
        );
        assert!(store.authenticate_key(&issued.key).await.unwrap().is_none());
        // An expired key is refused.
        let expired = store
            .create_api_key(
                &NewApiKey {
                    tenant: "acme".to_owned(),
                    name: "old".to_owned(),
                    scopes,
                    expires_at_ms: Some(1),
                },
                &actor(),
            )
            .await
            .unwrap();
        assert!(
            store
                .authenticate_key(&expired.key)
                .await
                .unwrap()
                .is_none()
        );
        let secret = issued.key.rsplit('_').next().unwrap().to_owned();
        let actions: Vec<String> = audited(&store, "acme", AuditFilter::default())
            .await
            .into_iter()
            .map(|r| {
                assert!(!r.entry.detail.contains(&secret));
                r.entry.action
            })
            .collect();
        assert_eq!(actions, ["key.create", "key.revoke", "key.create"]);
    }
}

#[tokio::test]
async fn the_audit_chain_detects_an_edited_a_deleted_and_a_truncated_entry() {
    for (store, _dir) in stores().await {
        for n in 0..4 {
            store.create_job(&job(&format!("a{n}"), 1)).await.unwrap();
        }
        let clean = store.verify_audit().await.unwrap();
        assert!(clean.problems.is_empty(), "{:?}", clean.problems);
        assert_eq!(clean.chains[0].entries, 4);

        let pool = raw_pool(&store).await;
        sqlx::query("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2")
            .execute(&pool)
            .await
            .unwrap();
        let edited = store.verify_audit().await.unwrap();
        assert!(
            edited
                .problems
                .iter()
                .any(|p| p.contains("entry 2 was altered")),
            "{:?}",
            edited.problems
        );

        sqlx::query("DELETE FROM audit_log WHERE seq = 3")
            .execute(&pool)
            .await
            .unwrap();
        let deleted = store.verify_audit().await.unwrap();
        assert!(
            deleted.problems.iter().any(|p| p.contains("missing")),
            "{:?}",
            deleted.problems
        );

        sqlx::query("DELETE FROM audit_log WHERE seq = 4")
            .execute(&pool)
            .await
            .unwrap();
        let truncated = store.verify_audit().await.unwrap();
        assert!(
            truncated
                .problems
                .iter()
                .any(|p| p.contains("head records entry 4")),
            "{:?}",
            truncated.problems
        );
    }
}

#[tokio::test]
async fn an_erased_document_leaves_nothing_behind() {
    for (store, dir) in stores().await {
        let blobs = BlobStore::open_local(&dir.path().join("blobs"))
            .await
            .unwrap();
        let mut writer = blobs.writer(1 << 20).await.unwrap();
        writer.write(b"a bank statement").await.unwrap();
        let blob = writer.commit().await.unwrap();
        let mut new = job("erase", 2);
        for task in &mut new.tasks {
            task.sha256 = blob.sha256.clone();
            task.size_bytes = blob.size_bytes;
        }
        store.create_job(&new).await.unwrap();
        while let Some(task) = claim(&store, "w", 3).await {
            assert!(complete(&store, &task.id, "w", &task.filename).await);
        }
        // Another tenant cannot erase it.
        assert!(
            !store
                .erase_document(&blobs, "t2", "erase-t0", &actor(), "document.erase")
                .await
                .unwrap()
        );
        // The first copy goes; the blob stays for the second.
        assert!(
            store
                .erase_document(&blobs, "t1", "erase-t0", &actor(), "document.erase")
                .await
                .unwrap()
        );
        assert!(store.document("t1", "erase-t0").await.unwrap().is_none());
        assert!(blobs.contains(&blob.sha256).await.unwrap());
        let remaining = store.job("t1", "erase").await.unwrap().unwrap();
        assert_eq!((remaining.total_files, remaining.results.len()), (1, 1));
        // The last copy takes the blob and the job with it.
        assert!(
            store
                .erase_document(&blobs, "t1", "erase-t1", &actor(), "document.erase")
                .await
                .unwrap()
        );
        assert!(!blobs.contains(&blob.sha256).await.unwrap());
        assert!(store.job("t1", "erase").await.unwrap().is_none());
        let pool = raw_pool(&store).await;
        let left: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM tasks WHERE sha256 = $1)
                  + (SELECT COUNT(*) FROM jobs WHERE id = 'erase')
                  + (SELECT COUNT(*) FROM blob_deletions)",
        )
        .bind(&blob.sha256)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(left, 0);
        let erased: Vec<String> = audited(
            &store,
            "t1",
            AuditFilter {
                action: Some("document.erase".to_owned()),
                ..AuditFilter::default()
            },
        )
        .await
        .into_iter()
        .map(|r| r.entry.resource)
        .collect();
        assert_eq!(erased, ["document:erase-t1", "document:erase-t0"]);
        assert!(store.verify_audit().await.unwrap().problems.is_empty());
    }
}

#[tokio::test]
async fn retention_purges_only_expired_documents_of_each_tenant() {
    for (store, dir) in stores().await {
        let blobs = BlobStore::open_local(&dir.path().join("blobs"))
            .await
            .unwrap();
        store.create_job(&job("old", 1)).await.unwrap();
        let task = claim(&store, "w", 3).await.unwrap();
        assert!(complete(&store, &task.id, "w", "f").await);
        // Nothing is expired under a year of retention…
        assert_eq!(store.purge_expired(&blobs, Some(365)).await.unwrap(), 0);
        // …and the tenant's own setting wins over the default. Age the
        // document by two days.
        let pool = raw_pool(&store).await;
        sqlx::query("UPDATE tasks SET created_at = created_at - 172800000 WHERE id = $1")
            .bind(&task.id)
            .execute(&pool)
            .await
            .unwrap();
        store
            .set_tenant_settings(
                "t1",
                TenantSettings {
                    retention_days: Some(3),
                    ..TenantSettings::default()
                },
                &actor(),
            )
            .await
            .unwrap();
        assert_eq!(store.purge_expired(&blobs, Some(1)).await.unwrap(), 0);
        store
            .set_tenant_settings(
                "t1",
                TenantSettings {
                    retention_days: Some(1),
                    ..TenantSettings::default()
                },
                &actor(),
            )
            .await
            .unwrap();
        assert_eq!(store.purge_expired(&blobs, None).await.unwrap(), 1);
        assert!(store.document("t1", &task.id).await.unwrap().is_none());
        let purges = audited(&store, "t1", retention()).await;
        assert_eq!(purges.len(), 1);
        assert_eq!(purges[0].entry.action, "document.purge");
    }
}

#[tokio::test]
async fn files_and_texts_can_go_sooner_than_their_documents() {
    for (store, dir) in stores().await {
        let blobs = BlobStore::open_local(&dir.path().join("blobs"))
            .await
            .unwrap();
        let mut writer = blobs.writer(1 << 20).await.unwrap();
        writer.write(b"a pay slip").await.unwrap();
        let blob = writer.commit().await.unwrap();
        let mut new = job("parts", 1);
        new.tasks[0].sha256 = blob.sha256.clone();
        new.tasks[0].size_bytes = blob.size_bytes;
        store.create_job(&new).await.unwrap();
        let task = claim(&store, "w", 3).await.unwrap();
        let analysis = heron_store::DocumentAnalysis {
            understanding: r#"{"fields":{"values":{}}}"#.to_owned(),
            fingerprint: None,
            search: Some(heron_store::SearchEntry {
                label: "pay_slip".to_owned(),
                filename: "f".to_owned(),
                fields_text: "net pay 1200.00".to_owned(),
                body: "Employee Jane Doe".to_owned(),
                values: vec![("net_pay".to_owned(), Some(120_000), "1200.00".to_owned())],
            }),
        };
        let text = heron_store::DocumentText {
            text: "Employee Jane Doe",
            redacted: false,
            analysis: Some(&analysis),
        };
        assert!(
            store
                .complete_reusable(&task.id, "w", &support::result("f"), None, Some(text))
                .await
                .unwrap()
        );
        let search = heron_store::SearchQuery {
            tenant: "t1".to_owned(),
            text: Some("jane".to_owned()),
            limit: 10,
            ..heron_store::SearchQuery::default()
        };
        assert_eq!(store.search(&search).await.unwrap().total, 1);
        let by_value = heron_store::SearchQuery {
            text: None,
            fields: vec![heron_store::FieldFilter {
                name: "net_pay".to_owned(),
                comparison: heron_store::Comparison::AtLeast,
                value: "1000".to_owned(),
            }],
            ..search.clone()
        };
        assert_eq!(store.search(&by_value).await.unwrap().total, 1);
        store
            .set_tenant_settings(
                "t1",
                TenantSettings {
                    retention_days: Some(30),
                    file_retention_days: Some(1),
                    text_retention_days: Some(1),
                    ..TenantSettings::default()
                },
                &actor(),
            )
            .await
            .unwrap();
        assert_eq!(store.purge_expired(&blobs, None).await.unwrap(), 0);
        sqlx::query("UPDATE tasks SET created_at = created_at - 172800000 WHERE id = $1")
            .bind(&task.id)
            .execute(store.pool_for_tests())
            .await
            .unwrap();
        assert_eq!(store.purge_expired(&blobs, None).await.unwrap(), 2);
        // The document and its result stay; its text and file are gone.
        let document = store.document("t1", &task.id).await.unwrap().unwrap();
        assert!(document.result.is_some() && document.file_purged);
        assert!(store.document_text("t1", &task.id).await.unwrap().is_none());
        // What was read from the text, and its index entry, went with it.
        assert!(
            store
                .document_understanding("t1", &task.id)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.search(&search).await.unwrap().total, 0);
        assert_eq!(store.search(&by_value).await.unwrap().total, 0);
        assert!(!blobs.contains(&blob.sha256).await.unwrap());
        // Nothing more to do the next time.
        assert_eq!(store.purge_expired(&blobs, None).await.unwrap(), 0);
        let actions: Vec<String> = audited(&store, "t1", retention())
            .await
            .into_iter()
            .map(|r| r.entry.action)
            .collect();
        assert_eq!(actions, ["document.file_purge", "document.text_purge"]);
    }
}

/// `tenant`'s audit entries matching `filter` (newest first).
/// Store a finished document of `tenant` whose indexed text is `body`.
async fn indexed(store: &heron_store::Store, tenant: &str, id: &str, body: &str) {
    let mut new = job(id, 1);
    new.tenant = tenant.to_owned();
    store.create_job(&new).await.unwrap();
    let task = claim(store, "w", 3).await.unwrap();
    let analysis = heron_store::DocumentAnalysis {
        understanding: r#"{"fields":{"values":{}}}"#.to_owned(),
        fingerprint: None,
        search: Some(heron_store::SearchEntry {
            label: "invoice".to_owned(),
            filename: "f".to_owned(),
            body: body.to_owned(),
            ..heron_store::SearchEntry::default()
        }),
    };
    let text = heron_store::DocumentText {
        text: body,
        redacted: false,
        analysis: Some(&analysis),
    };
    assert!(
        store
            .complete_reusable(&task.id, "w", &support::result("f"), None, Some(text))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn search_scores_tell_nothing_of_other_tenants_documents() {
    for (store, _dir) in stores().await {
        indexed(&store, "t1", "a", "granite quarry invoice").await;
        indexed(&store, "t1", "b", "granite granite granite delivery note").await;
        let query = heron_store::SearchQuery {
            tenant: "t1".to_owned(),
            text: Some("granite".to_owned()),
            limit: 10,
            ..heron_store::SearchQuery::default()
        };
        let scores = |page: heron_store::SearchPage| -> Vec<(String, f64)> {
            page.hits
                .into_iter()
                .map(|h| (h.document_id, h.score))
                .collect()
        };
        let alone = scores(store.search(&query).await.unwrap());
        // Another tenant's documents with the same word (BM25 statistics
        // of SQLite's index are shared by every tenant's rows).
        for i in 0..12 {
            indexed(&store, "t2", &format!("x{i}"), "granite granite countertop").await;
        }
        assert_eq!(scores(store.search(&query).await.unwrap()), alone);
        assert_eq!(alone.len(), 2);
        assert!(alone[0].1 > alone[1].1);
    }
}

async fn audited(
    store: &heron_store::Store,
    tenant: &str,
    filter: AuditFilter,
) -> Vec<heron_store::AuditRecord> {
    store
        .audit_entries(
            tenant,
            &AuditFilter {
                limit: 10,
                ..filter
            },
        )
        .await
        .unwrap()
}

/// Entries written by the retention loop.
fn retention() -> AuditFilter {
    AuditFilter {
        actor: Some("system:retention".to_owned()),
        ..AuditFilter::default()
    }
}

/// A connection of our own to the store's database, to tamper with it
/// as an attacker with database access would.
async fn raw_pool(store: &heron_store::Store) -> sqlx::AnyPool {
    store.pool_for_tests().clone()
}

/// Crypto-shredding: erasing a document destroys the data keys of its
/// text and of its file, so a copy of the file that outlives the deletion
/// (an old object version in a versioned bucket, a file-level backup of
/// the blob folder) put back afterwards cannot be opened. Webhook and
/// callback secrets are sealed too, and a replaced callback secret's key
/// goes with it.
#[tokio::test]
async fn erasure_destroys_the_keys_so_a_restored_copy_of_the_file_cannot_be_read() {
    for (store, dir) in stores().await {
        let master = heron_store::MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let store = store.with_master_key(Some(std::sync::Arc::new(master)));
        let blobs = BlobStore::open_local(&dir.path().join("blobs"))
            .await
            .unwrap()
            .with_encryption(&store);
        let pool = raw_pool(&store).await;
        let keys = || async {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM data_keys")
                .fetch_one(&pool)
                .await
                .unwrap()
        };
        let mut writer = blobs.writer(1 << 20).await.unwrap();
        writer
            .write(b"IBAN DE89 3704 0044 0532 0130 00, a bank statement")
            .await
            .unwrap();
        let blob = writer.commit().await.unwrap();
        let mut new = job("shred", 1);
        new.tasks[0].sha256 = blob.sha256.clone();
        new.tasks[0].size_bytes = blob.size_bytes;
        store.create_job(&new).await.unwrap();
        let task = claim(&store, "w", 3).await.unwrap();
        let text = heron_store::DocumentText {
            text: "a bank statement of account DE89 3704",
            redacted: false,
            analysis: None,
        };
        assert!(
            store
                .complete_reusable(&task.id, "w", &result("s.txt"), None, Some(text))
                .await
                .unwrap()
        );
        let before = keys().await;
        // The file's key and the text's key.
        assert!(before >= 2, "{before}");
        let stored_text: String =
            sqlx::query_scalar("SELECT body FROM document_texts WHERE task_id = $1")
                .bind(&task.id)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert!(stored_text.starts_with("enc:v1:") && !stored_text.contains("DE89"));
        let file = blobs.local_file(&blob.sha256).unwrap();
        let backup = dir.path().join("backup-of-the-file");
        std::fs::copy(&file, &backup).unwrap();
        // Readable while the document exists.
        assert!(blobs.fetch(&blob.sha256, blob.size_bytes).await.is_ok());

        assert!(
            store
                .erase_document(&blobs, "t1", &task.id, &actor(), "document.erase")
                .await
                .unwrap()
        );
        assert_eq!(keys().await, before - 2, "both keys destroyed");
        let text_key = stored_text.split(':').nth(2).unwrap().to_owned();
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM data_keys WHERE id = $1")
            .bind(&text_key)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(left, 0);
        // The copy comes back; the deployment cannot open it.
        assert!(!file.exists());
        std::fs::copy(&backup, &file).unwrap();
        let restored = blobs.fetch(&blob.sha256, blob.size_bytes).await;
        assert!(
            matches!(&restored, Err(heron_store::StoreError::Encryption(e)) if e.contains("erased")),
            "{restored:?}"
        );

        // Secrets at rest: sealed, and opened only to sign. One stored in
        // the clear before is sealed at start-up.
        sqlx::query("INSERT INTO tenant_callback_secrets (tenant_id, secret, created_at) VALUES ('t0', 'whsec_old', 1)")
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(store.seal_stored_secrets().await.unwrap(), 1);
        assert_eq!(store.seal_stored_secrets().await.unwrap(), 0);
        sqlx::query("DELETE FROM tenant_callback_secrets WHERE tenant_id = 't0'")
            .execute(&pool)
            .await
            .unwrap();
        store
            .set_callback_secret("t1", "whsec_first", &actor())
            .await
            .unwrap();
        let with_one = keys().await;
        store
            .set_callback_secret("t1", "whsec_second", &actor())
            .await
            .unwrap();
        assert_eq!(
            keys().await,
            with_one,
            "the replaced secret's key is destroyed"
        );
        store
            .add_webhook_endpoint(
                "t1",
                "wh1",
                "https://example.com/h",
                "whsec_endpoint",
                &actor(),
            )
            .await
            .unwrap();
        let stored: Vec<String> = sqlx::query_scalar(
            "SELECT secret FROM tenant_callback_secrets UNION ALL SELECT secret FROM webhook_endpoints",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(stored.len(), 2);
        assert!(
            stored
                .iter()
                .all(|s| s.starts_with("enc:v1:") && !s.contains("whsec")),
            "{stored:?}"
        );
        // A finished job's callback is signed with the secret in the clear.
        let mut called = job("called", 1);
        called.callback_url = Some("https://example.com/callback".to_owned());
        store.create_job(&called).await.unwrap();
        let task = claim(&store, "w", 3).await.unwrap();
        assert!(complete(&store, &task.id, "w", "c.txt").await);
        let mut secrets = Vec::new();
        while let Some(delivery) = store
            .claim_delivery("w", std::time::Duration::from_secs(60))
            .await
            .unwrap()
        {
            secrets.push((delivery.endpoint_secret, delivery.tenant_secret));
        }
        assert!(
            secrets.contains(&(None, Some("whsec_second".to_owned()))),
            "{secrets:?}"
        );
        assert!(
            secrets.contains(&(
                Some("whsec_endpoint".to_owned()),
                Some("whsec_second".to_owned())
            )),
            "{secrets:?}"
        );
    }
}

/// An audit entry's row: tenant, seq, at and the hashed text fields.
type AuditRow = (
    String,
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
);

/// The hash an attacker without the audit key can compute: plain SHA-256
/// over the length-prefixed fields, as unkeyed chains use.
fn unkeyed_hash(prev: &str, seq: i64, at: i64, fields: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for field in [prev.to_owned(), seq.to_string(), at.to_string()]
        .iter()
        .chain(fields)
    {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// With an audit key, someone with write access to the database but not
/// the key cannot rewrite the chain consistently: not even by recomputing
/// every hash and the head. A chain written before the key was set is
/// keyed from its head on; anchors kept outside the database catch a
/// rewrite by anyone; a keyed chain cannot pass for checked without the key.
#[tokio::test]
async fn a_keyed_audit_chain_cannot_be_rewritten_without_the_key() {
    for (plain, _dir) in stores().await {
        // Two entries before the key was set.
        for n in 0..2 {
            plain.create_job(&job(&format!("k{n}"), 1)).await.unwrap();
        }
        let key = heron_store::AuditKey::new(&[42u8; 32]).unwrap();
        let keyed = plain.clone().with_audit_key(Some(std::sync::Arc::new(key)));
        assert!(heron_store::AuditKey::new(b"short").is_err());
        assert_eq!(keyed.key_audit_chains().await.unwrap(), 1);
        assert_eq!(keyed.key_audit_chains().await.unwrap(), 0);
        keyed.create_job(&job("k2", 1)).await.unwrap();
        let clean = keyed.verify_audit().await.unwrap();
        assert!(clean.problems.is_empty(), "{:?}", clean.problems);
        assert_eq!((clean.chains[0].entries, clean.chains[0].unkeyed), (4, 2));
        // Without the key the keyed entries cannot be vouched for.
        let unverifiable = plain.verify_audit().await.unwrap();
        assert!(
            unverifiable
                .problems
                .iter()
                .any(|p| p.contains("without the audit key")),
            "{:?}",
            unverifiable.problems
        );
        // Anchors, as logged or printed, read back and hold.
        let anchors = keyed.audit_anchors().await.unwrap();
        let text: String = anchors
            .iter()
            .map(|a| format!("{{\"message\":\"{}\"}}\n", a.line()))
            .collect();
        assert_eq!(heron_store::AuditAnchor::find(&text), anchors);
        for anchor in &anchors {
            assert_eq!(keyed.check_anchor(anchor).await.unwrap(), None);
        }

        // The attacker edits entry 1 and recomputes every hash and the head.
        let pool = raw_pool(&keyed).await;
        sqlx::query("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 1")
            .execute(&pool)
            .await
            .unwrap();
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT tenant_id, seq, at, actor, action, resource, outcome, request_id, detail
                   FROM audit_log ORDER BY tenant_id, seq",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let mut prev = "0".repeat(64);
        for (tenant, seq, at, actor, action, resource, outcome, request_id, detail) in rows {
            let hash = unkeyed_hash(
                &prev,
                seq,
                at,
                &[
                    tenant.clone(),
                    actor,
                    action,
                    resource,
                    outcome,
                    request_id,
                    detail,
                ],
            );
            sqlx::query(
                "UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE tenant_id = $3 AND seq = $4",
            )
            .bind(&prev)
            .bind(&hash)
            .bind(&tenant)
            .bind(seq)
            .execute(&pool)
            .await
            .unwrap();
            sqlx::query("UPDATE audit_heads SET hash = $1 WHERE tenant_id = $2")
                .bind(&hash)
                .bind(&tenant)
                .execute(&pool)
                .await
                .unwrap();
            prev = hash;
        }
        // Consistent enough to fool an unkeyed check...
        assert!(plain.verify_audit().await.unwrap().problems.is_empty());
        // ...but not the keyed one, nor the anchors.
        let caught = keyed.verify_audit().await.unwrap();
        assert!(
            caught
                .problems
                .iter()
                .any(|p| p.contains("ends in an unkeyed entry")),
            "{:?}",
            caught.problems
        );
        for anchor in &anchors {
            assert!(keyed.check_anchor(anchor).await.unwrap().is_some());
        }
    }
}
