//! The dashboard's figures for a tenant: documents per day by label, the
//! confidence histogram, the share of `unsure` and reviews per day,
//! per-class precision/recall/F1 and the confusion matrix of reviewed
//! documents (the prediction against the verdict in force), and a drift
//! signal: the last week's label distribution and confidence against the
//! weeks before it.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Query, State};
use heron_classify::metrics::Metrics;
use heron_store::{ClassifiedRow, ReviewRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::access::auth::Principal;
use crate::error::ApiError;

const DAY_MS: i64 = 86_400_000;
/// Documents read for the figures, newest first.
const MAX_ROWS: u32 = 50_000;
/// The recent window of the drift signal, in days.
const DRIFT_WINDOW_DAYS: i64 = 7;
/// Population stability index above which the label mix has shifted.
const PSI_ALERT: f64 = 0.2;
/// Change of mean confidence that counts as a shift.
const CONFIDENCE_ALERT: f64 = 0.1;

#[derive(Debug, Deserialize, IntoParams)]
pub struct DashboardQuery {
    /// Days to cover (default 30, at most 365).
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayCount {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub by_label: BTreeMap<String, usize>,
    pub total: usize,
    /// Share of the day's documents that were `unsure`.
    pub unsure_share: f64,
    pub reviews: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Drift {
    pub window_days: i64,
    pub recent_documents: usize,
    pub reference_documents: usize,
    /// Population stability index of the label mix (recent against
    /// reference); above 0.2 is a shift worth a look.
    pub label_psi: f64,
    pub mean_confidence_recent: f64,
    pub mean_confidence_reference: f64,
    pub unsure_share_recent: f64,
    pub unsure_share_reference: f64,
    /// The label mix or the confidence moved past its alert level.
    pub alert: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub days: u32,
    pub documents: usize,
    pub per_day: Vec<DayCount>,
    /// Documents per tenth of confidence.
    pub confidence_histogram: Vec<usize>,
    pub reviewed_documents: usize,
    /// Reviewed documents: prediction against verdict.
    #[schema(value_type = Object)]
    pub reviewed: Metrics,
    /// How often reviewers changed the label.
    pub correction_rate: f64,
    pub drift: Drift,
}

/// The tenant's dashboard figures.
#[utoipa::path(
    get,
    path = "/v1/dashboard",
    tag = "review",
    params(DashboardQuery),
    responses((status = 200, description = "Figures", body = Dashboard))
)]
pub async fn dashboard(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<DashboardQuery>,
) -> Result<axum::Json<Dashboard>, ApiError> {
    let days = query.days.unwrap_or(30).clamp(1, 365);
    Ok(axum::Json(figures(&state, &principal.tenant, days).await?))
}

pub(crate) async fn figures(
    state: &AppState,
    tenant: &str,
    days: u32,
) -> Result<Dashboard, ApiError> {
    let now = crate::routes::admin::now_ms();
    let since = now - i64::from(days) * DAY_MS;
    let rows = state
        .store
        .classified_since(
            tenant,
            since.min(now - 5 * DRIFT_WINDOW_DAYS * DAY_MS),
            MAX_ROWS,
        )
        .await?;
    let reviews = state.store.reviews(tenant).await?;
    let latest = state.store.latest_reviews(tenant).await?;
    Ok(compute(&rows, &reviews, &latest, now, days))
}

/// The figures from stored rows (pure, for tests).
fn compute(
    rows: &[ClassifiedRow],
    reviews: &[ReviewRecord],
    latest: &[ReviewRecord],
    now: i64,
    days: u32,
) -> Dashboard {
    let since = now - i64::from(days) * DAY_MS;
    let in_range: Vec<&ClassifiedRow> = rows.iter().filter(|r| r.created_at_ms >= since).collect();
    let mut per_day: BTreeMap<String, DayCount> = BTreeMap::new();
    for offset in (0..i64::from(days)).rev() {
        let day = day_of(now - offset * DAY_MS);
        per_day.insert(
            day.clone(),
            DayCount {
                day,
                by_label: BTreeMap::new(),
                total: 0,
                unsure_share: 0.0,
                reviews: 0,
            },
        );
    }
    let mut histogram = vec![0usize; 10];
    for row in &in_range {
        if let Some(day) = per_day.get_mut(&day_of(row.created_at_ms)) {
            *day.by_label.entry(row.label.clone()).or_default() += 1;
            day.total += 1;
        }
        histogram[((row.confidence * 10.0) as usize).min(9)] += 1;
    }
    for review in reviews.iter().filter(|r| r.created_at_ms >= since) {
        if let Some(day) = per_day.get_mut(&day_of(review.created_at_ms)) {
            day.reviews += 1;
        }
    }
    for day in per_day.values_mut() {
        let unsure = day.by_label.get("unsure").copied().unwrap_or(0);
        day.unsure_share = if day.total == 0 {
            0.0
        } else {
            unsure as f64 / day.total as f64
        };
    }
    let pairs: Vec<(&str, &str)> = latest
        .iter()
        .map(|r| (r.label.as_str(), r.predicted_label.as_str()))
        .collect();
    let corrected = latest
        .iter()
        .filter(|r| r.label != r.predicted_label)
        .count();
    Dashboard {
        days,
        documents: in_range.len(),
        per_day: per_day.into_values().collect(),
        confidence_histogram: histogram,
        reviewed_documents: latest.len(),
        reviewed: Metrics::measure(&pairs),
        correction_rate: corrected as f64 / latest.len().max(1) as f64,
        drift: drift(rows, now),
    }
}

/// The last [`DRIFT_WINDOW_DAYS`] against the four windows before them.
fn drift(rows: &[ClassifiedRow], now: i64) -> Drift {
    let window = DRIFT_WINDOW_DAYS * DAY_MS;
    let recent: Vec<&ClassifiedRow> = rows
        .iter()
        .filter(|r| r.created_at_ms >= now - window)
        .collect();
    let reference: Vec<&ClassifiedRow> = rows
        .iter()
        .filter(|r| r.created_at_ms < now - window && r.created_at_ms >= now - 5 * window)
        .collect();
    let mean = |rows: &[&ClassifiedRow]| {
        rows.iter().map(|r| r.confidence).fold(0.0, |a, b| a + b) / rows.len().max(1) as f64
    };
    let unsure = |rows: &[&ClassifiedRow]| {
        rows.iter().filter(|r| r.label == "unsure").count() as f64 / rows.len().max(1) as f64
    };
    let label_psi = psi(&recent, &reference);
    let (mean_recent, mean_reference) = (mean(&recent), mean(&reference));
    let comparable = !recent.is_empty() && !reference.is_empty();
    Drift {
        window_days: DRIFT_WINDOW_DAYS,
        recent_documents: recent.len(),
        reference_documents: reference.len(),
        label_psi,
        mean_confidence_recent: mean_recent,
        mean_confidence_reference: mean_reference,
        unsure_share_recent: unsure(&recent),
        unsure_share_reference: unsure(&reference),
        alert: comparable
            && (label_psi > PSI_ALERT || (mean_recent - mean_reference).abs() > CONFIDENCE_ALERT),
    }
}

/// Population stability index between two label distributions, each
/// share floored at 0.1% so that a label new in one window counts
/// without dividing by zero.
fn psi(recent: &[&ClassifiedRow], reference: &[&ClassifiedRow]) -> f64 {
    if recent.is_empty() || reference.is_empty() {
        return 0.0;
    }
    let (p, q) = (shares(recent), shares(reference));
    let mut labels: Vec<&str> = p.keys().chain(q.keys()).copied().collect();
    labels.sort_unstable();
    labels.dedup();
    labels
        .iter()
        .map(|label| {
            let a = p.get(label).copied().unwrap_or(0.0).max(0.001);
            let b = q.get(label).copied().unwrap_or(0.0).max(0.001);
            (a - b) * (a / b).ln()
        })
        .fold(0.0, |a, b| a + b)
}

/// Each label's share of `rows`.
fn shares<'a>(rows: &[&'a ClassifiedRow]) -> BTreeMap<&'a str, f64> {
    let mut counts: BTreeMap<&str, f64> = BTreeMap::new();
    for row in rows {
        *counts.entry(row.label.as_str()).or_default() += 1.0;
    }
    let total = rows.len() as f64;
    counts.into_iter().map(|(k, v)| (k, v / total)).collect()
}

