//! `GET /v1/compliance/report`: what a tenant's auditor asks for, in JSON
//! or CSV — documents stored, uploaded, erased and purged; personal data
//! found by kind; accesses by actor and action; retention settings; the
//! key inventory; the state of the audit chain.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use heron_store::AuditEntry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::auth::Principal;
use crate::error::{ApiError, ErrorEnvelope};
use crate::request_id::RequestId;
use crate::routes::admin::{KeyInfo, now_ms, parse_time};
use crate::routes::jobs::rfc3339;

/// The report's period and format.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// RFC 3339; default: 30 days before `to`.
    pub from: Option<String>,
    /// RFC 3339; default: now.
    pub to: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceReport {
    pub tenant: String,
    pub from: String,
    pub to: String,
    pub generated_at: String,
    pub documents: DocumentCounts,
    /// Personal data in documents uploaded in the period and still
    /// stored, by kind.
    pub pii_found: BTreeMap<String, u64>,
    /// Audited actions in the period.
    pub accesses: Vec<AccessCount>,
    pub retention: RetentionSettings,
    pub keys: Vec<KeyInfo>,
    pub audit_chain: ChainState,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentCounts {
    /// Stored now.
    pub stored: i64,
    /// Uploaded in the period (erased since or not).
    pub uploaded: u64,
    pub erased: i64,
    pub purged: i64,
    /// Files removed by the file retention (documents kept).
    pub files_purged: i64,
    pub texts_purged: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessCount {
    pub actor: String,
    pub action: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionSettings {
    pub retention_days: Option<u32>,
    pub file_retention_days: Option<u32>,
    pub text_retention_days: Option<u32>,
    pub effective_retention_days: Option<u32>,
    pub store_redacted_text: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChainState {
    pub entries: i64,
    pub head_hash: Option<String>,
    pub intact: bool,
    pub problems: Vec<String>,
}

/// The caller's tenant's compliance report (admin; audited as
/// `compliance.report`).
#[utoipa::path(
    get,
    path = "/v1/compliance/report",
    tag = "admin",
    params(ReportQuery),
    responses(
        (status = 200, description = "The report (JSON, or CSV rows `section,name,value` with `format=csv`)", body = ComplianceReport),
        (status = 400, description = "Bad period or format (`invalid_query`)", body = ErrorEnvelope),
        (status = 401, description = "Missing or unknown credential", body = ErrorEnvelope),
        (status = 403, description = "The credential lacks the admin scope (`forbidden`)", body = ErrorEnvelope),
    )
)]
pub async fn report(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::InvalidQuery(format!(
                "format must be json or csv, not {other:?}"
            )));
        }
    };
    let to = query
        .to
        .as_deref()
        .map(parse_time)
        .transpose()?
        .unwrap_or_else(now_ms);
    let from = query
        .from
        .as_deref()
        .map(parse_time)
        .transpose()?
        .unwrap_or(to - 30 * 86_400_000);
    if from >= to {
        return Err(ApiError::InvalidQuery("from must be before to".to_owned()));
    }
    let report = build(&state, &principal.tenant, from, to).await?;
    let entry = AuditEntry::ok(
        &principal.tenant,
        &principal.actor(&request_id),
        "compliance.report",
        format!("tenant:{}", principal.tenant),
    )
    .with_detail(serde_json::json!({ "from": report.from, "to": report.to }));
    state.store.audit(&entry).await?;
    if csv {
        let body = to_csv(&report);
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response());
    }
    Ok(axum::Json(report).into_response())
}

