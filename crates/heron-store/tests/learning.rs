//! Reviews, training runs, the per-tenant model registry and UI sessions
//! on real databases (SQLite, and PostgreSQL when
//! `HERON_TEST_DATABASE_URL` names one).

mod support;

use std::time::Duration;

use heron_store::{NewModelVersion, NewReview, ReviewAction, UiSession};
use support::{actor, claim, complete, job, stores};

fn review(label: &str) -> NewReview {
    NewReview {
        action: ReviewAction::Correct,
        label: label.to_owned(),
        fields: Some(serde_json::json!({ "total": "10.00" })),
        note: None,
    }
}

fn model(id: &str, tenant: &str) -> NewModelVersion {
    NewModelVersion {
        id: id.to_owned(),
        tenant: tenant.to_owned(),
        sha256: format!("{:0>64}", id.len()),
        size_bytes: 10,
        training_run: None,
        labels: vec!["invoice".to_owned()],
        report: serde_json::json!({ "note": id }),
    }
}

#[tokio::test]
async fn the_latest_verdict_is_in_force_and_reviewed_documents_leave_the_candidates() {
    for (store, _dir) in stores().await {
        store.create_job(&job("j", 2)).await.unwrap();
        for _ in 0..2 {
            let task = claim(&store, "w", 3).await.unwrap();
            assert!(complete(&store, &task.id, "w", &task.filename).await);
        }
        assert_eq!(store.review_candidates("t1", 10).await.unwrap().len(), 2);
        // Unknown, foreign or unfinished documents take no verdict.
        assert!(
            store
                .record_review("t2", "j-t0", &review("invoice"), &actor())
                .await
                .unwrap()
                .is_none()
        );
        let first = store
            .record_review("t1", "j-t0", &review("invoice"), &actor())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (first.predicted_label.as_str(), first.confidence),
            ("form", 0.9)
        );
        // Verdicts given within one millisecond keep their order.
        let mut stamps = vec![first.created_at_ms];
        for label in ["contract", "form", "receipt"] {
            let record = store
                .record_review("t1", "j-t0", &review(label), &actor())
                .await
                .unwrap()
                .unwrap();
            stamps.push(record.created_at_ms);
        }
        assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
        let latest = store.latest_reviews("t1").await.unwrap();
        assert_eq!(latest.len(), 1);
        assert_eq!(latest[0].label, "receipt");
        assert_eq!(
            latest[0].fields,
            Some(serde_json::json!({ "total": "10.00" }))
        );
        let verdicts = store.reviews_of("t1", "j-t0").await.unwrap();
        let labels: Vec<&str> = verdicts.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["invoice", "contract", "form", "receipt"]);
        assert!(store.latest_reviews("t2").await.unwrap().is_empty());
        let candidates = store.review_candidates("t1", 10).await.unwrap();
        assert_eq!(candidates.len(), 1);
        assert_eq!(candidates[0].document_id, "j-t1");
        // Erasing the document takes its verdicts with it.
        let blobs = heron_store::BlobStore::open_local(_dir.path())
            .await
            .unwrap();
        assert!(
            store
                .erase_document(&blobs, "t1", "j-t0", &actor(), "document.erase")
                .await
                .unwrap()
        );
        assert!(store.latest_reviews("t1").await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn one_training_run_at_a_time_claimed_once_and_finished_by_its_owner() {
    for (store, _dir) in stores().await {
        let (run, new) = store.queue_training("t1", &actor()).await.unwrap();
        assert!(new);
        let (again, new) = store.queue_training("t1", &actor()).await.unwrap();
        assert!(!new, "a second request joins the pending run");
        assert_eq!(again.id, run.id);
        let lease = Duration::from_secs(60);
        let claimed = store
            .claim_training("a", lease, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, run.id);
        assert!(
            store
                .claim_training("b", lease, None)
                .await
                .unwrap()
                .is_none()
        );
        let report = serde_json::json!({ "ok": true });
        assert!(
            !store
                .finish_training(&run.id, "b", Ok(("tm-x", None, &report)))
                .await
                .unwrap(),
            "only the owner records the outcome"
        );
        assert!(
            store
                .finish_training(&run.id, "a", Ok(("tm-x", Some("tm-old"), &report)))
                .await
                .unwrap()
        );
        let done = store.training_run("t1", &run.id).await.unwrap().unwrap();
        assert_eq!(done.state, "done");
        assert_eq!(done.challenger_id.as_deref(), Some("tm-x"));
        assert_eq!(done.report, Some(report));
        assert!(store.training_run("t2", &run.id).await.unwrap().is_none());
        // A run whose worker died is claimed again once its lease ran out.
        let (second, _) = store.queue_training("t1", &actor()).await.unwrap();
        let short = Duration::from_millis(1);
        store
            .claim_training("c", short, None)
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let retaken = store
            .claim_training("d", lease, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(retaken.id, second.id);
    }
}

#[tokio::test]
async fn champions_are_per_tenant_and_rollback_walks_back_the_promotions() {
    for (store, _dir) in stores().await {
        for (id, tenant) in [("tm-a", "t1"), ("tm-b", "t1"), ("tm-c", "t2")] {
            store.register_model(&model(id, tenant)).await.unwrap();
        }
        assert!(store.champion("t1").await.unwrap().is_none());
        assert!(
            !store.promote_model("t1", "tm-c", &actor()).await.unwrap(),
            "not t1's"
        );
        assert!(store.promote_model("t1", "tm-a", &actor()).await.unwrap());
        assert!(store.promote_model("t1", "tm-b", &actor()).await.unwrap());
        assert!(store.promote_model("t2", "tm-c", &actor()).await.unwrap());
        assert_eq!(store.champion("t1").await.unwrap().unwrap().id, "tm-b");
        let champions = store.champions().await.unwrap();
        let pairs: Vec<(&str, &str)> = champions
            .iter()
            .map(|(t, m)| (t.as_str(), m.id.as_str()))
            .collect();
        assert_eq!(pairs, [("t1", "tm-b"), ("t2", "tm-c")]);
        let states: Vec<(String, String)> = store
            .model_versions("t1")
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.id, m.state))
            .collect();
        assert!(states.contains(&("tm-a".into(), "retired".into())));
        // Rollback: b → a → nothing (the deployment's model); t2 untouched.
        assert_eq!(
            store
                .rollback_model("t1", &actor())
                .await
                .unwrap()
                .as_deref(),
            Some("tm-a")
        );
        assert_eq!(store.champion("t1").await.unwrap().unwrap().id, "tm-a");
        assert_eq!(store.rollback_model("t1", &actor()).await.unwrap(), None);
        assert!(store.champion("t1").await.unwrap().is_none());
        assert_eq!(store.champion("t2").await.unwrap().unwrap().id, "tm-c");
        let events = store.model_events("t1").await.unwrap();
        let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["rollback", "rollback", "promote", "promote"]);
        assert!(store.model_events("t2").await.unwrap().len() == 1);
    }
}

#[tokio::test]
async fn sessions_are_found_by_their_token_only_until_they_end() {
    for (store, _dir) in stores().await {
        let session = UiSession {
            tenant: "t1".to_owned(),
            actor: "key:abc".to_owned(),
            scopes: "read,review".to_owned(),
            csrf: "csrf-token".to_owned(),
            expires_at_ms: i64::MAX / 2,
        };
        let token = store.create_session(&session).await.unwrap();
        assert!(token.len() >= 64);
        let found = store.session(&token).await.unwrap().unwrap();
        assert_eq!(
            (found.tenant.as_str(), found.scopes.as_str()),
            ("t1", "read,review")
        );
        assert!(store.session("not-a-token").await.unwrap().is_none());
        let expired = store
            .create_session(&UiSession {
                expires_at_ms: 1,
                ..session.clone()
            })
            .await
            .unwrap();
        assert!(store.session(&expired).await.unwrap().is_none());
        assert_eq!(store.drop_expired_sessions().await.unwrap(), 1);
        store.end_session(&token).await.unwrap();
        assert!(store.session(&token).await.unwrap().is_none());
    }
}
