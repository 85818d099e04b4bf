//! Learning from people: the review queue (active learning), verdicts on
//! documents, document types defined by users, training runs, and the
//! tenant's model registry (promote, roll back).
//!
//! Who may do what is `policy.rs`: a reader sees the queue's figures and
//! the models, a reviewer gives verdicts, a trainer defines types and
//! starts runs, only an admin changes which model classifies the tenant's
//! files. Every change is audited in the transaction that makes it.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use heron_classify::active::{Candidate, Pick, ReviewPolicy};
use heron_core::Label;
use heron_store::{DefinedType, NewReview, ReviewAction};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::auth::Principal;
use crate::error::{ApiError, ErrorEnvelope};
use crate::request_id::RequestId;
use crate::routes::jobs::rfc3339;

/// How many of the newest unreviewed documents the queue chooses from.
const QUEUE_POOL: u32 = 500;

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    /// Items to return (default 20, at most 100).
    pub limit: Option<usize>,
}

/// A document that needs a person.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItem {
    pub document_id: String,
    pub filename: String,
    /// The pipeline's label (`unsure` when it gave none).
    pub label: String,
    /// The model's best type, even when `label` is `unsure`.
    pub predicted_label: String,
    pub confidence: f64,
    /// Between the two best types' confidences.
    pub margin: f64,
    /// How much a verdict would teach the model (0..1), after the
    /// diversity penalty.
    pub priority: f64,
    /// Why it is here: `unsure`, `out_of_distribution`,
    /// `below_threshold`, `small_margin`.
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<serde_json::Value>,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueResponse {
    pub items: Vec<QueueItem>,
    /// Unreviewed documents considered.
    pub considered: usize,
    /// Of those, the ones that need a person.
    pub waiting: usize,
}

/// The review queue: unreviewed documents that are `unsure`, under their
/// label's review threshold (`HERON_REVIEW_THRESHOLD`,
/// `HERON_REVIEW_THRESHOLDS`) or close calls between two types, most
/// informative first, near-copies of one template spread apart.
#[utoipa::path(
    get,
    path = "/v1/review/queue",
    tag = "review",
    params(QueueQuery),
    responses(
        (status = 200, description = "Documents waiting for a verdict", body = QueueResponse),
        (status = 403, description = "Needs the review scope (`forbidden`)", body = ErrorEnvelope),
    )
)]
pub async fn queue(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<QueueQuery>,
) -> Result<axum::Json<QueueResponse>, ApiError> {
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    let (items, considered, waiting) = review_queue(&state, &principal.tenant, limit).await?;
    Ok(axum::Json(QueueResponse {
        items,
        considered,
        waiting,
    }))
}

/// The queue's items, the candidates considered and how many wait.
pub(crate) async fn review_queue(
    state: &AppState,
    tenant: &str,
    limit: usize,
) -> Result<(Vec<QueueItem>, usize, usize), ApiError> {
    let candidates = state.store.review_candidates(tenant, QUEUE_POOL).await?;
    let policy = review_policy(&state.settings);
    let offered: Vec<Candidate<'_>> = candidates
        .iter()
        .map(|c| Candidate {
            label: &c.result.label,
            predicted_label: &c.result.predicted_label,
            confidence: c.result.confidence,
            class_confidences: &c.result.class_confidences,
            out_of_distribution: c.result.out_of_distribution,
        })
        .collect();
    let waiting = offered
        .iter()
        .filter(|c| !policy.reasons(c).is_empty())
        .count();
    let signatures: Vec<Option<Vec<u32>>> = candidates
        .iter()
        .map(|c| {
            c.minhash
                .as_deref()
                .and_then(heron_understand::fingerprint::parse_signature)
        })
        .collect();
    let similarity = |a: usize, b: usize| match (&signatures[a], &signatures[b]) {
        (Some(a), Some(b)) => heron_understand::fingerprint::similarity(a, b),
        _ => 0.0,
    };
    let picks: Vec<Pick> = policy.rank(&offered, limit, similarity);
    let items = picks
        .into_iter()
        .map(|pick| {
            let candidate = &candidates[pick.index];
            QueueItem {
                document_id: candidate.document_id.clone(),
                filename: candidate.filename.clone(),
                label: candidate.result.label.clone(),
                predicted_label: candidate.result.predicted_label.clone(),
                confidence: candidate.result.confidence,
                margin: round(pick.margin),
                priority: round(pick.priority),
                reasons: pick
                    .reasons
                    .iter()
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .collect(),
                created_at: rfc3339(candidate.created_at_ms),
            }
        })
        .collect();
    Ok((items, candidates.len(), waiting))
}

