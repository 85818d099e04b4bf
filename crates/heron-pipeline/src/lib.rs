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

mod combine;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use heron_classify::{Taxonomy, TextModel, features, filename};
use heron_core::{
    ClassificationResult, DecidedBy, Evidence, Label, LabelPathLevel, Notice, NoticeCode,
    StageConfidences,
};
use heron_extract::{Extraction, ExtractionLimits, Extractor, FileKind, OcrEngine};

pub use combine::combine;

/// Thresholds and limits of a pipeline.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub confidence_threshold: f64,
    pub early_exit_confidence: f64,
    pub limits: ExtractionLimits,
    /// `PIPELINE_VERSION` when set; otherwise the version names Heron and the model.
    pub pipeline_version: Option<String>,
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
    /// Places labels in the industry → family → type tree.
    taxonomy: Taxonomy,
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
            taxonomy,
            extractor,
            ocr,
            model: RwLock::new(Arc::new(model)),
        }
    }

    pub fn ocr(&self) -> &OcrEngine {
        &self.ocr
    }

    /// The active model.
    pub fn model(&self) -> Arc<TextModel> {
        // A poisoned lock only means a writer panicked mid-swap of an Arc,
        // which cannot leave the Arc itself half-written.
        self.model.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Make `model` the active model for every later file.
    pub fn set_model(&self, model: TextModel) {
        *self.model.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(model);
    }

    /// The `pipeline_version` reported in results.
    pub fn version(&self) -> String {
        match &self.config.pipeline_version {
            Some(version) => version.clone(),
            None => format!("heron-{}+{}", heron_core::HERON_VERSION, self.model().id()),
        }
    }

    /// Classify one file. Never fails: problems become notices.
    pub fn classify(&self, input: &FileInput<'_>) -> ClassificationResult {
        let started = Instant::now();
        let model = self.model();
        let mut run = Run::new(&model, input);
        self.run_stages(input, &model, &mut run);
        run.finish(self, &model, input, started)
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

        let extraction_started = Instant::now();
        let extraction = self
            .extractor
            .extract(input.path, kind, &self.config.limits);
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

        // Metadata stage: document properties and the first lines, which
        // usually carry the title ("INVOICE", "Account Statement").
        let heading = heading_text(&extraction);
        if heron_extract::has_meaningful_text(&heading) {
            run.metadata = Some(self.score_text(model, &heading, format, &mut run.scored_text));
        }
        if run.stage_max(&run.metadata) >= self.config.early_exit_confidence {
            run.early_exit = Some(DecidedBy::Metadata);
            run.warnings.extend(extraction.warnings);
            return;
        }

        // Text stage: the whole text layer.
        if extraction.has_text() {
            run.text =
                Some(self.score_text(model, &extraction.text(), format, &mut run.scored_text));
            if run.stage_max(&run.text) >= self.config.early_exit_confidence {
                run.early_exit = Some(DecidedBy::TextModel);
                run.warnings.extend(extraction.warnings);
                return;
            }
        }

        // OCR stage: images, and PDF pages without a usable text layer.
        if heron_extract::needs_ocr(kind, &extraction) {
            let ocr_started = Instant::now();
            let outcome = self.run_ocr(input.path, kind, &mut extraction, deadline);
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
                    if extraction.has_text() {
                        run.ocr = Some(self.score_text(
                            model,
                            &extraction.text(),
                            format,
                            &mut run.scored_text,
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

    fn score_text(
        &self,
        model: &TextModel,
        text: &str,
        format: &str,
        scored: &mut Option<String>,
    ) -> Vec<f64> {
        let started = Instant::now();
        let input = features::with_format_marker(text, format);
        let probabilities = model.predict(&input).probabilities;
        *scored = Some(input);
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
/// extract` uses it directly.
pub fn extract_file(
    extractor: &Extractor,
    ocr: &OcrEngine,
    limits: &ExtractionLimits,
    path: &Path,
    filename: &str,
) -> Result<ExtractedFile, heron_extract::ExtractError> {
    let kind = heron_extract::sniff_file(path, extension(filename))?;
    let deadline = limits.deadline_from(Instant::now());
    let mut extraction = extractor.extract(path, kind, limits)?;
    ocr_within(
        extractor,
        ocr,
        limits,
        path,
        kind,
        &mut extraction,
        deadline,
    )?;
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

/// The state of one classification as stages run.
struct Run {
    labels: Vec<Label>,
    kind: Option<FileKind>,
    filename_hint: Option<(usize, f64)>,
    metadata: Option<Vec<f64>>,
    text: Option<Vec<f64>>,
    ocr: Option<Vec<f64>>,
    /// The model input of the last content stage that ran (text with its
    /// format marker), for the evidence of the decision.
    scored_text: Option<String>,
    early_exit: Option<DecidedBy>,
    page_count: Option<u32>,
    language: Option<String>,
    warnings: Vec<Notice>,
    errors: Vec<Notice>,
}

impl Run {
    fn new(model: &TextModel, input: &FileInput<'_>) -> Run {
        let labels = model.labels().to_vec();
        let filename_hint =
            filename::hint(input.filename, |l| labels.iter().any(|k| k.as_str() == l)).and_then(
                |hint| {
                    let index = labels.iter().position(|k| k.as_str() == hint.label)?;
                    Some((index, hint.confidence))
                },
            );
        Run {
            labels,
            kind: None,
            filename_hint,
            metadata: None,
            text: None,
            ocr: None,
            scored_text: None,
            early_exit: None,
            page_count: None,
            language: None,
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn stage_max(&self, stage: &Option<Vec<f64>>) -> f64 {
        stage
            .as_ref()
            .map_or(0.0, |p| p.iter().copied().fold(0.0, f64::max))
    }

    /// The content distribution that speaks last and loudest: OCR text when
    /// OCR ran, else the text layer, else the heading.
    fn content(&self) -> Option<(&[f64], DecidedBy)> {
        if let Some(ocr) = &self.ocr {
            return Some((ocr, DecidedBy::OcrTextModel));
        }
        if let Some(text) = &self.text {
            return Some((text, DecidedBy::TextModel));
        }
        self.metadata.as_deref().map(|m| (m, DecidedBy::Metadata))
    }

    fn finish(
        mut self,
        pipeline: &Pipeline,
        model: &TextModel,
        input: &FileInput<'_>,
        started: Instant,
    ) -> ClassificationResult {
        let n = self.labels.len();
        let (probabilities, decided_by) = if !self.errors.is_empty() {
            (vec![0.0; n], DecidedBy::Nothing)
        } else {
            match (self.content(), self.filename_hint) {
                (Some((content, stage)), hint) => {
                    let combined = combine(content, hint, n);
                    let flipped = argmax(&combined) != argmax(content);
                    (
                        combined,
                        if flipped {
                            DecidedBy::Ensemble
                        } else {
                            self.early_exit.unwrap_or(stage)
                        },
                    )
                }
                (None, Some(hint)) => (combine::name_prior(hint, n), DecidedBy::Filename),
                (None, None) => (vec![0.0; n], DecidedBy::Nothing),
            }
        };
        let best = argmax(&probabilities);
        let confidence = probabilities.get(best).copied().unwrap_or(0.0);
        let predicted = self
            .labels
            .get(best)
            .map(|l| l.as_str().to_owned())
            .unwrap_or_default();
        let label = if decided_by == DecidedBy::Nothing
            || confidence < pipeline.config.confidence_threshold
        {
            if decided_by != DecidedBy::Nothing {
                self.warnings.push(Notice::new(
                    NoticeCode::LowConfidence,
                    format!(
                        "best guess {predicted} at {confidence:.2} is below the threshold {:.2}",
                        pipeline.config.confidence_threshold
                    ),
                ));
            }
            Label::UNSURE.to_owned()
        } else {
            predicted.clone()
        };
        if let Some((hinted, _)) = self.filename_hint
            && hinted != best
            && decided_by != DecidedBy::Nothing
        {
            self.warnings.push(Notice::new(
                NoticeCode::FilenameDisagrees,
                format!(
                    "the file name suggests {} but the content says {predicted}",
                    self.labels[hinted]
                ),
            ));
        }
        let class_confidences: BTreeMap<String, f64> = self
            .labels
            .iter()
            .zip(&probabilities)
            .map(|(l, p)| (l.as_str().to_owned(), round(*p)))
            .collect();
        let evidence = match (&self.scored_text, decided_by) {
            (_, DecidedBy::Nothing | DecidedBy::Filename) | (None, _) => Vec::new(),
            (Some(text), _) => model
                .explain(text, best, 5)
                .into_iter()
                .map(|(term, weight)| Evidence {
                    term,
                    weight: round(weight),
                })
                .collect(),
        };
        let label_path = if decided_by == DecidedBy::Nothing {
            Vec::new()
        } else {
            let raw: BTreeMap<String, f64> = self
                .labels
                .iter()
                .zip(&probabilities)
                .map(|(l, p)| (l.as_str().to_owned(), *p))
                .collect();
            pipeline
                .taxonomy
                .label_path(&predicted, &raw)
                .into_iter()
                .map(|level| LabelPathLevel {
                    level: level.level.to_owned(),
                    id: level.id,
                    confidence: round(level.confidence),
                })
                .collect()
        };
        metrics::counter!("heron_files_classified_total", "label" => label.clone(), "decided_by" => decided_by_name(decided_by)).increment(1);

        ClassificationResult {
            filename: input.filename.to_owned(),
            mime_type: self
                .kind
                .map_or("application/octet-stream", FileKind::mime_type)
                .to_owned(),
            size_bytes: input.size_bytes,
            label,
            confidence: round(confidence),
            stage_confidences: StageConfidences {
                stage_filename: self.filename_hint.map(|(_, c)| c),
                stage_metadata: self
                    .metadata
                    .as_ref()
                    .map(|_| round(self.stage_max(&self.metadata))),
                stage_text: self
                    .text
                    .as_ref()
                    .map(|_| round(self.stage_max(&self.text))),
                stage_ocr: self.ocr.as_ref().map(|_| round(self.stage_max(&self.ocr))),
            },
            pipeline_version: pipeline.version(),
            processing_ms: round(started.elapsed().as_secs_f64() * 1000.0),
            request_id: input.request_id.to_owned(),
            warnings: self.warnings,
            errors: self.errors,
            document_id: None,
            sha256: input.sha256.to_owned(),
            class_confidences,
            predicted_label: predicted,
            decided_by,
            page_count: self.page_count,
            language: self.language,
            cached: false,
            label_path,
            evidence,
        }
    }
}

fn argmax(values: &[f64]) -> usize {
    values
        .iter()
        .enumerate()
        .fold(
            (0, f64::MIN),
            |best, (i, &v)| if v > best.1 { (i, v) } else { best },
        )
        .0
}

fn round(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

fn decided_by_name(decided_by: DecidedBy) -> &'static str {
    match decided_by {
        DecidedBy::Filename => "filename",
        DecidedBy::Metadata => "metadata",
        DecidedBy::TextModel => "text_model",
        DecidedBy::OcrTextModel => "ocr_text_model",
        DecidedBy::Ensemble => "ensemble",
        DecidedBy::Nothing => "nothing",
    }
}
