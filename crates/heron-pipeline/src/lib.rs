//! The classification pipeline for one file.
//!
//! Stages run in the original service's order — file name, metadata, text
//! layer, OCR — and stop early once a content stage reaches
//! `EARLY_EXIT_CONFIDENCE`. Content decides: the file name is a weak prior
//! blended into the content's probabilities (see [`combine`]), so a
//! misleading name can tip an uncertain document but never flip a
//! confident one. Below `CONFIDENCE_THRESHOLD` the label is `unsure`.
//!
//! [`Pipeline::classify`] never fails: every problem with a file becomes a
//! notice in its result, so one bad file cannot fail a batch.

pub mod combine;
mod decision;
pub mod semantic;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use heron_classify::{Prediction, Reading, Taxonomy, TextModel, features, filename};

use decision::Run;
use heron_core::understanding::{PacketDocument, Understanding};
use heron_core::{ClassificationResult, DecidedBy, Notice, NoticeCode};
use heron_extract::{Extraction, ExtractionLimits, Extractor, FileKind, OcrEngine};

pub use combine::combine;

/// Thresholds and limits of a pipeline.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub confidence_threshold: f64,
    /// `HERON_TARGET_ERROR_RATE`: when set, the confidence cut-off is the one
    /// that meets this error rate on the model's recorded risk–coverage
    /// curve (see [`Pipeline::abstention`]) instead of `confidence_threshold`.
    pub target_error_rate: Option<f64>,
    pub early_exit_confidence: f64,
    pub limits: ExtractionLimits,
    /// `PIPELINE_VERSION` when set; otherwise the version names Heron and the model.
    pub pipeline_version: Option<String>,
}

/// The auto-accept policy of a pipeline for one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Abstention {
    /// Results below this confidence are `unsure`.
    pub confidence_threshold: f64,
    pub target_error_rate: Option<f64>,
    /// Share of documents auto-accepted at the threshold, as measured.
    pub expected_coverage: Option<f64>,
    /// Error rate among them, as measured.
    pub expected_error_rate: Option<f64>,
    /// What the curve was measured on.
    pub measured_on: Option<String>,
}

/// One file to classify: where its bytes are and what the client called it.
#[derive(Debug, Clone)]
pub struct FileInput<'a> {
    pub path: &'a Path,
    pub filename: &'a str,
    pub size_bytes: u64,
    pub sha256: &'a str,
    pub request_id: &'a str,
}

/// A result with the text it was read from.
#[derive(Debug, Clone, Default)]
pub struct Classified {
    pub result: ClassificationResult,
    /// Pages separated by form feeds; empty when nothing was read.
    pub text: String,
    /// Word boxes of the pages that have them.
    pub layout: Vec<heron_extract::PageLayout>,
}

/// Extraction plus the detected type, for `heron extract` and the pipeline.
#[derive(Debug, Clone)]
pub struct ExtractedFile {
    pub kind: FileKind,
    pub extraction: Extraction,
}

/// The pipeline: extraction, OCR and the active model. Cheap to share
/// between threads; the model can be swapped while it runs.
#[derive(Debug)]
pub struct Pipeline {
    config: PipelineConfig,
    extractor: Extractor,
    ocr: OcrEngine,
    model: RwLock<Arc<TextModel>>,
    /// Tenants' own promoted models (trained from their reviews); a
    /// tenant without one gets `model`.
    tenant_models: RwLock<HashMap<String, Arc<TextModel>>>,
    /// Places labels in the industry → family → type tree.
    taxonomy: Taxonomy,
    /// File-name hints of the taxonomy's types.
    names: filename::NamePatterns,
    /// Sentence embeddings, when a model is configured.
    semantic: Option<semantic::SemanticStage>,
}

impl Pipeline {
    pub fn new(
        config: PipelineConfig,
        extractor: Extractor,
        ocr: OcrEngine,
        model: TextModel,
        taxonomy: Taxonomy,
    ) -> Self {
        Pipeline {
            config,
            names: filename::NamePatterns::of(&taxonomy),
            taxonomy,
            extractor,
            ocr,
            model: RwLock::new(Arc::new(model)),
            tenant_models: RwLock::new(HashMap::new()),
            semantic: None,
        }
    }

