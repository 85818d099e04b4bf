//! The task loop: claim a task, run the pipeline on its blob, save the
//! result; renew the lease while working; put a task whose processing hit
//! a transient failure (database or object store unreachable) back with
//! exponential backoff and full jitter, and move it to the dead-letter
//! state when its attempts run out; bury tasks whose workers keep dying;
//! hand leases back on shutdown.
//!
//! A corrupt or unreadable file is not a failure here: the pipeline turns
//! it into a result with an error, which is final.
//!
//! The same [`Worker::process`] serves the in-process workers, the
//! synchronous path of `POST /v1/files` and `heron worker`.

mod retention;
mod semantic;
pub mod trace;
mod training;
mod webhooks;

pub use retention::run_retention;
pub use semantic::{follow_semantic, refresh_semantic};
pub use training::{
    TrainingConfig, TrainingError, carry_out, follow_tenant_models, load_registered,
    refresh_tenant_models, run_training,
};
pub use webhooks::{WebhookConfig, Webhooks};

use std::sync::Arc;
use std::time::{Duration, Instant};

use heron_core::understanding::{DuplicateOf, Understanding};
use heron_core::{ClassificationResult, DecidedBy, Notice, NoticeCode};
use heron_pipeline::{Classified, FileInput, Pipeline};
use heron_store::{
    BlobStore, ClaimedTask, DocumentAnalysis, DocumentText, SearchEntry, Store, StoreError,
    StoredFingerprint,
};
use heron_understand::fingerprint::{self, Fingerprint};
use tokio::sync::{Semaphore, watch};
use tracing::Instrument;

/// How long an idle worker waits before looking for work again.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// The longest pause of a worker whose database or blob store keeps
/// failing.
const MAX_PAUSE: Duration = Duration::from_secs(10);
/// How often exhausted tasks are looked for.
const REAP_EVERY: Duration = Duration::from_secs(5);

/// Why a task could not be processed (the task itself stays in the queue).
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the pipeline thread failed: {0}")]
    Join(String),
}

impl WorkerError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            WorkerError::Store(error) => error.is_transient(),
            WorkerError::Join(_) => true,
        }
    }
}

/// Queue settings of a worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub lease: Duration,
    pub max_attempts: u32,
    /// First retry delay after a transient failure; doubles per attempt.
    pub retry_base: Duration,
    /// Ceiling of the retry delay.
    pub retry_max: Duration,
    /// Similarity from which a document is a near duplicate.
    pub near_duplicate_threshold: f64,
}

impl WorkerConfig {
    /// Delay before attempt `attempts + 1`: "full jitter" — uniform in
    /// `[0, min(max, base · 2^(attempts-1))]`, so that workers that failed
    /// together do not retry together.
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        backoff(self.retry_base, self.retry_max, attempts)
    }
}

/// What the document says and its fingerprints, for storing with its
/// text. `None` when nothing was read.
fn analyse(
    pipeline: &Pipeline,
    model: &heron_classify::TextModel,
    classified: &Classified,
    filename: &str,
) -> Option<DocumentAnalysis> {
    if classified.text.trim().is_empty() {
        return None;
    }
    let understanding = pipeline.understand_with(
        &classified.result.label,
        &classified.text,
        &classified.layout,
        model,
    );
    let search = search_entry(
        &classified.result.label,
        filename,
        &classified.text,
        &understanding,
    );
    let understanding = serde_json::to_string(&understanding).ok()?;
    let fingerprint = Fingerprint::of(&classified.text).map(|f| StoredFingerprint {
        text_sha256: f.text_sha256.clone(),
        minhash: f.signature_hex(),
        band_keys: f.band_keys(),
    });
    Some(DocumentAnalysis {
        understanding,
        fingerprint,
        search: Some(search),
    })
}