fn round(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

/// The review policy of the deployment's settings.
pub(crate) fn review_policy(settings: &heron_core::Settings) -> ReviewPolicy {
    ReviewPolicy {
        threshold: settings.review_threshold,
        per_label: settings.review_thresholds.clone(),
        margin: settings.review_margin,
        ..ReviewPolicy::default()
    }
}

/// A verdict on a document.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewBody {
    /// `accept` (the label is right), `correct` (it is another known
    /// type: give `label`), `new_type` (a type nobody defined yet: give
    /// the proposed id as `label`).
    pub action: String,
    pub label: Option<String>,
    /// Corrected field values, `{"name": "value"}`.
    #[schema(value_type = Option<Object>)]
    pub fields: Option<serde_json::Value>,
    pub note: Option<String>,
}

/// A recorded verdict.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewResponse {
    pub review_id: String,
    pub document_id: String,
    pub action: String,
    pub predicted_label: String,
    pub confidence: f64,
    pub label: String,
    #[schema(value_type = Option<Object>)]
    pub fields: Option<serde_json::Value>,
    pub note: Option<String>,
    pub reviewer: String,
    pub created_at: String,
}

impl From<heron_store::ReviewRecord> for ReviewResponse {
    fn from(r: heron_store::ReviewRecord) -> Self {
        ReviewResponse {
            review_id: r.id,
            document_id: r.document_id,
            action: r.action,
            predicted_label: r.predicted_label,
            confidence: r.confidence,
            label: r.label,
            fields: r.fields,
            note: r.note,
            reviewer: r.reviewer,
            created_at: rfc3339(r.created_at_ms),
        }
    }
}

