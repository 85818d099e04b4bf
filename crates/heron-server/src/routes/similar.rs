//! Duplicates: `GET /v1/documents/{id}/similar` (a document's near
//! duplicates among the tenant's documents) and `POST /v1/compare` (groups
//! of duplicates among given documents). Similarity is the MinHash
//! estimate of the Jaccard similarity of the texts' word 3-shingles; equal
//! bytes or equal normalised text count as 1.

use axum::Extension;
use std::io::Write as _;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Multipart};
use axum::extract::{Path, Query, State};
use heron_core::access::Scope;
use heron_pipeline::FileInput;
use heron_understand::fingerprint::{Fingerprint, parse_signature, similarity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::auth::Principal;
use crate::error::{ApiError, ErrorEnvelope};
use crate::routes::upload::{
    check_extension, drain, quota_allowance, quota_exceeded, sanitize_filename, too_large,
};

/// Documents compared in one request at most.
pub const MAX_COMPARE: usize = 500;

/// Query of the similar route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// Lowest similarity shown, 0..=1; the near-duplicate threshold
    /// (`HERON_NEAR_DUPLICATE_THRESHOLD`) when left out.
    pub min_similarity: Option<f64>,
    /// At most this many, most similar first (default 20, at most 100).
    pub limit: Option<usize>,
}

/// A document like another.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarDocument {
    pub document_id: String,
    pub similarity: f64,
}

/// Near duplicates of a document.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarResponse {
    pub document_id: String,
    pub similar: Vec<SimilarDocument>,
}

/// Documents of the caller's tenant whose text is like this one's.
#[utoipa::path(
    get,
    path = "/v1/documents/{document_id}/similar",
    tag = "documents",
    params(("document_id" = String, Path, description = "A result's document_id"), SimilarQuery),
    responses(
        (status = 200, description = "Similar documents, most similar first", body = SimilarResponse),
        (status = 400, description = "Bad query (`invalid_query`)", body = ErrorEnvelope),
        (status = 404, description = "Unknown document, or another tenant's (`document_not_found`)", body = ErrorEnvelope),
    )
)]
pub async fn similar(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(document_id): Path<String>,
    query: Result<Query<SimilarQuery>, QueryRejection>,
) -> Result<axum::Json<SimilarResponse>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let threshold = query
        .min_similarity
        .unwrap_or(state.settings.near_duplicate_threshold);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(ApiError::InvalidQuery(
            "min_similarity must be between 0 and 1".to_owned(),
        ));
    }
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    let (own, neighbours) = state
        .store
        .similar_candidates(&principal.tenant, &document_id)
        .await?
        .ok_or_else(|| ApiError::DocumentNotFound(document_id.clone()))?;
    let own = own.as_deref().and_then(parse_signature);
    let mut similar: Vec<SimilarDocument> = match own {
        Some(own) => neighbours
            .into_iter()
            .filter_map(|(id, hex)| {
                let score = similarity(&own, &parse_signature(&hex)?);
                (score >= threshold).then(|| SimilarDocument {
                    document_id: id,
                    similarity: round(score),
                })
            })
            .collect(),
        None => Vec::new(),
    };
    similar.sort_by(|a, b| {
        b.similarity
            .total_cmp(&a.similarity)
            .then(a.document_id.cmp(&b.document_id))
    });
    similar.truncate(limit);
    Ok(axum::Json(SimilarResponse {
        document_id,
        similar,
    }))
}

/// Documents to compare.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CompareRequest {
    /// `document_id`s of the caller's tenant (at most 500).
    pub document_ids: Vec<String>,
    /// Lowest similarity that joins two documents in a group; the
    /// near-duplicate threshold when left out.
    pub min_similarity: Option<f64>,
}

/// A pair's similarity.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pair {
    pub a: String,
    pub b: String,
    pub similarity: f64,
    /// `exact` (same bytes), `same_text`, or `near`.
    pub kind: String,
}

/// Documents that duplicate one another.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateGroup {
    pub document_ids: Vec<String>,
    /// The pairs of the group at or above the threshold.
    pub pairs: Vec<Pair>,
}

/// The answer of a comparison.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompareResponse {
    /// Groups of two or more documents.
    pub groups: Vec<DuplicateGroup>,
    /// Ids not found among the tenant's documents.
    pub unknown: Vec<String>,
}

