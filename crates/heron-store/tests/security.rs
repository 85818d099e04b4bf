//! Tenants, keys, the audit chain, erasure and retention on real databases
//! (SQLite, and PostgreSQL when `HERON_TEST_DATABASE_URL` names one).

mod support;

use heron_core::access::{Scope, Scopes};
use heron_store::{AuditFilter, BlobStore, NewApiKey, TenantSettings};
use support::{actor, claim, complete, job, stores};

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