/// Give a verdict on a document (audited `document.review`). The latest
/// verdict is the one in force; training uses it.
#[utoipa::path(
    post,
    path = "/v1/documents/{document_id}/review",
    tag = "review",
    params(("document_id" = String, Path, description = "A result's document_id")),
    request_body = ReviewBody,
    responses(
        (status = 201, description = "Recorded", body = ReviewResponse),
        (status = 400, description = "Bad action or label (`invalid_body`, `unknown_label`)", body = ErrorEnvelope),
        (status = 403, description = "Needs the review scope (`forbidden`)", body = ErrorEnvelope),
        (status = 404, description = "Unknown document, another tenant's, or not classified yet (`document_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn review(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(document_id): Path<String>,
    body: Result<axum::Json<ReviewBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, axum::Json<ReviewResponse>), ApiError> {
    let axum::Json(body) = body.map_err(|e| ApiError::InvalidBody(e.body_text()))?;
    let action = ReviewAction::parse(&body.action).ok_or_else(|| {
        ApiError::InvalidBody(format!(
            "action {:?}: expected accept, correct or new_type",
            body.action
        ))
    })?;
    let record = state
        .store
        .document(&principal.tenant, &document_id)
        .await?
        .ok_or_else(|| ApiError::DocumentNotFound(document_id.clone()))?;
    let Some(result) = record.result else {
        return Err(ApiError::DocumentNotFound(document_id));
    };
    let known = known_types(&state, &principal.tenant).await?;
    let label = match action {
        ReviewAction::Accept => {
            if result.label == Label::UNSURE {
                return Err(ApiError::InvalidBody(
                    "the document has no label to accept (it is unsure): correct it instead"
                        .to_owned(),
                ));
            }
            result.label.clone()
        }
        ReviewAction::Correct => {
            let label = body.label.clone().unwrap_or_default();
            if !known.contains_key(&label) {
                return Err(ApiError::UnknownLabel(label));
            }
            label
        }
        ReviewAction::NewType => {
            let label = body.label.clone().unwrap_or_default();
            Label::parse(&label).map_err(|e| ApiError::InvalidBody(e.to_string()))?;
            if known.contains_key(&label) {
                return Err(ApiError::InvalidBody(format!(
                    "type {label:?} exists already: correct the document to it"
                )));
            }
            label
        }
    };
    if let Some(fields) = &body.fields
        && !fields.is_object()
    {
        return Err(ApiError::InvalidBody(
            "fields must be an object of name: value".to_owned(),
        ));
    }
    let review = NewReview {
        action,
        label,
        fields: body.fields,
        note: body.note.filter(|n| !n.trim().is_empty()),
    };
    let recorded = state
        .store
        .record_review(
            &principal.tenant,
            &document_id,
            &review,
            &principal.actor(&request_id),
        )
        .await?
        .ok_or(ApiError::DocumentNotFound(document_id.clone()))?;
    if known.contains_key(&recorded.label)
        && let Err(e) =
            teach_semantic(&state, &principal.tenant, &document_id, &recorded.label).await
    {
        // The verdict stands; the next training run learns it anyway.
        tracing::warn!(error = %e, "the semantic stage could not learn from a verdict");
    }
    Ok((StatusCode::CREATED, axum::Json(recorded.into())))
}

/// Give the semantic stage a new type's description at once (zero-shot:
/// recognised before any example exists). No-op without a stage or a
/// description.
async fn describe_semantic(
    state: &AppState,
    tenant: &str,
    id: &str,
    name: &str,
    description: &str,
) {
    if state.pipeline.semantic().is_none() || description.trim().is_empty() {
        return;
    }
    let Ok(label) = Label::parse(id) else {
        return;
    };
    let text = heron_classify::semantic::description_text(name, description, &[]);
    let pipeline = state.pipeline.clone();
    let tenant = tenant.to_owned();
    let outcome = tokio::task::spawn_blocking(move || {
        let stage = pipeline.semantic()?;
        Some(
            stage
                .embed_text(&text)
                .and_then(|vector| stage.describe(&tenant, label, vector)),
        )
    })
    .await;
    if let Ok(Some(Err(e))) = outcome {
        tracing::warn!(error = %e, "could not embed a new type's description");
    }
}

/// Teach the semantic stage a verdict at once (few-shot): the document's
/// stored text is embedded and becomes an example of `label` for the
/// tenant, in this process now and in every other within seconds. No-op
/// without a semantic stage.
async fn teach_semantic(
    state: &AppState,
    tenant: &str,
    document_id: &str,
    label: &str,
) -> Result<(), ApiError> {
    let Some(stage) = state.pipeline.semantic() else {
        return Ok(());
    };
    let label = Label::parse(label).map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some((text, _redacted)) = state.store.document_text(tenant, document_id).await? else {
        return Ok(());
    };
    let pipeline = state.pipeline.clone();
    let vector = tokio::task::spawn_blocking(move || {
        pipeline
            .semantic()
            .map(|stage| stage.embed_document(&text.replace('\u{c}', "\n\n")))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(vector) = vector
        .transpose()
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .flatten()
    else {
        return Ok(());
    };
    let example = heron_store::SemanticExample {
        tenant: tenant.to_owned(),
        task_id: document_id.to_owned(),
        label: label.as_str().to_owned(),
        vector: vector.as_ref().clone(),
    };
    state
        .store
        .save_semantic_example(&example, stage.model_id())
        .await?;
    if let Err(e) = stage.teach(tenant, label, example.vector) {
        // Kept in the store: the next refresh of the stage loads it.
        tracing::warn!(error = %e, "could not add a taught example to the semantic index");
    }
    metrics::counter!("heron_semantic_examples_taught_total").increment(1);
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewList {
    pub reviews: Vec<ReviewResponse>,
}

/// A document's verdicts, oldest first (the last is in force).
#[utoipa::path(
    get,
    path = "/v1/documents/{document_id}/reviews",
    tag = "review",
    params(("document_id" = String, Path, description = "A result's document_id")),
    responses(
        (status = 200, description = "Verdicts", body = ReviewList),
        (status = 404, description = "Unknown or foreign document (`document_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn document_reviews(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(document_id): Path<String>,
) -> Result<axum::Json<ReviewList>, ApiError> {
    state
        .store
        .document(&principal.tenant, &document_id)
        .await?
        .ok_or_else(|| ApiError::DocumentNotFound(document_id.clone()))?;
    let reviews = state
        .store
        .reviews_of(&principal.tenant, &document_id)
        .await?;
    Ok(axum::Json(ReviewList {
        reviews: reviews.into_iter().map(Into::into).collect(),
    }))
}

/// A document type a document can be labelled with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TypeInfo {
    pub id: String,
    pub name: String,
    /// `industry/family` for taxonomy types; the parent given for
    /// defined ones.
    pub parent: String,
    pub description: String,
    /// `taxonomy` or `defined`.
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TypeList {
    pub types: Vec<TypeInfo>,
}

/// Every type the tenant's documents can be labelled with: the taxonomy
/// file's and the tenant's defined ones, by id.
pub(crate) async fn known_types(
    state: &AppState,
    tenant: &str,
) -> Result<BTreeMap<String, TypeInfo>, ApiError> {
    let taxonomy = state.pipeline.taxonomy();
    let mut types = BTreeMap::new();
    for label in taxonomy.labels() {
        let id = label.as_str().to_owned();
        let (name, parent, description) = match taxonomy.get(&id) {
            Some(t) => (
                t.name.clone(),
                format!("{}/{}", t.industry, t.family),
                t.description.clone(),
            ),
            None => (id.clone(), String::new(), String::new()),
        };
        types.insert(
            id.clone(),
            TypeInfo {
                id,
                name,
                parent,
                description,
                source: "taxonomy".to_owned(),
            },
        );
    }
    for defined in state.store.defined_types(tenant).await? {
        types.insert(
            defined.id.clone(),
            TypeInfo {
                id: defined.id,
                name: defined.name,
                parent: defined.parent,
                description: defined.description,
                source: "defined".to_owned(),
            },
        );
    }
    Ok(types)
}

/// The types documents can be labelled with.
#[utoipa::path(
    get,
    path = "/v1/types",
    tag = "review",
    responses((status = 200, description = "Types", body = TypeList))
)]
pub async fn list_types(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<axum::Json<TypeList>, ApiError> {
    let types = known_types(&state, &principal.tenant).await?;
    Ok(axum::Json(TypeList {
        types: types.into_values().collect(),
    }))
}

/// A new document type.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewType {
    /// Lowercase id (a-z, 0-9, _); made from `name` when absent.
    pub id: Option<String>,
    pub name: String,
    /// Where it sits: a taxonomy family (`industry/family`) or type id.
    pub parent: String,
    #[serde(default)]
    pub description: String,
}

/// Define a document type (audited `type.define`). Documents are then
/// labelled with it (a correction, or examples uploaded for it) and the
/// next training run learns it.
#[utoipa::path(
    post,
    path = "/v1/types",
    tag = "review",
    request_body = NewType,
    responses(
        (status = 201, description = "Defined", body = TypeInfo),
        (status = 400, description = "Bad id, name or parent (`invalid_body`)", body = ErrorEnvelope),
        (status = 403, description = "Needs the train scope (`forbidden`)", body = ErrorEnvelope),
        (status = 409, description = "The id is taken (`type_exists`)", body = ErrorEnvelope),
    )
)]
pub async fn define_type(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    body: Result<axum::Json<NewType>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, axum::Json<TypeInfo>), ApiError> {
    let axum::Json(body) = body.map_err(|e| ApiError::InvalidBody(e.body_text()))?;
    let name = body.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::InvalidBody(
            "name: 1 to 100 characters".to_owned(),
        ));
    }
    let id = body.id.clone().unwrap_or_else(|| slug(name));
    Label::parse(&id).map_err(|e| ApiError::InvalidBody(format!("id: {e}")))?;
    if id == Label::UNSURE {
        return Err(ApiError::InvalidBody("id: `unsure` is reserved".to_owned()));
    }
    let known = known_types(&state, &principal.tenant).await?;
    if known.contains_key(&id) {
        return Err(ApiError::TypeExists(id));
    }
    let parent = body.parent.trim().to_owned();
    if parent.is_empty() {
        return Err(ApiError::InvalidBody(
            "parent: a taxonomy family (industry/family) or type id".to_owned(),
        ));
    }
    let defined = DefinedType {
        id: id.clone(),
        name: name.to_owned(),
        parent: parent.clone(),
        description: body.description.trim().chars().take(2000).collect(),
        created_by: principal.actor.clone(),
        created_at_ms: crate::routes::admin::now_ms(),
    };
    if !state
        .store
        .define_type(&principal.tenant, &defined, &principal.actor(&request_id))
        .await?
    {
        return Err(ApiError::TypeExists(id));
    }
    describe_semantic(
        &state,
        &principal.tenant,
        &id,
        &defined.name,
        &defined.description,
    )
    .await;
    Ok((
        StatusCode::CREATED,
        axum::Json(TypeInfo {
            id,
            name: defined.name,
            parent,
            description: defined.description,
            source: "defined".to_owned(),
        }),
    ))
}