    /// Add the semantic stage (see [`semantic`]).
    pub fn with_semantic(mut self, stage: semantic::SemanticStage) -> Pipeline {
        self.semantic = Some(stage);
        self
    }

    /// The semantic stage, when configured.
    pub fn semantic(&self) -> Option<&semantic::SemanticStage> {
        self.semantic.as_ref()
    }

    pub fn ocr(&self) -> &OcrEngine {
        &self.ocr
    }

    /// Detect the type of a file and extract its text (OCR included)
    /// under this pipeline's limits, without classifying it.
    pub fn extract(
        &self,
        path: &Path,
        filename: &str,
    ) -> Result<ExtractedFile, heron_extract::ExtractError> {
        extract_file(
            &self.extractor,
            || Ok(self.ocr.clone()),
            &self.config.limits,
            path,
            filename,
        )
    }

    /// A page of a stored file as PNG for a reviewer, rendered where text
    /// is extracted (a fenced child when isolated), under this pipeline's
    /// limits. `Ok(None)`: no such page, or not a PDF or image.
    pub fn render_page(
        &self,
        path: &Path,
        page: u32,
        max_side: u32,
    ) -> Result<Option<Vec<u8>>, heron_extract::ExtractError> {
        self.extractor
            .render_page(path, page, max_side, &self.config.limits)
    }

    /// A PDF with a provenance `line` stamped on it, made where text is
    /// extracted (a fenced child when isolated).
    pub fn stamp_pdf(
        &self,
        path: &Path,
        line: &str,
    ) -> Result<Vec<u8>, heron_extract::ExtractError> {
        self.extractor.stamp_pdf(path, line, &self.config.limits)
    }

    /// The active model.
    pub fn model(&self) -> Arc<TextModel> {
        // A poisoned lock only means a writer panicked mid-swap of an Arc,
        // which cannot leave the Arc itself half-written.
        self.model.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The taxonomy labels are placed in.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// Make `model` the active model for every later file.
    pub fn set_model(&self, model: TextModel) {
        *self.model.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(model);
    }

    /// The model that classifies `tenant`'s files: its own promoted model,
    /// else the deployment's.
    pub fn model_for(&self, tenant: &str) -> Arc<TextModel> {
        let own = self
            .tenant_models
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(tenant)
            .cloned();
        own.unwrap_or_else(|| self.model())
    }

    /// The tenants' own models now in force (by tenant), replacing the
    /// previous set; files already being classified finish with theirs.
    pub fn set_tenant_models(&self, models: HashMap<String, Arc<TextModel>>) {
        *self
            .tenant_models
            .write()
            .unwrap_or_else(|e| e.into_inner()) = models;
    }

    /// The ids of the tenants' own models, by tenant.
    pub fn tenant_model_ids(&self) -> HashMap<String, String> {
        self.tenant_models
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(tenant, model)| (tenant.clone(), model.id().to_owned()))
            .collect()
    }

    /// How `model` is held to account: the confidence cut-off for
    /// auto-accepting its answers and, under a target error rate, the
    /// coverage and error rate measured at that cut-off.
    pub fn abstention(&self, model: &TextModel) -> Abstention {
        let Some(target) = self.config.target_error_rate else {
            return Abstention {
                confidence_threshold: self.config.confidence_threshold,
                target_error_rate: None,
                expected_coverage: None,
                expected_error_rate: None,
                measured_on: None,
            };
        };
        let curve = model.header().risk_coverage.as_ref();
        match curve.and_then(|c| Some((c, c.cutoff_for(target)?))) {
            Some((curve, cutoff)) => Abstention {
                confidence_threshold: cutoff.cutoff,
                target_error_rate: Some(target),
                expected_coverage: Some(cutoff.coverage),
                expected_error_rate: Some(cutoff.risk),
                measured_on: Some(format!("{} ({} documents)", curve.source, curve.documents)),
            },
            // No measured cut-off meets the target: accept nothing rather
            // than promise an error rate nobody measured.
            None => Abstention {
                confidence_threshold: 1.0,
                target_error_rate: Some(target),
                expected_coverage: Some(0.0),
                expected_error_rate: None,
                measured_on: Some(match curve {
                    Some(c) => format!("{}: no cut-off meets the target", c.source),
                    None => "the model records no risk–coverage curve".to_owned(),
                }),
            },
        }
    }

