//! The UI's pages. Each reads what it shows through the store with the
//! signed-in principal's tenant, like the JSON routes; actions are buttons
//! whose script calls those routes.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use heron_core::access::Scope;
use heron_core::understanding::Understanding;
use maud::{Markup, html};
use serde::Deserialize;

use super::{shell, trusted_svg};
use crate::AppState;
use crate::access::auth::Principal;
use crate::charts;
use crate::error::ApiError;
use crate::request_id::RequestId;
use crate::routes::learning::{self, TypeInfo};

fn percent(value: f64) -> String {
    format!("{:.0}%", value * 100.0)
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

#[derive(Debug, Deserialize)]
pub(crate) struct UploadQuery {
    /// Label every uploaded file as this type (examples of a type).
    label: Option<String>,
}

pub(crate) async fn upload(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<UploadQuery>,
) -> Result<Html<String>, ApiError> {
    let can_label = principal.scopes.contains(Scope::Review);
    let types = if can_label {
        learning::known_types(&state, &principal.tenant).await?
    } else {
        BTreeMap::new()
    };
    let chosen = query.label.filter(|l| types.contains_key(l));
    let body = html! {
        h1 { "Upload documents" }
        p { "Drop files here or choose them: PDFs, scans and photos, Office documents, spreadsheets, e-mails, text. Each file is classified as soon as it arrives." }
        div #drop.drop tabindex="0" role="button" aria-describedby="drop-help" {
            p { strong { "Drop files here" } }
            p #drop-help { "or press Enter to choose files (up to " (state.settings.max_batch_size) " at once, " (state.settings.max_file_size_bytes / 1_000_000) " MB each)" }
        }
        input #files type="file" multiple aria-label="Files to upload";
        @if can_label {
            div.field {
                label for="label-as" { "Label these files as (examples of a type)" }
                select #label-as {
                    option value="" { "— no, classify them —" }
                    @for (id, info) in &types {
                        option value=(id) selected[chosen.as_deref() == Some(id.as_str())] { (info.name) " (" (id) ")" }
                    }
                }
            }
        }
        p #upload-status role="status" aria-live="polite" {}
        table #results.hidden {
            caption { "Files of this visit" }
            thead { tr { th scope="col" { "File" } th scope="col" { "Progress" } th scope="col" { "Type" } th scope="col" { "Confidence" } th scope="col" { "" } } }
            tbody {}
        }
    };
    Ok(shell("Upload", Some(&principal), "/ui/upload", body))
}

pub(crate) async fn review_queue(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Html<String>, ApiError> {
    let (items, considered, waiting) =
        learning::review_queue(&state, &principal.tenant, 50).await?;
    let body = html! {
        h1 { "Review queue" }
        p { (waiting) " of the " (considered) " newest unreviewed documents need a person: unsure, under their type's review threshold, or a close call between two types. The ones whose verdict teaches the model most come first; near-copies of one template are spread apart." }
        @if items.is_empty() {
            div.empty {
                p { strong { "Nothing waits for a verdict." } }
                p { "Documents appear here when the model is unsure of them. " a href="/ui/upload" { "Upload documents" } " or look at the " a href="/ui/dashboard" { "dashboard" } "." }
            }
        } @else {
            table #queue {
                thead { tr {
                    th scope="col" { "Document" } th scope="col" { "Label" } th scope="col" { "Best guess" }
                    th scope="col" { "Confidence" } th scope="col" { "Margin" } th scope="col" { "Why" } th scope="col" { "Priority" }
                } }
                tbody {
                    @for item in &items {
                        tr {
                            td { a href={ "/ui/documents/" (item.document_id) } { (item.filename) } }
                            td { span.badge.unsure[item.label == "unsure"] { (item.label) } }
                            td { (item.predicted_label) }
                            td { (percent(item.confidence)) }
                            td { (percent(item.margin)) }
                            td { (item.reasons.iter().filter_map(|r| r["reason"].as_str()).collect::<Vec<_>>().join(", ").replace('_', " ")) }
                            td { (format!("{:.2}", item.priority)) }
                        }
                    }
                }
            }
        }
    };
    Ok(shell("Review", Some(&principal), "/ui/review", body))
}