/// A type id from a name: lowercase ASCII words joined by `_`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_owned();
    let out = if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("type_{out}")
    } else {
        out
    };
    out.chars().take(64).collect()
}

/// A training run as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunInfo {
    pub run_id: String,
    /// `queued`, `running`, `done`, `failed`.
    pub state: String,
    pub requested_by: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub champion_id: Option<String>,
    pub challenger_id: Option<String>,
    /// Champion and challenger on the held-back reviewed documents, the
    /// challenger's validation figures, what was learnt from.
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
    pub error: Option<String>,
}

impl From<heron_store::TrainingRun> for RunInfo {
    fn from(run: heron_store::TrainingRun) -> Self {
        RunInfo {
            run_id: run.id,
            state: run.state,
            requested_by: run.requested_by,
            created_at: rfc3339(run.created_at_ms),
            started_at: run.started_at_ms.map(rfc3339),
            finished_at: run.finished_at_ms.map(rfc3339),
            champion_id: run.champion_id,
            challenger_id: run.challenger_id,
            report: run.report,
            error: run.error,
        }
    }
}

/// Train a challenger in the background on the generated base data plus
/// the tenant's reviewed documents (audited `model.train`). A run already
/// queued or running is returned instead of starting a second.
#[utoipa::path(
    post,
    path = "/v1/models/train",
    tag = "models",
    responses(
        (status = 202, description = "Queued (or the run already under way)", body = RunInfo),
        (status = 403, description = "Needs the train scope (`forbidden`)", body = ErrorEnvelope),
    )
)]
pub async fn train(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
) -> Result<(StatusCode, axum::Json<RunInfo>), ApiError> {
    let (run, _new) = state
        .store
        .queue_training(&principal.tenant, &principal.actor(&request_id))
        .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(run.into())))
}

