//! `?explain=true`: the long form of each result's evidence. Results are
//! stored with it; responses leave it out unless asked, keeping the
//! original contract's responses small.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use heron_core::ClassificationResult;
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
}

/// `results` as the response shows them.
pub fn shown(mut results: Vec<ClassificationResult>, explain: bool) -> Vec<ClassificationResult> {
    if !explain {
        for result in &mut results {
            result.explanation = None;
        }
    }
    results
}

/// Whether the query asked for explanations; a malformed query is the
/// client's error (`invalid_query`), not a plain-text rejection.
pub fn explain(query: Result<Query<ExplainQuery>, QueryRejection>) -> Result<bool, ApiError> {
    query
        .map(|Query(q)| q.explain)
        .map_err(|e| ApiError::InvalidQuery(e.body_text()))
}