pub(crate) async fn document(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(document_id): Path<String>,
) -> Result<Html<String>, ApiError> {
    let record = state
        .store
        .document(&principal.tenant, &document_id)
        .await?
        .ok_or_else(|| ApiError::DocumentNotFound(document_id.clone()))?;
    state
        .store
        .audit(&heron_store::AuditEntry::ok(
            &principal.tenant,
            &principal.actor(&request_id),
            "document.read",
            format!("document:{document_id}"),
        ))
        .await?;
    let understanding: Option<Understanding> = state
        .store
        .document_understanding(&principal.tenant, &document_id)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok());
    let text = state
        .store
        .document_text(&principal.tenant, &document_id)
        .await?
        .map(|(text, _)| heron_pii::redact_text(&text));
    let reviews = state
        .store
        .reviews_of(&principal.tenant, &document_id)
        .await?;
    let types = learning::known_types(&state, &principal.tenant).await?;
    let can_review = principal.scopes.contains(Scope::Review);
    let Some(result) = record.result.clone() else {
        let body = html! {
            h1 { (record.filename) }
            p role="status" { "Still being processed (" (record.state) "). Reload in a moment." }
        };
        return Ok(shell(&record.filename, Some(&principal), "", body));
    };
    let mut ranked: Vec<(&String, &f64)> = result.class_confidences.iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(a.1));
    let top: Vec<&String> = ranked.iter().take(3).map(|(l, _)| *l).collect();
    let pictured = result.mime_type == "application/pdf" || result.mime_type.starts_with("image/");
    let pages = result.page_count.unwrap_or(1).clamp(1, 4);
    let verdict = reviews.last();
    let fields = understanding.as_ref().map(|u| &u.fields.values);
    let terms: Vec<(String, f64)> = match &result.explanation {
        Some(explanation) => explanation
            .terms
            .get(&result.predicted_label)
            .map(|terms| terms.iter().map(|e| (e.term.clone(), e.weight)).collect())
            .unwrap_or_default(),
        None => result
            .evidence
            .iter()
            .map(|e| (e.term.clone(), e.weight))
            .collect(),
    };
    let body = html! {
        h1 { (record.filename) }
        p.summary {
            "Classified as " span.badge.unsure[result.label == "unsure"] { (result.label) }
            " · best guess " strong { (result.predicted_label) } " at " (percent(result.confidence))
            @if result.out_of_distribution { " · unlike anything the model knows" }
            @if let Some(v) = verdict { " · reviewed: " strong #verdict { (v.label) } " (" (v.action.replace('_', " ")) " by " (v.reviewer) ")" }
        }
        div.columns {
            section aria-labelledby="h-preview" {
                h2 #h-preview { "Document" }
                @if pictured && can_review {
                    @for page in 1..=pages {
                        img.preview src={ "/v1/documents/" (document_id) "/pages/" (page) } alt={ "Page " (page) " of " (record.filename) } loading="lazy";
                    }
                } @else if pictured {
                    p.note { "Page pictures show personal data: they need the reviewer role." }
                }
                h3 { "Extracted text" @if can_review { " " button.link #unmask type="button" data-document=(document_id) { "Show personal data" } } }
                @match &text {
                    Some(text) => pre #text.text tabindex="0" { (text.chars().take(20_000).collect::<String>()) },
                    None => p.note { "No text was kept for this document." },
                }
            }
            section aria-labelledby="h-decision" {
                h2 #h-decision { "Decision" }
                h3 { "Confidence of every type" }
                ul.bars {
                    @for (label, confidence) in ranked.iter().take(8) {
                        li { span.name { (label) } meter min="0" max="1" value=(format!("{:.3}", confidence)) {} span.value { (percent(**confidence)) } }
                    }
                }
                @if !terms.is_empty() {
                    h3 { "What decided it" }
                    ul.terms {
                        @for (term, weight) in terms.iter().take(10) {
                            li { code { (term) } " " span.note { (format!("{weight:.2}")) } }
                        }
                    }
                }
                @if can_review {
                    h2 { "Your verdict" }
                    form #review data-document=(document_id) data-predicted=(result.label) {
                        p.keys { "Keys: " kbd { "A" } " accept, " kbd { "1" } "–" kbd { "3" } " the top types." }
                        div.actions {
                            @if result.label != "unsure" {
                                button type="button" data-action="accept" data-key="a" { "Accept " (result.label) }
                            }
                            @for (i, label) in top.iter().enumerate() {
                                @if **label != result.label {
                                    button type="button" data-action="correct" data-label=(label) data-key=(i + 1) { "It is " (label) " (" (i + 1) ")" }
                                }
                            }
                        }
                        div.field {
                            label for="other-type" { "Another type" }
                            select #other-type {
                                @for (id, info) in &types {
                                    option value=(id) { (info.name) " (" (id) ")" }
                                }
                            }
                            button type="button" data-action="correct-other" { "Correct to this type" }
                        }
                        div.field {
                            label for="new-type" { "Not a type we know: propose a name" }
                            input #new-type type="text" placeholder="e.g. veterinary record";
                            button type="button" data-action="new_type" { "Propose new type" }
                        }
                        @if let Some(fields) = fields {
                            @if !fields.is_empty() {
                                fieldset {
                                    legend { "Fields (fix any that are wrong)" }
                                    @for (name, value) in fields {
                                        div.field {
                                            label for={ "field-" (name) } { (name) }
                                            input.field-value id={ "field-" (name) } name=(name) type="text" value=(value.value) data-original=(value.value);
                                        }
                                    }
                                }
                            }
                        }
                        p #review-status role="status" aria-live="polite" {}
                    }
                } @else {
                    p.note { "Correcting needs the reviewer role." }
                }
                @if let Some(fields) = fields {
                    @if !fields.is_empty() && !can_review {
                        h3 { "Fields found" }
                        dl { @for (name, value) in fields { dt { (name) } dd { (value.value) } } }
                    }
                }
                @if !reviews.is_empty() {
                    h3 { "Verdicts" }
                    ol.history { @for r in &reviews { li { (r.action.replace('_', " ")) ": " strong { (r.label) } " by " (r.reviewer) " at " (crate::routes::jobs::rfc3339(r.created_at_ms)) } } }
                }
            }
        }
    };
    Ok(shell(&record.filename, Some(&principal), "", body))
}