/// One training run.
#[utoipa::path(
    get,
    path = "/v1/models/runs/{run_id}",
    tag = "models",
    params(("run_id" = String, Path, description = "A run's id")),
    responses(
        (status = 200, description = "The run", body = RunInfo),
        (status = 404, description = "Unknown or foreign run (`training_run_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn training_run(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(run_id): Path<String>,
) -> Result<axum::Json<RunInfo>, ApiError> {
    let run = state
        .store
        .training_run(&principal.tenant, &run_id)
        .await?
        .ok_or(ApiError::TrainingRunNotFound(run_id))?;
    Ok(axum::Json(run.into()))
}

/// A model of the tenant's registry.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelInfo {
    pub model_id: String,
    /// `challenger`, `champion` or `retired`.
    pub state: String,
    pub size_bytes: u64,
    pub training_run: Option<String>,
    pub labels: Vec<String>,
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    pub created_at: String,
    pub promoted_at: Option<String>,
    pub promoted_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelEventInfo {
    /// `-` when a rollback left no model of the registry in force.
    pub model_id: String,
    /// `promote` or `rollback`.
    pub action: String,
    pub actor: String,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    /// The model classifying the tenant's files now.
    pub serving: String,
    /// The deployment's model, used while the tenant has no champion.
    pub deployment_model: String,
    pub champion: Option<String>,
    pub models: Vec<ModelInfo>,
    pub runs: Vec<RunInfo>,
    pub events: Vec<ModelEventInfo>,
}

/// The tenant's models, newest first, with recent runs and the history of
/// promotions and rollbacks.
#[utoipa::path(
    get,
    path = "/v1/models",
    tag = "models",
    responses((status = 200, description = "The registry", body = ModelList))
)]
pub async fn list_models(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<axum::Json<ModelList>, ApiError> {
    Ok(axum::Json(model_list(&state, &principal.tenant).await?))
}

pub(crate) async fn model_list(state: &AppState, tenant: &str) -> Result<ModelList, ApiError> {
    let models = state.store.model_versions(tenant).await?;
    let runs = state.store.training_runs(tenant, 20).await?;
    let events = state.store.model_events(tenant).await?;
    let champion = models
        .iter()
        .find(|m| m.state == "champion")
        .map(|m| m.id.clone());
    Ok(ModelList {
        serving: state.pipeline.model_for(tenant).id().to_owned(),
        deployment_model: state.pipeline.model().id().to_owned(),
        champion,
        models: models
            .into_iter()
            .map(|m| ModelInfo {
                model_id: m.id,
                state: m.state,
                size_bytes: m.size_bytes,
                training_run: m.training_run,
                labels: m.labels,
                report: m.report,
                created_at: rfc3339(m.created_at_ms),
                promoted_at: m.promoted_at_ms.map(rfc3339),
                promoted_by: m.promoted_by,
            })
            .collect(),
        runs: runs.into_iter().map(Into::into).collect(),
        events: events
            .into_iter()
            .map(|e| ModelEventInfo {
                model_id: e.model_id,
                action: e.action,
                actor: e.actor,
                at: rfc3339(e.created_at_ms),
            })
            .collect(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChampionChange {
    /// The tenant's champion now (`None`: the deployment's model).
    pub champion: Option<String>,
}

/// Make a model of the tenant's registry its champion (audited
/// `model.promote`): every process classifies the tenant's next files
/// with it within seconds. Also how to go back to any earlier version.
#[utoipa::path(
    post,
    path = "/v1/models/{model_id}/promote",
    tag = "models",
    params(("model_id" = String, Path, description = "A model id")),
    responses(
        (status = 200, description = "Promoted", body = ChampionChange),
        (status = 403, description = "Needs the admin scope (`forbidden`)", body = ErrorEnvelope),
        (status = 404, description = "Unknown or foreign model (`model_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn promote(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(model_id): Path<String>,
) -> Result<axum::Json<ChampionChange>, ApiError> {
    if !state
        .store
        .promote_model(&principal.tenant, &model_id, &principal.actor(&request_id))
        .await?
    {
        return Err(ApiError::ModelNotFound(model_id));
    }
    refresh_models(&state).await;
    Ok(axum::Json(ChampionChange {
        champion: Some(model_id),
    }))
}

/// Go back to the champion before the current one (audited
/// `model.rollback`); past the first promotion, the deployment's model.
#[utoipa::path(
    post,
    path = "/v1/models/rollback",
    tag = "models",
    responses(
        (status = 200, description = "Rolled back", body = ChampionChange),
        (status = 403, description = "Needs the admin scope (`forbidden`)", body = ErrorEnvelope),
    )
)]
pub async fn rollback(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
) -> Result<axum::Json<ChampionChange>, ApiError> {
    let champion = state
        .store
        .rollback_model(&principal.tenant, &principal.actor(&request_id))
        .await?;
    refresh_models(&state).await;
    Ok(axum::Json(ChampionChange { champion }))
}

/// This process switches at once (the others within their poll).
async fn refresh_models(state: &AppState) {
    if let Err(e) =
        heron_worker::refresh_tenant_models(&state.store, &state.blobs, &state.pipeline).await
    {
        tracing::warn!(error = %e, "could not load the new champion now; the follower will retry");
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_valid_type_ids() {
        assert_eq!(slug("Veterinary Record"), "veterinary_record");
        assert_eq!(slug("  W-2 / tax form  "), "w_2_tax_form");
        assert_eq!(slug("1099 form"), "type_1099_form");
        assert!(heron_core::Label::parse(&slug("Ärztliche Bescheinigung!")).is_ok());
    }
}
