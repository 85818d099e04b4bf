//! `GET /v1/search`: the caller's tenant's documents by their words,
//! label, upload time and typed field values, with highlighted snippets
//! and counts by label. The index is the database's (see
//! `heron_store::search`), so every API process answers the same.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{RawQuery, State};
use heron_store::{AuditEntry, Comparison, FieldFilter, SearchQuery};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::access::auth::Principal;
use crate::error::{ApiError, ErrorEnvelope};
use crate::request_id::RequestId;
use crate::routes::jobs::rfc3339;

/// Characters of text around the first match in a snippet.
const SNIPPET_CHARS: usize = 160;

/// A document found.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    pub document_id: String,
    pub label: String,
    pub filename: String,
    pub created_at: String,
    /// The reciprocal of the result's rank in the whole answer (1, 0.5,
    /// 0.3333…; 0 when listing by filters alone): an order, not the
    /// engine's relevance score, which would reveal statistics of other
    /// tenants' documents.
    pub score: f64,
    /// Text around the first match, matched words in `<b>`, the rest
    /// HTML-escaped; personal data redacted as in `/text`.
    pub snippet: String,
}

/// Counts of the matching documents.
#[derive(Debug, Serialize, ToSchema)]
pub struct Facets {
    /// By label, ignoring the `label` filter.
    pub label: BTreeMap<String, u64>,
}

/// A page of search results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    pub total: u64,
    pub offset: u32,
    pub limit: u32,
    /// Offset of the next page; absent on the last.
    pub next_offset: Option<u32>,
    pub results: Vec<SearchResult>,
    pub facets: Facets,
}

/// Search the caller's tenant's documents.
///
/// Parameters: `q` (words, all required), `label`, `from` and `to`
/// (upload date `YYYY-MM-DD` or RFC 3339 time, inclusive),
/// `field.<name>>=<v>`, `field.<name><=<v>`, `field.<name>=<v>` (amounts
/// compare as numbers, dates and other values as text), `offset`, `limit`
/// (1–100, default 20).
#[utoipa::path(
    get,
    path = "/v1/search",
    tag = "documents",
    responses(
        (status = 200, description = "Matching documents, best first", body = SearchResponse),
        (status = 400, description = "Bad query (`invalid_query`)", body = ErrorEnvelope),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<SearchResponse>, ApiError> {
    let query = parse(&principal.tenant, raw.as_deref().unwrap_or(""))?;
    let page = state.store.search(&query).await?;
    let terms = query
        .text
        .as_deref()
        .map(heron_store::query_terms)
        .unwrap_or_default();
    let mut results = Vec::with_capacity(page.hits.len());
    for hit in page.hits {
        let text = state
            .store
            .document_text(&principal.tenant, &hit.document_id)
            .await?
            .map(|(text, _)| heron_pii::redact_text(&text))
            .unwrap_or_default();
        results.push(SearchResult {
            snippet: snippet(&text, &terms),
            document_id: hit.document_id,
            label: hit.label,
            filename: hit.filename,
            created_at: rfc3339(hit.created_at_ms),
            score: (hit.score * 1e4).round() / 1e4,
        });
    }
    let entry = AuditEntry::ok(
        &principal.tenant,
        &principal.actor(&request_id),
        "document.search",
        "documents".to_owned(),
    )
    .with_detail(serde_json::json!({ "results": results.len(), "total": page.total }));
    state.store.audit(&entry).await?;
    let shown = query.offset as u64 + results.len() as u64;
    Ok(axum::Json(SearchResponse {
        total: page.total,
        offset: query.offset,
        limit: query.limit,
        next_offset: (shown < page.total).then_some(shown as u32),
        results,
        facets: Facets { label: page.facets },
    }))
}

/// The search a raw query string asks for. Field filters are written
/// `field.total>=100`, which form decoding reads as the key `field.total>`.
fn parse(tenant: &str, raw: &str) -> Result<SearchQuery, ApiError> {
    let mut query = SearchQuery {
        tenant: tenant.to_owned(),
        limit: 20,
        ..SearchQuery::default()
    };
    let bad = |message: String| ApiError::InvalidQuery(message);
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        let (key, value) = (key.into_owned(), value.into_owned());
        if let Some(field) = key.strip_prefix("field.") {
            let (name, comparison) = if let Some(name) = field.strip_suffix('>') {
                (name, Comparison::AtLeast)
            } else if let Some(name) = field.strip_suffix('<') {
                (name, Comparison::AtMost)
            } else {
                (field, Comparison::Equal)
            };
            let valid = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(bad(format!(
                    "{key:?} names no field (lowercase letters, digits, _)"
                )));
            }
            query.fields.push(FieldFilter {
                name: name.to_owned(),
                comparison,
                value,
            });
            continue;
        }
        match key.as_str() {
            "q" => query.text = Some(value).filter(|v| !v.trim().is_empty()),
            "label" => query.label = Some(value),
            "from" => {
                query.from_ms = Some(
                    time_of(&value, false)
                        .ok_or_else(|| bad(format!("from: {value:?} is not a date or time")))?,
                )
            }
            "to" => {
                query.to_ms = Some(
                    time_of(&value, true)
                        .ok_or_else(|| bad(format!("to: {value:?} is not a date or time")))?,
                )
            }
            "offset" => {
                query.offset = value
                    .parse()
                    .map_err(|_| bad(format!("offset: {value:?} is not a number")))?
            }
            "limit" => {
                let limit: u32 = value
                    .parse()
                    .map_err(|_| bad(format!("limit: {value:?} is not a number")))?;
                if !(1..=100).contains(&limit) {
                    return Err(bad("limit must be between 1 and 100".to_owned()));
                }
                query.limit = limit;
            }
            other => return Err(bad(format!("unknown parameter {other:?}"))),
        }
    }
    if query.fields.len() > 10 {
        return Err(bad("at most 10 field filters".to_owned()));
    }
    Ok(query)
}

