//! Training runs and the registry's champion.
//!
//! [`run_training`] claims queued runs (any process that works may): it
//! gathers the tenant's verified documents (the verdict in force on each
//! reviewed document, with its stored text), holds back about a fifth of
//! them, trains a challenger on the generated base data plus the rest,
//! measures champion and challenger on the held-back documents (and, for
//! the record, on every reviewed document and on generated documents
//! neither saw), stores
//! the challenger's file in the blob store and registers it. Promotion is
//! a person's decision (`POST /v1/models/{id}/promote`), never the run's.
//!
//! [`follow_tenant_models`] keeps a process's pipeline on every tenant's
//! champion: a promotion or rollback made through any process reaches
//! all of them within the poll interval.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use heron_classify::metrics::Metrics;
use heron_classify::train::{self, Verified};
use heron_classify::{TextModel, features};
use heron_core::Label;
use heron_pipeline::Pipeline;
use heron_store::{BlobStore, ModelVersion, NewModelVersion, ReviewRecord, Store, TrainingRun};
use tokio::sync::watch;

/// How a training run is carried out.
#[derive(Debug, Clone)]
pub struct TrainingConfig {
    /// Generated documents per taxonomy type in the base data.
    pub per_type: usize,
    pub seed: u64,
    /// How often an idle process looks for queued runs.
    pub poll: Duration,
    /// How long a claimed run stays this process's.
    pub lease: Duration,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        TrainingConfig {
            per_type: train::DEFAULT_PER_TYPE,
            seed: train::DEFAULT_SEED,
            poll: Duration::from_secs(2),
            lease: Duration::from_secs(30 * 60),
        }
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainingError {
    #[error(transparent)]
    Store(#[from] heron_store::StoreError),
    #[error("training: {0}")]
    Train(#[from] train::TrainError),
    #[error("model file: {0}")]
    Model(#[from] heron_classify::model::ModelError),
    #[error("{0}")]
    Other(String),
}

/// Generated documents per type in the check set both models are
/// measured on.
const GENERATED_CHECK_PER_TYPE: usize = 8;

/// One verified document with where it goes.
struct VerifiedDocument {
    id: String,
    verified: Verified,
    held_back: bool,
}

/// Claim and carry out training runs until `stop`.
pub async fn run_training(
    store: Store,
    blobs: BlobStore,
    pipeline: Arc<Pipeline>,
    config: TrainingConfig,
    owner: String,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match store.claim_training(&owner, config.lease, None).await {
            Ok(Some(run)) => {
                if let Err(e) = carry_out(&store, &blobs, &pipeline, &config, &run, &owner).await {
                    tracing::warn!(run = %run.id, error = %e, "could not record the training run's outcome; it will be tried again");
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "looking for training runs failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(config.poll) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Carry out a claimed run and record its outcome (a failure is the
/// run's, not this call's: `Err` only when the outcome could not be
/// recorded). Returns the run as recorded.
pub async fn carry_out(
    store: &Store,
    blobs: &BlobStore,
    pipeline: &Arc<Pipeline>,
    config: &TrainingConfig,
    run: &TrainingRun,
    owner: &str,
) -> Result<TrainingRun, TrainingError> {
    let outcome = train_run(store, blobs, pipeline, config, run).await;
    match &outcome {
        Ok((challenger, report)) => {
            let champion = report["champion"]["id"].as_str();
            store
                .finish_training(&run.id, owner, Ok((challenger, champion, report)))
                .await?;
        }
        Err(error) => {
            tracing::warn!(run = %run.id, error = %error, "training run failed");
            store
                .finish_training(&run.id, owner, Err(&error.to_string()))
                .await?;
        }
    }
    store
        .training_run(&run.tenant, &run.id)
        .await?
        .ok_or_else(|| TrainingError::Other(format!("training run {} vanished", run.id)))
}

/// Train, measure and register one run's challenger; its id and report.
async fn train_run(
    store: &Store,
    blobs: &BlobStore,
    pipeline: &Arc<Pipeline>,
    config: &TrainingConfig,
    run: &TrainingRun,
) -> Result<(String, serde_json::Value), TrainingError> {
    let started = Instant::now();
    tracing::info!(run = %run.id, tenant = %run.tenant, "training a challenger");
    let defined: Vec<String> = store
        .defined_types(&run.tenant)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let reviews = store.latest_reviews(&run.tenant).await?;
    let (documents, skipped) =
        verified_documents(store, pipeline, &run.tenant, &reviews, &defined).await?;
    let training: Vec<Verified> = documents
        .iter()
        .filter(|d| !d.held_back)
        .map(|d| d.verified.clone())
        .collect();
    let taxonomy = pipeline.taxonomy().clone();
    let (per_type, seed) = (config.per_type, config.seed);
    let (challenger, report, generated) = tokio::task::spawn_blocking(move || {
        let trained = train::train_with_verified(&taxonomy, per_type, seed, &training)?;
        // Generated documents neither model saw (another seed): does the
        // challenger still know the base types?
        let generated: Vec<(String, String)> =
            train::synthetic_samples(&taxonomy, GENERATED_CHECK_PER_TYPE, seed ^ 0xC4EC_C4EC)
                .into_iter()
                .map(|s| (features::with_signals(&s.text, s.format), s.label))
                .collect();
        Ok::<_, train::TrainError>((trained.0, trained.1, generated))
    })
    .await
    .map_err(|e| TrainingError::Other(format!("the training thread failed: {e}")))??;
    let training_seconds = started.elapsed().as_secs_f64();
    let champion = pipeline.model_for(&run.tenant);
    let reviewed: Vec<(String, String)> = documents
        .iter()
        .map(|d| {
            (
                d.verified.text.clone(),
                d.verified.label.as_str().to_owned(),
            )
        })
        .collect();
    let held: Vec<(String, String)> = documents
        .iter()
        .filter(|d| d.held_back)
        .map(|d| {
            (
                d.verified.text.clone(),
                d.verified.label.as_str().to_owned(),
            )
        })
        .collect();
    let figures = |model: &TextModel| {
        serde_json::json!({
            "id": model.id(),
            "held_back": measure(model, &held),
            "reviewed": measure(model, &reviewed),
            "generated": measure(model, &generated),
        })
    };
    let mut by_label: BTreeMap<String, usize> = BTreeMap::new();
    for document in &documents {
        *by_label
            .entry(document.verified.label.as_str().to_owned())
            .or_default() += 1;
    }
    let mut challenger_figures = figures(&challenger);
    challenger_figures["validation_accuracy"] = report.validation_accuracy.into();
    challenger_figures["validation_ece"] = report.validation_ece.into();
    challenger_figures["validation_documents"] = report.validation_documents.into();
    let report = serde_json::json!({
        "run": run.id,
        "verified_documents": documents.len(),
        "training_documents": report.training_documents,
        "held_back_documents": held.len(),
        "held_back": documents.iter().filter(|d| d.held_back).map(|d| d.id.as_str()).collect::<Vec<_>>(),
        "generated_documents": generated.len(),
        "verified_by_label": by_label,
        "skipped": skipped,
        "champion": figures(&champion),
        "challenger": challenger_figures,
        "new_labels": challenger
            .labels()
            .iter()
            .filter(|l| !champion.labels().contains(l))
            .map(Label::as_str)
            .collect::<Vec<_>>(),
        "seconds": training_seconds,
    });
    let stored = store_model_file(blobs, &challenger).await?;
    store
        .register_model(&NewModelVersion {
            id: challenger.id().to_owned(),
            tenant: run.tenant.clone(),
            sha256: stored.sha256,
            size_bytes: stored.size_bytes,
            training_run: Some(run.id.clone()),
            labels: challenger
                .labels()
                .iter()
                .map(|l| l.as_str().to_owned())
                .collect(),
            report: report.clone(),
        })
        .await?;
    tracing::info!(
        run = %run.id,
        challenger = challenger.id(),
        seconds = training_seconds,
        verified = documents.len(),
        "challenger trained"
    );
    Ok((challenger.id().to_owned(), report))
}

/// The reviewed documents that can train: their text, as the model reads
/// it, and their verified label (a taxonomy type or a defined one). Also
/// what was skipped and why (no stored text, a proposed type nobody has
/// defined yet).
async fn verified_documents(
    store: &Store,
    pipeline: &Pipeline,
    tenant: &str,
    reviews: &[ReviewRecord],
    defined: &[String],
) -> Result<(Vec<VerifiedDocument>, BTreeMap<String, usize>), TrainingError> {
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut documents = Vec::new();
    for review in reviews {
        let known =
            pipeline.taxonomy().get(&review.label).is_some() || defined.contains(&review.label);
        let Ok(label) = Label::parse(&review.label) else {
            *skipped.entry("invalid label".into()).or_default() += 1;
            continue;
        };
        if !known || review.label == Label::UNSURE {
            *skipped.entry("type not defined yet".into()).or_default() += 1;
            continue;
        }
        let Some(record) = store.document(tenant, &review.document_id).await? else {
            continue;
        };
        let Some((text, _redacted)) = store.text_of_task(&review.document_id).await? else {
            *skipped.entry("no stored text".into()).or_default() += 1;
            continue;
        };
        let format = record
            .result
            .as_ref()
            .map_or("text", |r| features::format_of_mime(&r.mime_type));
        documents.push(VerifiedDocument {
            id: review.document_id.clone(),
            verified: Verified {
                text: features::with_signals(&text, format),
                label,
            },
            held_back: false,
        });
    }
    hold_back(&mut documents);
    Ok((documents, skipped))
}

/// Hold back about a fifth of the verified documents (by a hash of their
/// id, so a document stays on its side from run to run), at most a fifth
/// of each label (rounded up) and never so many that fewer than two of a
/// label are left to learn it from.
fn hold_back(documents: &mut [VerifiedDocument]) {
    let mut per_label: BTreeMap<String, usize> = BTreeMap::new();
    for document in documents.iter() {
        *per_label
            .entry(document.verified.label.as_str().to_owned())
            .or_default() += 1;
    }
    let mut held: BTreeMap<String, usize> = BTreeMap::new();
    for document in documents.iter_mut() {
        let label = document.verified.label.as_str();
        let total = per_label.get(label).copied().unwrap_or(0);
        let so_far = held.get(label).copied().unwrap_or(0);
        if stable_hash(&document.id).is_multiple_of(5)
            && so_far < total.div_ceil(5)
            && total - so_far > 2
        {
            document.held_back = true;
            held.insert(label.to_owned(), so_far + 1);
        }
    }
}

/// FNV-1a of the id: stable across builds and processes.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A model's figures on (text as the model reads it, true label) pairs
/// (its best type; a label it does not know counts as wrong).
fn measure(model: &TextModel, documents: &[(String, String)]) -> Metrics {
    let pairs: Vec<(&str, &str)> = documents
        .iter()
        .map(|(text, truth)| {
            let (best, _) = model.predict(text).best();
            (truth.as_str(), model.labels()[best].as_str())
        })
        .collect();
    Metrics::measure(&pairs)
}

/// Write the model's file into the blob store.
async fn store_model_file(
    blobs: &BlobStore,
    model: &TextModel,
) -> Result<heron_store::StoredBlob, TrainingError> {
    let directory = tempfile::tempdir().map_err(heron_store::StoreError::Io)?;
    let path = directory.path().join("model.htm");
    model.save(&path)?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(heron_store::StoreError::Io)?;
    let mut writer = blobs.writer(bytes.len() as u64 + 1).await?;
    for chunk in bytes.chunks(1 << 20) {
        writer.write(chunk).await?;
    }
    Ok(writer.commit().await?)
}

/// Load the champions that changed since the last call into `pipeline`
/// (a model shared by several tenants is loaded once). A champion whose
/// file cannot be loaded is logged and its tenant keeps its current model.
pub async fn refresh_tenant_models(
    store: &Store,
    blobs: &BlobStore,
    pipeline: &Pipeline,
) -> Result<bool, TrainingError> {
    let champions = store.champions().await?;
    let current = pipeline.tenant_model_ids();
    let wanted: HashMap<&str, &str> = champions
        .iter()
        .map(|(tenant, version)| (tenant.as_str(), version.id.as_str()))
        .collect();
    let unchanged = wanted.len() == current.len()
        && wanted
            .iter()
            .all(|(tenant, id)| current.get(*tenant).map(String::as_str) == Some(*id));
    if unchanged {
        return Ok(false);
    }
    let mut loaded: HashMap<String, Arc<TextModel>> = HashMap::new();
    let mut models = HashMap::new();
    for (tenant, version) in &champions {
        let model = if let Some(model) = loaded.get(&version.id) {
            Some(model.clone())
        } else if current.get(tenant) == Some(&version.id) {
            Some(pipeline.model_for(tenant))
        } else {
            match load_registered(blobs, version).await {
                Ok(model) => {
                    tracing::info!(tenant = %tenant, model = %version.id, "tenant's champion changed; switching");
                    Some(Arc::new(model))
                }
                Err(e) => {
                    tracing::error!(tenant = %tenant, model = %version.id, error = %e, "the promoted model cannot be loaded; the tenant keeps its current model");
                    current.get(tenant).map(|_| pipeline.model_for(tenant))
                }
            }
        };
        if let Some(model) = model {
            loaded.insert(version.id.clone(), model.clone());
            models.insert(tenant.clone(), model);
        }
    }
    pipeline.set_tenant_models(models);
    Ok(true)
}

/// [`refresh_tenant_models`] every `interval`, for ever.
pub async fn follow_tenant_models(
    store: Store,
    blobs: BlobStore,
    pipeline: Arc<Pipeline>,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
        if let Err(e) = refresh_tenant_models(&store, &blobs, &pipeline).await {
            tracing::warn!(error = %e, "could not read the tenants' champions; keeping the current models");
        }
    }
}

/// Load a registered model's file from the blob store.
pub async fn load_registered(
    blobs: &BlobStore,
    version: &ModelVersion,
) -> Result<TextModel, TrainingError> {
    let local = blobs.fetch(&version.sha256, version.size_bytes).await?;
    let path = local.path().to_path_buf();
    let model = tokio::task::spawn_blocking(move || {
        let _keep = local;
        TextModel::load(&path)
    })
    .await
    .map_err(|e| TrainingError::Other(format!("the loading thread failed: {e}")))??;
    if model.id() != version.id {
        return Err(TrainingError::Other(format!(
            "the registered model {} has the file of model {}",
            version.id,
            model.id()
        )));
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(id: &str, label: &str) -> VerifiedDocument {
        VerifiedDocument {
            id: id.to_owned(),
            verified: Verified {
                text: String::new(),
                label: Label::parse(label).unwrap(),
            },
            held_back: false,
        }
    }

    #[test]
    fn holds_back_about_a_fifth_but_never_a_labels_last_two() {
        let mut documents: Vec<VerifiedDocument> = (0..200)
            .map(|i| document(&format!("doc-{i}"), "invoice"))
            .collect();
        documents.push(document("doc-new-1", "pet_record"));
        documents.push(document("doc-new-2", "pet_record"));
        hold_back(&mut documents);
        let held = documents.iter().filter(|d| d.held_back).count();
        assert!((25..=55).contains(&held), "{held} of 202 held back");
        assert!(documents[200..].iter().all(|d| !d.held_back));
        let again: Vec<bool> = {
            let mut copy: Vec<VerifiedDocument> = (0..200)
                .map(|i| document(&format!("doc-{i}"), "invoice"))
                .collect();
            hold_back(&mut copy);
            copy.iter().map(|d| d.held_back).collect()
        };
        let first: Vec<bool> = documents[..200].iter().map(|d| d.held_back).collect();
        assert_eq!(first, again, "the same documents are held back every run");
    }
}