    /// What a file's result depends on besides its bytes: the model, the
    /// taxonomy, how extraction and features work, every setting of the
    /// pipeline, and the file's name (a weak hint, and the result's
    /// `filename`). Two uploads with equal bytes and equal keys get the same
    /// result, so a stored one can be reused (`cached: true`).
    pub fn result_key(&self, filename: &str) -> String {
        self.result_key_with(filename, &self.model())
    }

    /// [`Pipeline::result_key`] for a file classified by `model`.
    pub fn result_key_with(&self, filename: &str, model: &TextModel) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for part in [
            heron_core::HERON_VERSION,
            model.id(),
            &self.taxonomy.hash,
            heron_extract::EXTRACTION_VERSION,
            features::FEATURE_VERSION,
            &format!("{:?}", self.config),
            filename,
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hex::encode(hasher.finalize())
    }

    /// [`Pipeline::result_key_with`] for a document of `tenant`: also
    /// names the tenant's semantic index (its types and examples), so a
    /// result made before an example was taught is not reused after.
    pub fn result_key_for(&self, filename: &str, model: &TextModel, tenant: &str) -> String {
        let key = self.result_key_with(filename, model);
        match &self.semantic {
            Some(stage) => {
                use sha2::{Digest, Sha256};
                // Without an index the stage fails on this document; the
                // key still names the model, so another model's is not taken.
                let version = stage.index_for(tenant).map_or_else(
                    |_| format!("unavailable:{}", stage.model_id()),
                    |index| index.version(),
                );
                hex::encode(Sha256::digest(format!("{key}\0{version}").as_bytes()))
            }
            None => key,
        }
    }

    /// The `pipeline_version` reported in results.
    pub fn version(&self) -> String {
        self.version_with(&self.model())
    }

    /// The `pipeline_version` of a result of `model`.
    pub fn version_with(&self, model: &TextModel) -> String {
        match &self.config.pipeline_version {
            Some(version) => version.clone(),
            None => format!("heron-{}+{}", heron_core::HERON_VERSION, model.id()),
        }
    }

    /// Classify one file. Never fails: problems become notices.
    pub fn classify(&self, input: &FileInput<'_>) -> ClassificationResult {
        self.classify_document(input).result
    }

    /// Classify one file and keep its text (pages separated by form
    /// feeds), with the personal data found in it counted on the result.
    pub fn classify_document(&self, input: &FileInput<'_>) -> Classified {
        self.classify_document_with(input, self.model())
    }

    /// [`Pipeline::classify_document`] with `model` (a tenant's, see
    /// [`Pipeline::model_for`]).
    pub fn classify_document_with(
        &self,
        input: &FileInput<'_>,
        model: Arc<TextModel>,
    ) -> Classified {
        self.classify_document_for(input, model, "")
    }

    /// [`Pipeline::classify_document_with`] for a document of `tenant`,
    /// whose own types and examples the semantic stage knows.
    pub fn classify_document_for(
        &self,
        input: &FileInput<'_>,
        model: Arc<TextModel>,
        tenant: &str,
    ) -> Classified {
        // Spans of the pipeline and each stage: with tracing exported
        // (OTLP), they hang under the task's span, itself under the
        // request that uploaded the file.
        let _span = tracing::info_span!("pipeline", size_bytes = input.size_bytes).entered();
        let started = Instant::now();
        let mut run = Run::new(&model, &self.names, input);
        self.run_stages(input, &model, &mut run);
        self.run_semantic(&model, tenant, &mut run);
        let text = run.pages.join("\u{c}");
        let layout = std::mem::take(&mut run.layout);
        let mut result = run.finish(self, &model, input, started);
        result.pii = tracing::info_span!("stage.pii")
            .in_scope(|| heron_pii::summary(&heron_pii::detect(&text)));
        Classified {
            result,
            text,
            layout,
        }
    }

    /// What the document says: the fields its type declares, entities,
    /// tables, segments and, for a document of several pages, the
    /// documents it is made of (each page classified on its own, see
    /// [`heron_understand::split`]), each with its own fields. `text` is
    /// [`Classified::text`] (pages separated by form feeds); `layout` may
    /// be empty (spans then carry no boxes).
    pub fn understand(
        &self,
        label: &str,
        text: &str,
        layout: &[heron_extract::PageLayout],
    ) -> Understanding {
        self.understand_with(label, text, layout, &self.model())
    }

