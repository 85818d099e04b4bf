//! `?explain=true`: the long form of each result's evidence. Results are
//! stored with it; responses leave it out unless asked, keeping the
//! original contract's responses small.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use heron_core::ClassificationResult;
use heron_core::understanding::{ExtractParts, Understanding};
use heron_store::Store;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;

/// Query parameters of the routes that return results.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainQuery {
    /// Include each result's `explanation`: the top alternatives, the terms
    /// that weighed for each with where they occur, one-vs-rest scores, the
    /// layout and format signals, vocabulary coverage.
    #[serde(default)]
    pub explain: bool,
    /// What to read inside each document, comma-separated: `fields`
    /// (typed fields of its type, as the taxonomy declares them),
    /// `entities`, `tables`, `segments`, `documents` (the documents of a
    /// packet), or `all`. Left out, responses stay as small as the
    /// original's.
    pub extract: Option<String>,
    /// Include the documents a multi-document PDF is made of, each with
    /// its pages, label, confidence and fields (same as
    /// `extract=documents`).
    #[serde(default)]
    pub split: bool,
}

/// How results are shown: with explanations, with parts of what was read.
#[derive(Debug, Clone, Copy, Default)]
pub struct View {
    pub explain: bool,
    pub parts: ExtractParts,
}

/// `results` as the response shows them: explanations only when asked,
/// and the asked-for parts of each document's stored understanding.
pub async fn shown(
    store: &Store,
    mut results: Vec<ClassificationResult>,
    view: View,
) -> Result<Vec<ClassificationResult>, ApiError> {
    if !view.explain {
        for result in &mut results {
            result.explanation = None;
        }
    }
    if !view.parts.any() {
        return Ok(results);
    }
    let ids: Vec<String> = results
        .iter()
        .filter_map(|r| r.document_id.clone())
        .collect();
    let stored: std::collections::HashMap<String, String> =
        store.understandings(&ids).await?.into_iter().collect();
    for result in &mut results {
        let understanding = result
            .document_id
            .as_ref()
            .and_then(|id| stored.get(id))
            .and_then(|json| serde_json::from_str::<Understanding>(json).ok())
            .unwrap_or_default();
        view.parts.attach(understanding, result);
    }
    Ok(results)
}

/// What the query asked for; a malformed query or an unknown part is the
/// client's error (`invalid_query`), not a plain-text rejection.
pub fn explain(query: Result<Query<ExplainQuery>, QueryRejection>) -> Result<View, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let mut parts = match &query.extract {
        Some(list) => ExtractParts::parse(list).map_err(|part| {
            ApiError::InvalidQuery(format!(
                "unknown extract part {part:?}; known: {}, all",
                ExtractParts::NAMES.join(", ")
            ))
        })?,
        None => ExtractParts::default(),
    };
    parts.documents |= query.split;
    Ok(View {
        explain: query.explain,
        parts,
    })
}