/// What search finds a document by: its label, name, fields and text;
/// field values kept typed for filters (amounts as numbers). The text is
/// indexed as a `read` caller may see it, redacted: an index of the
/// identifiers themselves (card, account, tax numbers) would let such a
/// caller recover them by guessing search terms, one digit at a time.
/// Field values are indexed as they are shown to that caller.
fn search_entry(
    label: &str,
    filename: &str,
    text: &str,
    understanding: &Understanding,
) -> SearchEntry {
    let mut fields_text = Vec::new();
    let mut values = Vec::new();
    for (name, value) in &understanding.fields.values {
        fields_text.push(format!("{} {}", name.replace('_', " "), value.value));
        // Amounts and counts in hundredths: exact, and comparable in SQL.
        let number = value
            .value
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && n.abs() < 9e15)
            .map(|n| (n * 100.0).round() as i64);
        values.push((name.clone(), number, value.value.clone()));
    }
    SearchEntry {
        label: label.to_owned(),
        filename: filename.to_owned(),
        fields_text: fields_text.join("\n"),
        body: heron_pii::redact_text(text),
        values,
    }
}

/// Exponential backoff with full jitter: uniform in `[0, min(max, base ·
/// 2^(attempts-1))]`.
pub fn backoff(base: Duration, max: Duration, attempts: u32) -> Duration {
    let exponent = attempts.saturating_sub(1).min(20);
    let ceiling = base.saturating_mul(1u32 << exponent).min(max);
    ceiling.mul_f64(rand::random::<f64>())
}

/// Shared by every worker of a process.
#[derive(Debug, Clone)]
pub struct Worker {
    store: Store,
    blobs: BlobStore,
    pipeline: Arc<Pipeline>,
    config: WorkerConfig,
    /// Bounds CPU-heavy work (extraction, OCR) to the number of cores.
    slots: Arc<Semaphore>,
}