    /// [`Pipeline::understand`], pages of a packet classified by `model`.
    pub fn understand_with(
        &self,
        label: &str,
        text: &str,
        layout: &[heron_extract::PageLayout],
        model: &TextModel,
    ) -> Understanding {
        let _span = tracing::info_span!("stage.understand").entered();
        let started = Instant::now();
        let pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
        let mut understanding =
            heron_understand::understand(&pages, layout, self.taxonomy.fields_of(label));
        if pages.len() > 1 {
            understanding.documents = self.split_packet(&pages, layout, model);
        }
        metrics::histogram!("heron_understanding_seconds").record(started.elapsed().as_secs_f64());
        understanding
    }

    /// The documents of a multi-page file, each page classified on its own.
    fn split_packet(
        &self,
        pages: &[String],
        layout: &[heron_extract::PageLayout],
        model: &TextModel,
    ) -> Vec<PacketDocument> {
        use heron_understand::split::{PageVerdict, page_marker, split};
        let labels = model.labels();
        let verdicts: Vec<PageVerdict> = pages
            .iter()
            .map(|page| {
                let probabilities = if heron_extract::has_meaningful_text(page) {
                    model
                        .predict(&features::with_signals(page, "pdf"))
                        .probabilities
                } else {
                    Vec::new()
                };
                let best = probabilities
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .and_then(|(i, _)| labels.get(i));
                let specs = best.map_or(&[][..], |l| self.taxonomy.fields_of(l.as_str()));
                PageVerdict {
                    fields: heron_understand::fields::labelled_fields(page, specs),
                    probabilities,
                    text_chars: page.chars().count(),
                    page_marker: page_marker(page),
                }
            })
            .collect();
        split(&verdicts)
            .into_iter()
            .map(|part| {
                let label = labels
                    .get(part.label)
                    .map_or_else(String::new, |l| l.as_str().to_owned());
                let range = &pages[part.first..=part.last];
                // The part's own pages, renumbered from 1 for reading,
                // then placed back at their page numbers.
                let part_layout: Vec<heron_extract::PageLayout> = layout
                    .iter()
                    .filter(|l| {
                        (l.page as usize) > part.first && (l.page as usize) <= part.last + 1
                    })
                    .map(|l| heron_extract::PageLayout {
                        page: l.page - part.first as u32,
                        words: l.words.clone(),
                    })
                    .collect();
                let mut fields = heron_understand::understand(
                    range,
                    &part_layout,
                    self.taxonomy.fields_of(&label),
                )
                .fields;
                let offset = part.first as u32;
                for value in fields.values.values_mut() {
                    value.source.page += offset;
                }
                for table in fields.tables.values_mut() {
                    table.page += offset;
                }
                PacketDocument {
                    pages: [part.first as u32 + 1, part.last as u32 + 1],
                    label,
                    confidence: (part.confidence * 1000.0).round() / 1000.0,
                    fields,
                }
            })
            .collect()
    }