/// One thing compared: a stored document or a file sent with the request.
struct Item {
    id: String,
    sha256: String,
    text_sha256: Option<String>,
    signature: Option<Vec<u32>>,
}

/// Group documents into duplicates: stored ones by id (JSON
/// `{"document_ids": [...]}`), and files sent with the request
/// (`multipart/form-data`: `files` parts, optional `document_ids` and
/// `min_similarity` fields). Files are read like uploads but nothing of
/// them is stored; they are named `file:<n>:<name>` in the answer.
#[utoipa::path(
    post,
    path = "/v1/compare",
    tag = "documents",
    request_body = CompareRequest,
    responses(
        (status = 200, description = "Duplicate groups", body = CompareResponse),
        (status = 400, description = "Bad request (`invalid_body`, `invalid_multipart`)", body = ErrorEnvelope),
        (status = 413, description = "A file or the batch is too large", body = ErrorEnvelope),
    )
)]
pub async fn compare(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    request: axum::extract::Request,
) -> Result<axum::Json<CompareResponse>, ApiError> {
    let multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (request, mut files) = if multipart {
        // Part of the access policy that depends on the body: files sent
        // to be read cost extraction and OCR, as an upload does.
        if !principal.scopes.contains(Scope::Classify) {
            return Err(ApiError::Forbidden(Scope::Classify.as_str()));
        }
        let form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| ApiError::InvalidMultipart(e.body_text()))?;
        read_form(&state, &principal, form).await?
    } else {
        let axum::Json(body) = axum::Json::<CompareRequest>::from_request(request, &state)
            .await
            .map_err(|e| ApiError::InvalidBody(e.body_text()))?;
        (body, Vec::new())
    };
    let count = request.document_ids.len() + files.len();
    if count == 0 || count > MAX_COMPARE {
        return Err(ApiError::InvalidBody(format!(
            "compare 1 to {MAX_COMPARE} documents and files"
        )));
    }
    let threshold = request
        .min_similarity
        .unwrap_or(state.settings.near_duplicate_threshold);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(ApiError::InvalidBody(
            "min_similarity must be between 0 and 1".to_owned(),
        ));
    }
    let mut ids = request.document_ids.clone();
    ids.sort();
    ids.dedup();
    let found = state.store.fingerprints(&principal.tenant, &ids).await?;
    let unknown: Vec<String> = ids
        .iter()
        .filter(|id| !found.iter().any(|f| &f.0 == *id))
        .cloned()
        .collect();
    let mut items: Vec<Item> = found
        .into_iter()
        .map(|(id, sha256, text_sha256, minhash)| Item {
            id,
            sha256,
            text_sha256,
            signature: minhash.as_deref().and_then(parse_signature),
        })
        .collect();
    items.append(&mut files);
    let mut pairs = Vec::new();
    for i in 0..items.len() {
        for j in i + 1..items.len() {
            let (a, b) = (&items[i], &items[j]);
            let (kind, score) = if a.sha256 == b.sha256 {
                ("exact", 1.0)
            } else if a.text_sha256.is_some() && a.text_sha256 == b.text_sha256 {
                ("same_text", 1.0)
            } else {
                match (&a.signature, &b.signature) {
                    (Some(x), Some(y)) => ("near", similarity(x, y)),
                    _ => continue,
                }
            };
            if score >= threshold {
                pairs.push((i, j, kind, score));
            }
        }
    }
    Ok(axum::Json(CompareResponse {
        groups: groups(
            &items.iter().map(|f| f.id.clone()).collect::<Vec<_>>(),
            pairs,
        ),
        unknown,
    }))
}

/// The ids, threshold and fingerprinted files of a multipart comparison.
async fn read_form(
    state: &AppState,
    principal: &Principal,
    mut form: Multipart,
) -> Result<(CompareRequest, Vec<Item>), ApiError> {
    let read = read_fields(state, principal, &mut form).await;
    if read.is_err() {
        drain(&mut form).await;
    }
    read
}