async fn build(
    state: &AppState,
    tenant: &str,
    from: i64,
    to: i64,
) -> Result<ComplianceReport, ApiError> {
    let store = &state.store;
    let stored = store.stored_documents(tenant).await?;
    let uploaded = store.audited_uploads(tenant, from, to).await?;
    let counts = store.audit_counts(tenant, from, to).await?;
    let total = |action: &str| -> i64 {
        counts
            .iter()
            .filter(|(_, a, _)| a == action)
            .map(|(_, _, n)| n)
            .sum()
    };
    let settings = store.tenant_settings(tenant).await?;
    let keys = store.api_keys(Some(tenant)).await?;
    let chain = match store.verify_tenant_audit(tenant).await? {
        Some((summary, problems)) => ChainState {
            entries: summary.entries,
            head_hash: Some(summary.head_hash),
            intact: problems.is_empty(),
            problems,
        },
        None => ChainState {
            entries: 0,
            head_hash: None,
            intact: true,
            problems: Vec::new(),
        },
    };
    Ok(ComplianceReport {
        tenant: tenant.to_owned(),
        from: rfc3339(from),
        to: rfc3339(to),
        generated_at: rfc3339(now_ms()),
        documents: DocumentCounts {
            stored,
            uploaded,
            erased: total("document.erase"),
            purged: total("document.purge"),
            files_purged: total("document.file_purge"),
            texts_purged: total("document.text_purge"),
        },
        pii_found: store.pii_totals(tenant, from, to).await?,
        accesses: counts
            .iter()
            .map(|(actor, action, count)| AccessCount {
                actor: actor.clone(),
                action: action.clone(),
                count: *count,
            })
            .collect(),
        retention: RetentionSettings {
            retention_days: settings.retention_days,
            file_retention_days: settings.file_retention_days,
            text_retention_days: settings.text_retention_days,
            effective_retention_days: settings.retention_days.or(state.settings.retention_days),
            store_redacted_text: settings.store_redacted_text,
        },
        keys: keys.into_iter().map(|k| KeyInfo::new(k, None)).collect(),
        audit_chain: chain,
    })
}

/// Rows `section,name,value`, one fact per row, fields quoted as RFC 4180
/// asks.
fn to_csv(report: &ComplianceReport) -> String {
    let mut out = String::from("section,name,value\n");
    let mut row = |section: &str, name: &str, value: &str| {
        let _ = writeln!(out, "{},{},{}", quote(section), quote(name), quote(value));
    };
    row("report", "tenant", &report.tenant);
    row("report", "from", &report.from);
    row("report", "to", &report.to);
    row("report", "generated_at", &report.generated_at);
    let d = &report.documents;
    for (name, value) in [
        ("stored", d.stored),
        ("uploaded", i64::try_from(d.uploaded).unwrap_or(i64::MAX)),
        ("erased", d.erased),
        ("purged", d.purged),
        ("files_purged", d.files_purged),
        ("texts_purged", d.texts_purged),
    ] {
        row("documents", name, &value.to_string());
    }
    for (kind, count) in &report.pii_found {
        row("pii_found", kind, &count.to_string());
    }
    for access in &report.accesses {
        row(
            "access",
            &format!("{} {}", access.actor, access.action),
            &access.count.to_string(),
        );
    }
    let r = &report.retention;
    let days = |d: Option<u32>| d.map_or_else(|| "none".to_owned(), |d| d.to_string());
    row("retention", "retention_days", &days(r.retention_days));
    row(
        "retention",
        "file_retention_days",
        &days(r.file_retention_days),
    );
    row(
        "retention",
        "text_retention_days",
        &days(r.text_retention_days),
    );
    row(
        "retention",
        "effective_retention_days",
        &days(r.effective_retention_days),
    );
    row(
        "retention",
        "store_redacted_text",
        &r.store_redacted_text.to_string(),
    );
    for key in &report.keys {
        let value = format!(
            "name={}; scopes={}; created={}; expires={}; revoked={}; last_used={}",
            key.name,
            key.scopes.join(" "),
            key.created_at,
            key.expires_at.as_deref().unwrap_or("never"),
            key.revoked_at.as_deref().unwrap_or("no"),
            key.last_used_at.as_deref().unwrap_or("never"),
        );
        row("key", &key.key_id, &value);
    }
    let c = &report.audit_chain;
    row("audit_chain", "entries", &c.entries.to_string());
    row(
        "audit_chain",
        "head_hash",
        c.head_hash.as_deref().unwrap_or(""),
    );
    row("audit_chain", "intact", &c.intact.to_string());
    out
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