/// `YYYY-MM-DD` of a time in milliseconds (UTC).
pub(crate) fn day_of(ms: i64) -> String {
    crate::routes::jobs::rfc3339(ms).chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(days_ago: f64, label: &str, confidence: f64, now: i64) -> ClassifiedRow {
        ClassifiedRow {
            created_at_ms: now - (days_ago * DAY_MS as f64) as i64,
            label: label.to_owned(),
            confidence,
        }
    }

    fn review(label: &str, predicted: &str, now: i64) -> ReviewRecord {
        ReviewRecord {
            id: "r".into(),
            document_id: "d".into(),
            action: "correct".into(),
            predicted_label: predicted.into(),
            confidence: 0.5,
            label: label.into(),
            fields: None,
            note: None,
            reviewer: "key:x".into(),
            created_at_ms: now,
        }
    }

    #[test]
    fn counts_days_histogram_and_reviewed_metrics() {
        let now = 1_790_000_000_000;
        let rows = vec![
            row(0.0, "invoice", 0.95, now),
            row(0.1, "unsure", 0.3, now),
            row(1.0, "invoice", 0.91, now),
        ];
        let latest = vec![
            review("invoice", "invoice", now),
            review("receipt", "unsure", now),
        ];
        let figures = compute(&rows, &latest, &latest, now, 7);
        assert_eq!(figures.per_day.len(), 7);
        assert_eq!(figures.documents, 3);
        let today = figures.per_day.last().unwrap();
        assert_eq!(today.day, day_of(now));
        assert_eq!(today.reviews, 2);
        assert_eq!(figures.confidence_histogram[9], 2);
        assert_eq!(figures.confidence_histogram[3], 1);
        assert!((figures.correction_rate - 0.5).abs() < 1e-9);
        assert!((figures.reviewed.accuracy - 0.5).abs() < 1e-9);
    }

    #[test]
    fn a_changed_label_mix_raises_the_drift_alert() {
        let now = 1_790_000_000_000;
        let mut rows = Vec::new();
        for i in 0..40 {
            rows.push(row(10.0 + f64::from(i % 20), "invoice", 0.9, now));
        }
        for i in 0..40 {
            rows.push(row(
                f64::from(i % 6),
                if i % 2 == 0 { "invoice" } else { "payslip" },
                0.9,
                now,
            ));
        }
        let shifted = drift(&rows, now);
        assert!(shifted.label_psi > PSI_ALERT, "{}", shifted.label_psi);
        assert!(shifted.alert);
        let steady: Vec<ClassifiedRow> = (0..80)
            .map(|i| row(f64::from(i % 30), "invoice", 0.9, now))
            .collect();
        let steady = drift(&steady, now);
        assert!(steady.label_psi < 0.01 && !steady.alert);
    }
}