async fn read_fields(
    state: &AppState,
    principal: &Principal,
    form: &mut Multipart,
) -> Result<(CompareRequest, Vec<Item>), ApiError> {
    // Files are read within what is left of the tenant's daily quota, and
    // what was read is counted against it (nothing is stored that would).
    let mut allowance = quota_allowance(state, principal, 0).await?;
    let mut read_bytes = 0u64;
    let invalid =
        |e: axum::extract::multipart::MultipartError| ApiError::InvalidMultipart(e.body_text());
    let mut request = CompareRequest {
        document_ids: Vec::new(),
        min_similarity: None,
    };
    let mut files = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(invalid)? {
        match field.name() {
            Some("document_ids") => request
                .document_ids
                .push(field.text().await.map_err(invalid)?),
            Some("min_similarity") => {
                let text = field.text().await.map_err(invalid)?;
                let value = text.trim().parse().map_err(|_| {
                    ApiError::InvalidBody(format!("min_similarity: {text:?} is not a number"))
                })?;
                request.min_similarity = Some(value);
            }
            Some("files") => {
                if files.len() >= state.settings.max_batch_size {
                    return Err(ApiError::BatchTooLarge {
                        count: files.len() + 1,
                        limit: state.settings.max_batch_size,
                    });
                }
                let name = sanitize_filename(field.file_name().unwrap_or("file"));
                check_extension(state, &name)?;
                let mut spool = tempfile::NamedTempFile::new()
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                let mut hasher = Sha256::new();
                let mut size = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(invalid)? {
                    size += chunk.len() as u64;
                    if size > state.settings.max_file_size_bytes {
                        return Err(too_large(&name, state.settings.max_file_size_bytes));
                    }
                    if allowance.is_some_and(|left| size > left) {
                        return Err(quota_exceeded(state.settings.quota_tenant_bytes_per_day));
                    }
                    hasher.update(&chunk);
                    spool
                        .write_all(&chunk)
                        .map_err(|e| ApiError::Internal(e.to_string()))?;
                }
                allowance = allowance.map(|left| left - size);
                read_bytes += size;
                let sha256 = hex::encode(hasher.finalize());
                let id = format!("file:{}:{name}", files.len());
                files.push(fingerprint_file(state, spool, id, name, sha256, size).await?);
            }
            _ => {}
        }
    }
    if read_bytes > 0 {
        state
            .store
            .record_usage(&principal.tenant, read_bytes)
            .await?;
    }
    Ok((request, files))
}

/// Read a sent file like an upload (on a blocking thread) and fingerprint
/// its text; nothing is stored.
async fn fingerprint_file(
    state: &AppState,
    spool: tempfile::NamedTempFile,
    id: String,
    name: String,
    sha256: String,
    size: u64,
) -> Result<Item, ApiError> {
    let pipeline = state.pipeline.clone();
    let hash = sha256.clone();
    // One of the slots that bound extraction and OCR to the cores, shared
    // with the workers: comparisons cannot crowd out classification.
    let slot = state.worker.slot().await;
    let fingerprint = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let input = FileInput {
            path: spool.path(),
            filename: &name,
            size_bytes: size,
            sha256: &hash,
            request_id: "compare",
        };
        Fingerprint::of(&pipeline.classify_document(&input).text)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Item {
        id,
        sha256,
        text_sha256: fingerprint.as_ref().map(|f| f.text_sha256.clone()),
        signature: fingerprint.map(|f| f.signature),
    })
}

/// Connected components of the pairs, each with its pairs.
fn groups(ids: &[String], pairs: Vec<(usize, usize, &str, f64)>) -> Vec<DuplicateGroup> {
    let mut parent: Vec<usize> = (0..ids.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for &(a, b, _, _) in &pairs {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        parent[ra.max(rb)] = ra.min(rb);
    }
    let mut by_root: std::collections::BTreeMap<usize, DuplicateGroup> = Default::default();
    for &(a, b, kind, score) in &pairs {
        let r = root(&mut parent, a);
        let group = by_root.entry(r).or_insert_with(|| DuplicateGroup {
            document_ids: Vec::new(),
            pairs: Vec::new(),
        });
        for id in [&ids[a], &ids[b]] {
            if !group.document_ids.contains(id) {
                group.document_ids.push(id.clone());
            }
        }
        group.pairs.push(Pair {
            a: ids[a].clone(),
            b: ids[b].clone(),
            similarity: round(score),
            kind: kind.to_owned(),
        });
    }
    by_root
        .into_values()
        .map(|mut g| {
            g.document_ids.sort();
            g
        })
        .collect()
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