    fn run_stages(&self, input: &FileInput<'_>, model: &TextModel, run: &mut Run) {
        let deadline = self.config.limits.deadline_from(Instant::now());
        let kind = match heron_extract::sniff_file(input.path, extension(input.filename)) {
            Ok(kind) => kind,
            Err(e) => {
                run.errors.push(Notice::new(
                    NoticeCode::ExtractionFailed,
                    format!("could not read the file: {e}"),
                ));
                return;
            }
        };
        run.kind = Some(kind);
        if let Some(ext) = extension(input.filename)
            && !kind.matches_extension(ext)
        {
            run.warnings.push(Notice::new(
                NoticeCode::TypeMismatch,
                format!(
                    "the name says .{ext} but the content is {}; the content was used",
                    kind.mime_type()
                ),
            ));
        }
        let format = features::format_of_mime(kind.mime_type());
        run.format = format;

        let extraction_started = Instant::now();
        let extraction =
            tracing::info_span!("stage.extract", kind = kind.mime_type()).in_scope(|| {
                self.extractor
                    .extract(input.path, kind, &self.config.limits)
            });
        metrics::histogram!("heron_extraction_seconds")
            .record(extraction_started.elapsed().as_secs_f64());
        let mut extraction = match extraction {
            Ok(extraction) => extraction,
            Err(e) => {
                run.errors.push(e.to_notice());
                return;
            }
        };
        run.page_count = extraction.page_count;
        run.language = extraction.language.clone();
        run.pages = extraction.pages.clone();
        run.layout = extraction.layout.clone();

        // Metadata stage: document properties and the first lines, which
        // usually carry the title ("INVOICE", "Account Statement").
        let heading = heading_text(&extraction);
        if heron_extract::has_meaningful_text(&heading) {
            run.metadata = Some(self.score_text(
                "stage.metadata",
                model,
                &heading,
                format,
                Reading::TextLayer,
                &mut run.scored,
            ));
        }
        // Pages still to read by OCR (a scan among text pages) are read
        // even when the type is already clear: what they say counts.
        let ocr_pending = heron_extract::needs_ocr(kind, &extraction);
        if run.stage_max(&run.metadata) >= self.config.early_exit_confidence && !ocr_pending {
            run.early_exit = Some(DecidedBy::Metadata);
            run.warnings.extend(extraction.warnings);
            return;
        }

        // Text stage: the whole text layer.
        if extraction.has_text() {
            run.text = Some(self.score_text(
                "stage.text",
                model,
                &extraction.text(),
                format,
                Reading::TextLayer,
                &mut run.scored,
            ));
            if run.stage_max(&run.text) >= self.config.early_exit_confidence && !ocr_pending {
                run.early_exit = Some(DecidedBy::TextModel);
                run.warnings.extend(extraction.warnings);
                return;
            }
        }

        // OCR stage: images, and PDF pages without a usable text layer.
        if heron_extract::needs_ocr(kind, &extraction) {
            let ocr_started = Instant::now();
            let outcome = tracing::info_span!("stage.ocr")
                .in_scope(|| self.run_ocr(input.path, kind, &mut extraction, deadline));
            metrics::histogram!("heron_ocr_seconds").record(ocr_started.elapsed().as_secs_f64());
            match outcome {
                Ok(()) if extraction.ocr_used => {
                    run.warnings.push(Notice::new(
                        NoticeCode::OcrUsed,
                        match extraction.ocr_confidence {
                            Some(c) => {
                                format!("text read by OCR (mean word confidence {:.0}%)", c * 100.0)
                            }
                            None => "text read by OCR (no words found)".to_owned(),
                        },
                    ));
                    run.language = extraction.language.clone();
                    run.pages = extraction.pages.clone();
                    run.layout = extraction.layout.clone();
                    if extraction.has_text() {
                        run.ocr = Some(self.score_text(
                            "stage.ocr_text",
                            model,
                            &extraction.text(),
                            format,
                            Reading::Ocr,
                            &mut run.scored,
                        ));
                    }
                }
                Ok(()) => {}
                Err(e) if run.text.is_some() => run.warnings.push(e.to_notice()),
                Err(e) => run.errors.push(e.to_notice()),
            }
        }
        run.warnings.extend(extraction.warnings);
        if run.text.is_none() && run.ocr.is_none() && run.errors.is_empty() {
            run.warnings.push(Notice::new(
                NoticeCode::NoText,
                "no text could be extracted from the file",
            ));
        }
    }

    /// The semantic stage, when configured and needed (the cascade):
    /// the document's text against the tenant's semantic index.
    fn run_semantic(&self, model: &TextModel, tenant: &str, run: &mut Run) {
        let Some(stage) = &self.semantic else {
            return;
        };
        if !run.errors.is_empty() || run.pages.iter().all(|p| p.trim().is_empty()) {
            return;
        }
        let index = match stage.index_for(tenant) {
            Ok(index) => index,
            Err(e) => {
                run.warnings.push(Notice::new(
                    NoticeCode::InternalError,
                    format!("the semantic stage failed, the other stages decided: {e}"),
                ));
                return;
            }
        };
        let needed = stage.needed(run.content_confidence(), &index, model.labels());
        metrics::counter!("heron_semantic_stage_total", "ran" => if needed { "yes" } else { "no" })
            .increment(1);
        if !needed {
            return;
        }
        let text = run.pages.join("\n\n");
        match tracing::info_span!("stage.semantic").in_scope(|| stage.read(&text, &index)) {
            Ok(reading) => run.semantic = reading,
            Err(e) => run.warnings.push(Notice::new(
                NoticeCode::InternalError,
                format!("the semantic stage failed, the other stages decided: {e}"),
            )),
        }
    }

