//! Duplicates: `GET /v1/documents/{id}/similar` (a document's near
//! duplicates among the tenant's documents) and `POST /v1/compare` (groups
//! of duplicates among given documents). Similarity is the MinHash
//! estimate of the Jaccard similarity of the texts' word 3-shingles; equal
//! bytes or equal normalised text count as 1.

use axum::Extension;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use heron_understand::fingerprint::{parse_signature, similarity};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ErrorEnvelope};

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

/// Group given documents into duplicates.
#[utoipa::path(
    post,
    path = "/v1/compare",
    tag = "documents",
    request_body = CompareRequest,
    responses(
        (status = 200, description = "Duplicate groups", body = CompareResponse),
        (status = 400, description = "Bad request (`invalid_body`)", body = ErrorEnvelope),
    )
)]
pub async fn compare(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: Result<axum::Json<CompareRequest>, JsonRejection>,
) -> Result<axum::Json<CompareResponse>, ApiError> {
    let axum::Json(request) = body.map_err(|e| ApiError::InvalidBody(e.body_text()))?;
    if request.document_ids.is_empty() || request.document_ids.len() > MAX_COMPARE {
        return Err(ApiError::InvalidBody(format!(
            "document_ids must hold 1 to {MAX_COMPARE} ids"
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
    let signatures: Vec<Option<Vec<u32>>> = found
        .iter()
        .map(|f| f.3.as_deref().and_then(parse_signature))
        .collect();
    let mut pairs = Vec::new();
    for i in 0..found.len() {
        for j in i + 1..found.len() {
            let (a, b) = (&found[i], &found[j]);
            let (kind, score) = if a.1 == b.1 {
                ("exact", 1.0)
            } else if a.2.is_some() && a.2 == b.2 {
                ("same_text", 1.0)
            } else {
                match (&signatures[i], &signatures[j]) {
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
            &found.iter().map(|f| f.0.clone()).collect::<Vec<_>>(),
            pairs,
        ),
        unknown,
    }))
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