/// Milliseconds of `YYYY-MM-DD` (the day's start, or its end for an upper
/// bound) or an RFC 3339 time.
fn time_of(text: &str, end_of_day: bool) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(time) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Some((time.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).ok()?;
    let start = date.midnight().assume_utc().unix_timestamp() * 1000;
    Some(if end_of_day {
        start + 86_400_000 - 1
    } else {
        start
    })
}

/// Text around the first of `terms`, matched words in `<b>`, the rest
/// escaped; the start of the text when nothing matches.
fn snippet(text: &str, terms: &[String]) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars: Vec<char> = flat.chars().collect();
    let lower: Vec<char> = flat
        .chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect();
    let word_at = |at: usize, term: &[char]| {
        lower.get(at..at + term.len()) == Some(term)
            && (at == 0 || !lower[at - 1].is_alphanumeric())
            && lower
                .get(at + term.len())
                .is_none_or(|c| !c.is_alphanumeric())
    };
    let terms: Vec<Vec<char>> = terms.iter().map(|t| t.chars().collect()).collect();
    let first = (0..lower.len()).find(|&at| terms.iter().any(|t| word_at(at, t)));
    let start = first.map_or(0, |at| at.saturating_sub(SNIPPET_CHARS / 3));
    let end = (start + SNIPPET_CHARS).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    while at < end {
        if let Some(term) = terms.iter().find(|t| word_at(at, t)) {
            out.push_str("<b>");
            escape_into(&mut out, &chars[at..at + term.len()]);
            out.push_str("</b>");
            at += term.len();
        } else {
            escape_into(&mut out, &chars[at..at + 1]);
            at += 1;
        }
    }
    if end < chars.len() {
        out.push('…');
    }
    out
}

fn escape_into(out: &mut String, chars: &[char]) {
    for c in chars {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            other => out.push(*other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_filters_and_bounds_are_parsed() {
        let query = parse("acme", "q=rent&field.total>=100&field.due_date<=2024-12-31&label=invoice&from=2024-01-01&limit=5").unwrap();
        assert_eq!(query.text.as_deref(), Some("rent"));
        assert_eq!(query.fields.len(), 2);
        assert_eq!(query.fields[0].comparison, Comparison::AtLeast);
        assert_eq!(query.fields[1].comparison, Comparison::AtMost);
        assert_eq!(query.from_ms, Some(1_704_067_200_000));
        assert_eq!(query.limit, 5);
        assert!(parse("acme", "colour=red").is_err());
        assert!(parse("acme", "field.Total%20x>=1").is_err());
        assert!(parse("acme", "limit=0").is_err());
    }

    #[test]
    fn snippets_mark_whole_words_and_escape_the_rest() {
        let text = "Invoice <draft>\nTotal due for rental: 100\nrent paid";
        assert_eq!(
            snippet(text, &["rent".to_owned()]),
            "Invoice &lt;draft&gt; Total due for rental: 100 <b>rent</b> paid"
        );
    }
}