impl Worker {
    pub fn new(
        store: Store,
        blobs: BlobStore,
        pipeline: Arc<Pipeline>,
        config: WorkerConfig,
        slots: Arc<Semaphore>,
    ) -> Self {
        Worker {
            store,
            blobs,
            pipeline,
            config,
            slots,
        }
    }

    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// One of the slots that bound CPU-heavy work (extraction, OCR) to the
    /// cores, for such work done outside a task (the files of a
    /// comparison); held until dropped.
    pub async fn slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.slots.clone().acquire_owned().await.ok()
    }

    /// Claim and process one task. Returns whether there was one.
    pub async fn tick(&self, owner: &str) -> Result<bool, WorkerError> {
        let Some(task) = self
            .store
            .claim(owner, self.config.lease, self.config.max_attempts)
            .await?
        else {
            return Ok(false);
        };
        self.process_or_requeue(&task, owner).await?;
        Ok(true)
    }

    /// [`Worker::process`]; on a transient failure the task goes back to
    /// the queue with backoff (or to the dead letters when its attempts
    /// are used up) and the error is returned.
    pub async fn process_or_requeue(
        &self,
        task: &ClaimedTask,
        owner: &str,
    ) -> Result<ClassificationResult, WorkerError> {
        let error = match self.process(task, owner).await {
            Ok(result) => return Ok(result),
            Err(error) => error,
        };
        if let Err(e) = self.after_failure(task, owner, &error).await {
            tracing::warn!(task = %task.id, error = %e, "could not record the failure; the lease will expire");
        }
        Err(error)
    }

    async fn after_failure(
        &self,
        task: &ClaimedTask,
        owner: &str,
        error: &WorkerError,
    ) -> Result<(), WorkerError> {
        let reason = error.to_string();
        if error.is_transient() && task.attempts < self.config.max_attempts {
            let delay = self.config.retry_delay(task.attempts);
            self.store
                .retry_later(&task.id, owner, delay, &reason)
                .await?;
            metrics::counter!("heron_tasks_retried_total").increment(1);
            tracing::warn!(task = %task.id, attempts = task.attempts, delay_ms = delay.as_millis() as u64, error = %reason, "transient failure; retrying later");
            return Ok(());
        }
        let notice = Notice::new(
            NoticeCode::InternalError,
            format!(
                "processing failed {} times ({reason}); the file is in the dead-letter queue",
                task.attempts
            ),
        );
        let mut result = error_result(task, &self.pipeline.version(), notice);
        result.document_id = Some(task.id.clone());
        self.store
            .bury(&task.id, Some(owner), &result, &reason)
            .await?;
        metrics::counter!("heron_tasks_dead_lettered_total").increment(1);
        tracing::error!(task = %task.id, attempts = task.attempts, error = %reason, "task moved to the dead-letter queue");
        Ok(())
    }

    /// Run until `shutdown` turns true: claim, process, repeat. The task in
    /// hand when shutdown comes is finished; the loop then stops claiming.
    pub async fn run(self, owner: String, mut shutdown: watch::Receiver<bool>) {
        let mut last_reap = Instant::now() - REAP_EVERY;
        let mut failures: u32 = 0;
        tracing::info!(worker = %owner, "worker started");
        while !*shutdown.borrow() {
            if last_reap.elapsed() >= REAP_EVERY {
                last_reap = Instant::now();
                if let Err(e) = self.bury_exhausted().await {
                    tracing::warn!(worker = %owner, error = %e, "could not look for exhausted tasks");
                }
                if let Err(e) = self.store.purge_idempotency_keys().await {
                    tracing::warn!(worker = %owner, error = %e, "could not purge expired idempotency keys");
                }
            }
            let pause = match self.tick(&owner).await {
                Ok(true) => {
                    failures = 0;
                    continue;
                }
                Ok(false) => {
                    failures = 0;
                    IDLE_POLL
                }
                Err(e) => {
                    // The database or blob store is failing: back off
                    // (doubling, up to MAX_PAUSE) rather than hammer it.
                    failures += 1;
                    tracing::warn!(worker = %owner, error = %e, failures, "claiming or processing a task failed");
                    IDLE_POLL
                        .saturating_mul(1 << failures.min(8))
                        .min(MAX_PAUSE)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
        match self.store.release(&owner).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(worker = %owner, released = n, "leases handed back"),
            Err(e) => {
                tracing::warn!(worker = %owner, error = %e, "could not hand leases back; they will expire")
            }
        }
        tracing::info!(worker = %owner, "worker stopped");
    }

    /// Classify one leased task's file and store the result, renewing the
    /// lease meanwhile. A lost lease discards the result (another worker
    /// owns the task now).
    pub async fn process(
        &self,
        task: &ClaimedTask,
        owner: &str,
    ) -> Result<ClassificationResult, WorkerError> {
        // Worker log lines carry the request id of the upload, like the API's.
        let span = tracing::info_span!("task", request_id = %task.request_id, job_id = %task.job_id, task_id = %task.id, attempt = task.attempts);
        if let Some(parent) = &task.trace_context {
            trace::set_parent(&span, parent);
        }
        self.process_in_span(task, owner).instrument(span).await
    }

    async fn process_in_span(
        &self,
        task: &ClaimedTask,
        owner: &str,
    ) -> Result<ClassificationResult, WorkerError> {
        // The tenant's own promoted model, else the deployment's: the same
        // one for the result key and the classification.
        let model = self.pipeline.model_for(&task.tenant);
        let result_key = self
            .pipeline
            .result_key_for(&task.filename, &model, &task.tenant);
        if let Some(result) = self.reuse(task, owner, &result_key).await? {
            return Ok(result);
        }
        let blob = match self.blobs.fetch(&task.sha256, task.size_bytes).await {
            Ok(blob) => Some(blob),
            // Lost or damaged bytes will not come back by retrying: the
            // file gets an error result.
            Err(e @ (StoreError::MissingBlob(_) | StoreError::Corrupt(_))) => {
                tracing::error!(error = %e, "the stored file cannot be read");
                None
            }
            Err(e) => return Err(e.into()),
        };
        // A tenant may keep only the redacted form of its documents' text.
        let redact = self
            .store
            .tenant_settings(&task.tenant)
            .await?
            .store_redacted_text;
        let permit = self.slots.clone().acquire_owned().await;
        let pipeline = self.pipeline.clone();
        let job = task.clone();
        // The pipeline's spans belong under this task's.
        let span = tracing::Span::current();
        let mut work = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _span = span.enter();
            let Some(blob) = blob else {
                let result = error_result(
                    &job,
                    &pipeline.version_with(&model),
                    Notice::new(
                        NoticeCode::InternalError,
                        "the stored file is missing or damaged",
                    ),
                );
                return (
                    Classified {
                        result,
                        ..Classified::default()
                    },
                    None,
                );
            };
            let input = FileInput {
                path: blob.path(),
                filename: &job.filename,
                size_bytes: job.size_bytes,
                sha256: &job.sha256,
                request_id: &job.request_id,
            };
            let mut classified = pipeline.classify_document_for(&input, model.clone(), &job.tenant);
            if redact {
                // Spans must point into the text as stored: read the
                // redacted text, without boxes.
                classified.text = heron_pii::redact_text(&classified.text);
                classified.layout.clear();
            }
            let analysis = analyse(&pipeline, &model, &classified, &job.filename);
            (classified, analysis)
        });
        let mut renew = tokio::time::interval(self.config.lease / 3);
        renew.tick().await;
        let (
            Classified {
                mut result, text, ..
            },
            analysis,
        ) = loop {
            tokio::select! {
                joined = &mut work => break joined.map_err(|e| WorkerError::Join(e.to_string()))?,
                _ = renew.tick() => {
                    if !self.store.renew(&task.id, owner, self.config.lease).await? {
                        tracing::warn!(task = %task.id, "lease lost while working");
                    }
                }
            }
        };
        result.document_id = Some(task.id.clone());
        result.duplicate_of = self.duplicate_of(task, analysis.as_ref()).await?;
        // Only clean results are reused: an error may be passing (a
        // deadline under load, a missing tool).
        let reusable = result.errors.is_empty().then_some(result_key.as_str());
        if self
            .store
            .complete_reusable(
                &task.id,
                owner,
                &result,
                reusable,
                (!text.is_empty()).then_some(DocumentText {
                    text: &text,
                    redacted: redact,
                    analysis: analysis.as_ref(),
                }),
            )
            .await?
        {
            metrics::counter!("heron_tasks_completed_total").increment(1);
            tracing::info!(label = %result.label, confidence = result.confidence, ms = result.processing_ms, "file classified");
        } else {
            tracing::warn!(task = %task.id, "result discarded: the lease had passed to another worker");
        }
        Ok(result)
    }

    /// Complete `task` with the stored result (and text) of an earlier
    /// upload of the same tenant with the same bytes under the same result
    /// key, marked `cached`, if there is one. Results never cross tenants.
    async fn reuse(
        &self,
        task: &ClaimedTask,
        owner: &str,
        result_key: &str,
    ) -> Result<Option<ClassificationResult>, WorkerError> {
        let started = std::time::Instant::now();
        let Some((mut result, source)) = self
            .store
            .reusable_result(&task.tenant, &task.sha256, result_key)
            .await?
        else {
            return Ok(None);
        };
        let text = self.store.text_of_task(&source).await?;
        let mut analysis = self.store.analysis_of_task(&source).await?;
        if let (Some(analysis), Some((text, _))) = (analysis.as_mut(), text.as_ref()) {
            let understanding: Understanding =
                serde_json::from_str(&analysis.understanding).unwrap_or_default();
            analysis.search = Some(search_entry(
                &result.label,
                &task.filename,
                text,
                &understanding,
            ));
        }
        result.cached = true;
        result.duplicate_of = Some(DuplicateOf {
            document_id: source.clone(),
            kind: "exact".to_owned(),
            similarity: 1.0,
        });
        result.document_id = Some(task.id.clone());
        result.request_id = task.request_id.clone();
        result.processing_ms = (started.elapsed().as_secs_f64() * 1e7).round() / 1e4;
        if self
            .store
            .complete_reusable(
                &task.id,
                owner,
                &result,
                Some(result_key),
                text.as_ref().map(|(text, redacted)| DocumentText {
                    text,
                    redacted: *redacted,
                    analysis: analysis.as_ref(),
                }),
            )
            .await?
        {
            metrics::counter!("heron_tasks_completed_total").increment(1);
            metrics::counter!("heron_results_reused_total").increment(1);
            tracing::info!(label = %result.label, "file classified from an identical earlier upload");
        }
        Ok(Some(result))
    }

    /// The earlier document of the task's tenant this one duplicates:
    /// same bytes, else same normalised text, else the most similar text
    /// at or above the threshold.
    async fn duplicate_of(
        &self,
        task: &ClaimedTask,
        analysis: Option<&DocumentAnalysis>,
    ) -> Result<Option<DuplicateOf>, WorkerError> {
        let fingerprint = analysis.and_then(|a| a.fingerprint.as_ref());
        let candidates = self
            .store
            .duplicate_candidates(&task.tenant, &task.id, &task.sha256, fingerprint)
            .await?;
        let found = |id: String, kind: &str, similarity: f64| DuplicateOf {
            document_id: id,
            kind: kind.to_owned(),
            similarity,
        };
        if let Some(id) = candidates.same_bytes {
            return Ok(Some(found(id, "exact", 1.0)));
        }
        if let Some(id) = candidates.same_text {
            return Ok(Some(found(id, "same_text", 1.0)));
        }
        let Some(own) = fingerprint.and_then(|f| fingerprint::parse_signature(&f.minhash)) else {
            return Ok(None);
        };
        let best = candidates
            .near
            .into_iter()
            .filter_map(|(id, hex)| {
                let similarity =
                    fingerprint::similarity(&own, &fingerprint::parse_signature(&hex)?);
                Some((id, similarity))
            })
            .filter(|(_, s)| *s >= self.config.near_duplicate_threshold)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        Ok(best.map(|(id, s)| found(id, "near", (s * 1000.0).round() / 1000.0)))
    }

    /// Give every task that used up its attempts an error result.
    pub async fn bury_exhausted(&self) -> Result<usize, WorkerError> {
        let exhausted = self.store.exhausted_tasks(self.config.max_attempts).await?;
        for task in &exhausted {
            let notice = Notice::new(
                NoticeCode::ExtractionCrashed,
                format!(
                    "processing stopped {} times without finishing (the worker crashed or was killed); giving up",
                    task.attempts
                ),
            );
            let mut result = error_result(task, &self.pipeline.version(), notice);
            result.document_id = Some(task.id.clone());
            self.store
                .bury(&task.id, None, &result, "attempts exhausted")
                .await?;
            tracing::warn!(task = %task.id, attempts = task.attempts, "task buried after repeated failures");
        }
        Ok(exhausted.len())
    }
}

/// A result that carries only an error, for files the pipeline never ran on.
pub fn error_result(
    task: &ClaimedTask,
    pipeline_version: &str,
    error: Notice,
) -> ClassificationResult {
    ClassificationResult {
        filename: task.filename.clone(),
        mime_type: "application/octet-stream".to_owned(),
        size_bytes: task.size_bytes,
        label: heron_core::Label::UNSURE.to_owned(),
        pipeline_version: pipeline_version.to_owned(),
        request_id: task.request_id.clone(),
        errors: vec![error],
        sha256: task.sha256.clone(),
        predicted_label: heron_core::Label::UNSURE.to_owned(),
        decided_by: DecidedBy::Nothing,
        ..ClassificationResult::default()
    }
}