    /// Classify `text`; `stage` names the span (`stage.metadata`,
    /// `stage.text`, `stage.ocr_text`).
    fn score_text(
        &self,
        stage: &'static str,
        model: &TextModel,
        text: &str,
        format: &str,
        reading: Reading,
        scored: &mut Option<(String, Prediction)>,
    ) -> Vec<f64> {
        let _span = tracing::info_span!("stage", otel.name = stage).entered();
        let started = Instant::now();
        let input = features::with_signals(text, format);
        let prediction = model.predict_read(&input, reading);
        let probabilities = prediction.probabilities.clone();
        *scored = Some((input, prediction));
        metrics::histogram!("heron_classification_seconds").record(started.elapsed().as_secs_f64());
        probabilities
    }

    /// OCR what the text layer lacked, in the extraction children, within
    /// what is left of the file's deadline.
    fn run_ocr(
        &self,
        path: &Path,
        kind: FileKind,
        extraction: &mut Extraction,
        deadline: Instant,
    ) -> Result<(), heron_extract::ExtractError> {
        ocr_within(
            &self.extractor,
            &self.ocr,
            &self.config.limits,
            path,
            kind,
            extraction,
            deadline,
        )
    }
}

/// Properties and the first non-empty lines of the first page.
fn heading_text(extraction: &Extraction) -> String {
    let mut heading: Vec<&str> = ["title", "subject", "keywords"]
        .iter()
        .filter_map(|key| extraction.metadata.get(*key).map(String::as_str))
        .collect();
    if let Some(first) = extraction.pages.first() {
        heading.extend(
            first
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .take(5),
        );
    }
    heading.join("\n")
}

/// Detect the type of a file and extract its text, with OCR where it has no
/// usable text layer, all within one deadline. Needs no model: `heron
/// extract` uses it directly. `ocr` gives the engine, called only when
/// the file needs OCR (a text file starts no OCR engine, not even the
/// check of its languages).
pub fn extract_file(
    extractor: &Extractor,
    ocr: impl FnOnce() -> Result<OcrEngine, heron_extract::ExtractError>,
    limits: &ExtractionLimits,
    path: &Path,
    filename: &str,
) -> Result<ExtractedFile, heron_extract::ExtractError> {
    let kind = heron_extract::sniff_file(path, extension(filename))?;
    let deadline = limits.deadline_from(Instant::now());
    let mut extraction = extractor.extract(path, kind, limits)?;
    if heron_extract::needs_ocr(kind, &extraction) {
        ocr_within(
            extractor,
            &ocr()?,
            limits,
            path,
            kind,
            &mut extraction,
            deadline,
        )?;
    }
    Ok(ExtractedFile { kind, extraction })
}

/// OCR what `extraction` lacks within what is left of `deadline`.
fn ocr_within(
    extractor: &Extractor,
    ocr: &OcrEngine,
    limits: &ExtractionLimits,
    path: &Path,
    kind: FileKind,
    extraction: &mut Extraction,
    deadline: Instant,
) -> Result<(), heron_extract::ExtractError> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(heron_extract::ExtractError::Timeout {
            seconds: limits.timeout.as_secs_f64(),
        });
    }
    let limits = ExtractionLimits {
        timeout: remaining,
        ..limits.clone()
    };
    let current = std::mem::take(extraction);
    *extraction = extractor.ocr(path, kind, current, ocr, &limits)?;
    Ok(())
}

fn extension(filename: &str) -> Option<&str> {
    Path::new(filename).extension().and_then(|e| e.to_str())
}

fn decided_by_name(decided_by: DecidedBy) -> &'static str {
    match decided_by {
        DecidedBy::Filename => "filename",
        DecidedBy::Metadata => "metadata",
        DecidedBy::TextModel => "text_model",
        DecidedBy::OcrTextModel => "ocr_text_model",
        DecidedBy::Semantic => "semantic",
        DecidedBy::Ensemble => "ensemble",
        DecidedBy::Nothing => "nothing",
    }
}