pub(crate) async fn models(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Html<String>, ApiError> {
    let list = learning::model_list(&state, &principal.tenant).await?;
    let can_train = principal.scopes.contains(Scope::Train);
    let is_admin = principal.scopes.contains(Scope::Admin);
    let latest = list
        .runs
        .iter()
        .find(|r| r.state == "done" && r.report.is_some());
    let busy = list
        .runs
        .iter()
        .find(|r| r.state == "queued" || r.state == "running");
    let body = html! {
        h1 { "Models" }
        p {
            "Your documents are classified by " code #serving { (short(&list.serving)) }
            @match &list.champion {
                Some(_) => " (your promoted champion).",
                None => " (the deployment's model: nothing promoted yet).",
            }
        }
        @if can_train {
            section.card aria-labelledby="h-train" {
                h2 #h-train { "Train a challenger" }
                p { "Trains on the generated base documents plus every reviewed document (corrections weigh most), holds back a fifth of the reviewed ones, and compares the challenger with the champion on them. Promotion is yours to decide." }
                button #train type="button" disabled[busy.is_some()] { "Retrain now" }
                p #train-status role="status" aria-live="polite" data-run=[busy.map(|r| r.run_id.as_str())] {
                    @if let Some(run) = busy { "Training run " (short(&run.run_id)) " is " (run.state) "…" }
                }
            }
        }
        @if let Some(run) = latest {
            @if let Some(report) = &run.report {
                section #comparison aria-labelledby="h-compare" {
                    h2 #h-compare { "Champion and challenger" }
                    (comparison(report))
                    @if is_admin {
                        @if let Some(challenger) = &run.challenger_id {
                            @if list.champion.as_deref() != Some(challenger.as_str()) {
                                button.primary #promote-latest type="button" data-model=(challenger) { "Promote challenger " (short(challenger)) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="h-versions" {
            h2 #h-versions { "Versions" }
            @if list.models.is_empty() {
                p.empty { "No model trained from your reviews yet. Review documents, then retrain." }
            } @else {
                table #versions {
                    thead { tr { th scope="col" { "Model" } th scope="col" { "State" } th scope="col" { "Trained" } th scope="col" { "Types" } th scope="col" { "Held-back accuracy" } th scope="col" { "Promoted" } @if is_admin { th scope="col" { "" } } } }
                    tbody {
                        @for model in &list.models {
                            tr data-model=(model.model_id) {
                                td { code { (short(&model.model_id)) } }
                                td { span.badge.champion[model.state == "champion"] { (model.state) } }
                                td { (model.created_at) }
                                td { (model.labels.len()) }
                                td { (held_back_accuracy(&model.report, "challenger")) }
                                td { (model.promoted_at.clone().unwrap_or_default()) }
                                @if is_admin {
                                    td {
                                        @if model.state == "champion" {
                                            button.rollback type="button" { "Roll back" }
                                        } @else {
                                            button.promote type="button" data-model=(model.model_id) {
                                                @if model.state == "retired" { "Roll back to this" } @else { "Promote" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p #model-status role="status" aria-live="polite" {}
        }
        @if !list.runs.is_empty() {
            section aria-labelledby="h-runs" {
                h2 #h-runs { "Training runs" }
                table {
                    thead { tr { th scope="col" { "Run" } th scope="col" { "State" } th scope="col" { "Asked by" } th scope="col" { "Started" } th scope="col" { "Finished" } th scope="col" { "Challenger" } } }
                    tbody {
                        @for run in &list.runs {
                            tr {
                                td { code { (short(&run.run_id)) } }
                                td { (run.state) @if let Some(error) = &run.error { br; span.error { (error) } } }
                                td { (run.requested_by) }
                                td { (run.started_at.clone().unwrap_or_default()) }
                                td { (run.finished_at.clone().unwrap_or_default()) }
                                td { @if let Some(c) = &run.challenger_id { code { (short(c)) } } }
                            }
                        }
                    }
                }
            }
        }
        @if !list.events.is_empty() {
            section aria-labelledby="h-events" {
                h2 #h-events { "Promotions and rollbacks" }
                ol.history { @for e in &list.events { li { (e.at) ": " (e.action) " " code { (short(&e.model_id)) } " by " (e.actor) } } }
            }
        }
    };
    Ok(shell("Models", Some(&principal), "/ui/models", body))
}

fn held_back_accuracy(report: &serde_json::Value, side: &str) -> String {
    let held = &report[side]["held_back"];
    match (held["accuracy"].as_f64(), held["documents"].as_u64()) {
        (Some(accuracy), Some(documents)) if documents > 0 => {
            format!("{} of {documents}", percent(accuracy))
        }
        _ => "—".to_owned(),
    }
}

/// A model's figure on one set of a run's report: "92% of 25", or a dash
/// when the set was empty.
fn figure(side: &serde_json::Value, set: &str, key: &str) -> String {
    let figures = &side[set];
    match (figures[key].as_f64(), figures["documents"].as_u64()) {
        (Some(value), Some(documents)) if documents > 0 => {
            format!("{} of {documents}", percent(value))
        }
        _ => "—".to_owned(),
    }
}

/// Champion against challenger, from a run's report.
fn comparison(report: &serde_json::Value) -> Markup {
    let champion = &report["champion"];
    let challenger = &report["challenger"];
    let mut classes: Vec<String> = champion["held_back"]["per_class"]
        .as_object()
        .into_iter()
        .chain(challenger["held_back"]["per_class"].as_object())
        .flat_map(|m| m.keys().cloned())
        .collect();
    classes.sort();
    classes.dedup();
    let new_labels: Vec<&str> = report["new_labels"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let held = report["held_back_documents"].as_u64().unwrap_or(0);
    let class_f1 = |side: &serde_json::Value, class: &str| {
        side["held_back"]["per_class"][class]["f1"]
            .as_f64()
            .map_or("—".to_owned(), percent)
    };
    html! {
        p {
            (report["verified_documents"].as_u64().unwrap_or(0)) " reviewed documents: "
            (held) " held back to compare, the rest trained on."
            @if !new_labels.is_empty() { " New types learnt: " strong { (new_labels.join(", ")) } "." }
        }
        @if held == 0 {
            p.note { "Too few reviewed documents to hold any back yet (a type needs three or more). Compare on the generated documents, and on the reviewed ones knowing the challenger learnt from them." }
        }
        table.compare {
            thead { tr { th scope="col" { "" } th scope="col" { "Champion " code { (short(champion["id"].as_str().unwrap_or(""))) } } th scope="col" { "Challenger " code { (short(challenger["id"].as_str().unwrap_or(""))) } } } }
            tbody {
                tr { th scope="row" { "Accuracy on held-back reviewed documents" } td { (figure(champion, "held_back", "accuracy")) } td { (figure(challenger, "held_back", "accuracy")) } }
                tr { th scope="row" { "Macro F1 on them" } td { (figure(champion, "held_back", "macro_f1")) } td { (figure(challenger, "held_back", "macro_f1")) } }
                tr { th scope="row" { "Accuracy on all reviewed documents (the challenger saw most)" } td { (figure(champion, "reviewed", "accuracy")) } td { (figure(challenger, "reviewed", "accuracy")) } }
                tr { th scope="row" { "Accuracy on generated documents neither saw" } td { (figure(champion, "generated", "accuracy")) } td { (figure(challenger, "generated", "accuracy")) } }
                @for class in &classes {
                    tr { th scope="row" { "F1 " (class) " (held back)" } td { (class_f1(champion, class)) } td { (class_f1(challenger, class)) } }
                }
            }
        }
    }
}

pub(crate) async fn types(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Html<String>, ApiError> {
    let types = learning::known_types(&state, &principal.tenant).await?;
    let can_train = principal.scopes.contains(Scope::Train);
    let defined: Vec<&TypeInfo> = types.values().filter(|t| t.source == "defined").collect();
    let mut families: BTreeMap<&str, Vec<&TypeInfo>> = BTreeMap::new();
    for info in types.values().filter(|t| t.source == "taxonomy") {
        families.entry(info.parent.as_str()).or_default().push(info);
    }
    let mut proposals: BTreeMap<String, usize> = BTreeMap::new();
    for review in state.store.latest_reviews(&principal.tenant).await? {
        if review.action == "new_type" && !types.contains_key(&review.label) {
            *proposals.entry(review.label).or_default() += 1;
        }
    }
    let body = html! {
        h1 { "Document types" }
        @if can_train {
            section.card aria-labelledby="h-define" {
                h2 #h-define { "Define a new type" }
                p { "Give it a name and a place in the taxonomy, then upload a handful of examples labelled with it and retrain." }
                form #define-type {
                    div.field { label for="type-name" { "Name" } input #type-name name="name" type="text" required placeholder="e.g. Veterinary record"; }
                    div.field {
                        label for="type-parent" { "Parent family" }
                        select #type-parent name="parent" {
                            @for family in families.keys() { option value=(family) { (family) } }
                        }
                    }
                    div.field { label for="type-description" { "Description" } textarea #type-description name="description" rows="2" {} }
                    button.primary type="submit" { "Define type" }
                    p #type-status role="status" aria-live="polite" {}
                }
            }
            @if !proposals.is_empty() {
                section aria-labelledby="h-proposals" {
                    h2 #h-proposals { "Proposed by reviewers" }
                    ul { @for (id, count) in &proposals { li { code { (id) } " (" (count) " documents) " button.propose type="button" data-name=(id.replace('_', " ")) { "Define it" } } } }
                }
            }
        }
        section aria-labelledby="h-defined" {
            h2 #h-defined { "Your types" }
            @if defined.is_empty() {
                p.empty { "None yet. The taxonomy's types are below." }
            } @else {
                table #defined-types {
                    thead { tr { th scope="col" { "Id" } th scope="col" { "Name" } th scope="col" { "Parent" } th scope="col" { "" } } }
                    tbody { @for t in &defined { tr { td { code { (t.id) } } td { (t.name) } td { (t.parent) } td { a href={ "/ui/upload?label=" (t.id) } { "Upload examples" } } } } }
                }
            }
        }
        section aria-labelledby="h-taxonomy" {
            h2 #h-taxonomy { "Taxonomy (" (types.len() - defined.len()) " types)" }
            @for (family, members) in &families {
                details {
                    summary { (family) " (" (members.len()) ")" }
                    ul { @for t in members { li { code { (t.id) } " " (t.name) } } }
                }
            }
        }
    };
    Ok(shell("Types", Some(&principal), "/ui/types", body))
}

pub(crate) async fn dashboard(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Html<String>, ApiError> {
    let figures = crate::routes::dashboard::figures(&state, &principal.tenant, 30).await?;
    let list = learning::model_list(&state, &principal.tenant).await?;
    let per_day: Vec<(String, BTreeMap<String, usize>)> = figures
        .per_day
        .iter()
        .map(|d| (d.day.clone(), d.by_label.clone()))
        .collect();
    let unsure: Vec<(String, f64)> = figures
        .per_day
        .iter()
        .map(|d| (d.day.clone(), d.unsure_share))
        .collect();
    let reviews: Vec<(String, f64)> = figures
        .per_day
        .iter()
        .map(|d| (d.day.clone(), d.reviews as f64))
        .collect();
    let max_reviews = reviews.iter().map(|(_, v)| *v).fold(1.0, f64::max);
    let drift = &figures.drift;
    let body = html! {
        h1 { "Dashboard" }
        ul.cards {
            li { span.big #documents-count { (figures.documents) } " documents in " (figures.days) " days" }
            li { span.big { (percent(figures.per_day.iter().map(|d| d.by_label.get("unsure").copied().unwrap_or(0)).sum::<usize>() as f64 / figures.documents.max(1) as f64)) } " unsure" }
            li { span.big { (figures.reviewed_documents) } " reviewed, " (percent(figures.correction_rate)) " corrected" }
            li { span.big #model-serving { (short(&list.serving)) } @match &list.champion { Some(_) => " promoted model", None => " deployment model" } }
            li.alert[drift.alert] {
                span.big { @if drift.alert { "Drift" } @else { "Stable" } }
                @if drift.reference_documents == 0 {
                    " nothing earlier than " (drift.window_days) " days to compare with"
                } @else {
                    " label PSI " (format!("{:.2}", drift.label_psi)) ", confidence " (percent(drift.mean_confidence_recent)) " vs " (percent(drift.mean_confidence_reference))
                }
            }
        }
        @if figures.documents == 0 {
            p.empty { "No documents in the last " (figures.days) " days. " a href="/ui/upload" { "Upload some" } " to see figures here." }
        }
        section.chart aria-labelledby="h-per-day" {
            h2 #h-per-day { "Documents per day by type" }
            figure { (trusted_svg(charts::stacked_bars_svg(&per_day))) figcaption { "Stacked by type; hover a bar for its count." } }
        }
        div.columns {
            section.chart aria-labelledby="h-confidence" {
                h2 #h-confidence { "Confidence" }
                figure { (trusted_svg(charts::histogram_svg(&figures.confidence_histogram))) figcaption { "Documents per tenth of confidence." } }
            }
            section.chart aria-labelledby="h-unsure" {
                h2 #h-unsure { "Share unsure" }
                figure { (trusted_svg(charts::line_svg(&unsure, 1.0, percent))) figcaption { "Per day." } }
            }
        }
        div.columns {
            section.chart aria-labelledby="h-reviews" {
                h2 #h-reviews { "Reviews per day" }
                figure { (trusted_svg(charts::line_svg(&reviews, max_reviews, |v| format!("{v:.0}")))) figcaption { "Verdicts given." } }
            }
            section aria-labelledby="h-drift" {
                h2 #h-drift { "Drift" }
                p { "The last " (drift.window_days) " days (" (drift.recent_documents) " documents) against the four weeks before (" (drift.reference_documents) ")." }
                table {
                    tbody {
                        tr { th scope="row" { "Label mix (PSI; over 0.2 is a shift)" } td { (format!("{:.3}", drift.label_psi)) } }
                        tr { th scope="row" { "Mean confidence" } td { (percent(drift.mean_confidence_recent)) " vs " (percent(drift.mean_confidence_reference)) } }
                        tr { th scope="row" { "Share unsure" } td { (percent(drift.unsure_share_recent)) " vs " (percent(drift.unsure_share_reference)) } }
                    }
                }
            }
        }
        section aria-labelledby="h-quality" {
            h2 #h-quality { "Quality on reviewed documents" }
            @if figures.reviewed_documents == 0 {
                p.empty { "No reviewed documents yet: give verdicts in the " a href="/ui/review" { "review queue" } "." }
            } @else {
                p { "The model's label against the reviewer's, " (figures.reviewed_documents) " documents: accuracy " (percent(figures.reviewed.accuracy)) ", macro F1 " (percent(figures.reviewed.macro_f1)) "." }
                table #per-class {
                    thead { tr { th scope="col" { "Type" } th scope="col" { "Documents" } th scope="col" { "Precision" } th scope="col" { "Recall" } th scope="col" { "F1" } } }
                    tbody { @for (class, m) in &figures.reviewed.per_class { tr { th scope="row" { (class) } td { (m.support) } td { (percent(m.precision)) } td { (percent(m.recall)) } td { (percent(m.f1)) } } } }
                }
                figure { (trusted_svg(charts::confusion_svg(&figures.reviewed.confusion))) figcaption { "Confusion: rows are reviewers' types, columns the model's." } }
            }
        }
        section aria-labelledby="h-models" {
            h2 #h-models { "Model versions" }
            @if list.models.is_empty() {
                p.empty { "Only the deployment's model " code { (short(&list.deployment_model)) } " so far." }
            } @else {
                table #dashboard-models {
                    thead { tr { th scope="col" { "Model" } th scope="col" { "State" } th scope="col" { "Held-back accuracy" } th scope="col" { "Champion it faced" } th scope="col" { "Trained" } } }
                    tbody { @for m in &list.models { tr { td { code { (short(&m.model_id)) } } td { span.badge.champion[m.state == "champion"] { (m.state) } } td { (held_back_accuracy(&m.report, "challenger")) } td { (held_back_accuracy(&m.report, "champion")) } td { (m.created_at) } } } }
                }
            }
        }
    };
    Ok(shell("Dashboard", Some(&principal), "/ui/dashboard", body))
}
