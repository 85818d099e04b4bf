//! From the stages' outputs to a result: which label, how sure, whether the
//! document is like any known type at all, which other types it is also
//! of, and the evidence.

use std::collections::BTreeMap;
use std::time::Instant;

use heron_classify::features::{self, Coverage};
use heron_classify::ood::{self, Familiarity, OodConfig};
use heron_classify::{Prediction, TextModel, filename};
use heron_core::{
    Alternative, ClassificationResult, DecidedBy, Evidence, Explanation, Label, LabelPathLevel,
    Notice, NoticeCode, StageConfidences, TextLocation,
};
use heron_extract::FileKind;

use crate::combine::{self, combine};
use crate::semantic::SemanticReading;

/// A type the linear model lacks is accepted on the semantic stage's word
/// when the document is at least this similar to it (its examples less
/// their offset, or its description). Measured on the real `train`
/// documents with each type in turn taught as new
/// (`examples/few_shot_real.rs`, bench/README.md): with the pooling's
/// group weight 2 it answers 57 % of the taught type's documents and
/// pulls 0.39 % of other documents into it; a line on the closeness
/// without the offset answers more and pulls in far more (0.45: 78 % and
/// 1.96 %).
const SEMANTIC_FAMILIAR: f32 = 0.45;
use crate::{FileInput, Pipeline};

/// Evidence terms kept with every result.
const SHORT_EVIDENCE: usize = 5;
/// Alternatives and terms per alternative of the long form.
const EXPLAINED_ALTERNATIVES: usize = 3;
const EXPLAINED_TERMS: usize = 15;

/// The state of one classification as stages run.
pub(crate) struct Run {
    pub(crate) labels: Vec<Label>,
    pub(crate) kind: Option<FileKind>,
    /// Container format of the file, as the model's features name it.
    pub(crate) format: &'static str,
    pub(crate) filename_hint: Option<(usize, f64)>,
    pub(crate) metadata: Option<Vec<f64>>,
    pub(crate) text: Option<Vec<f64>>,
    pub(crate) ocr: Option<Vec<f64>>,
    /// The model input of the last content stage that ran (text with its
    /// signal tokens) and the model's reading of it, for the evidence of
    /// the decision.
    pub(crate) scored: Option<(String, Prediction)>,
    /// The document's pages as last extracted (after OCR when it ran).
    pub(crate) pages: Vec<String>,
    pub(crate) layout: Vec<heron_extract::PageLayout>,
    pub(crate) early_exit: Option<DecidedBy>,
    /// The semantic stage's reading, when it ran.
    pub(crate) semantic: Option<SemanticReading>,
    /// How many of `labels` the linear model has (the semantic stage may
    /// add types it lacks after them).
    pub(crate) model_labels: usize,
    pub(crate) page_count: Option<u32>,
    pub(crate) language: Option<String>,
    pub(crate) warnings: Vec<Notice>,
    pub(crate) errors: Vec<Notice>,
}

/// The whole document read once more by the model, for the questions the
/// deciding stage (maybe only the heading) cannot answer.
struct Reading {
    whole: Prediction,
    coverage: Coverage,
}

impl Run {
    pub(crate) fn new(
        model: &TextModel,
        names: &filename::NamePatterns,
        input: &FileInput<'_>,
    ) -> Run {
        let labels = model.labels().to_vec();
        let filename_hint = names
            .hint(input.filename, |l| labels.iter().any(|k| k.as_str() == l))
            .and_then(|hint| {
                let index = labels.iter().position(|k| k.as_str() == hint.label)?;
                Some((index, hint.confidence))
            });
        Run {
            model_labels: labels.len(),
            labels,
            kind: None,
            format: "text",
            filename_hint,
            metadata: None,
            text: None,
            ocr: None,
            scored: None,
            pages: Vec::new(),
            layout: Vec::new(),
            early_exit: None,
            semantic: None,
            page_count: None,
            language: None,
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }

    pub(crate) fn stage_max(&self, stage: &Option<Vec<f64>>) -> f64 {
        stage
            .as_ref()
            .map_or(0.0, |p| p.iter().copied().fold(0.0, f64::max))
    }

    /// The best probability of the content stages (what the cascade
    /// compares with its threshold); 0 when none ran.
    pub(crate) fn content_confidence(&self) -> f64 {
        self.content()
            .map_or(0.0, |(p, _)| p.iter().copied().fold(0.0, f64::max))
    }

    /// Pool the semantic reading into the content distribution (see
    /// [`combine::pool_semantic`]); types only the semantic stage knows
    /// join the labels. `content` unchanged when the stage did not run.
    fn pool_semantic(&mut self, content: Vec<f64>) -> Vec<f64> {
        let Some(reading) = &self.semantic else {
            return content;
        };
        let (labels, pooled) =
            combine::pool_semantic(&self.labels, &content, &reading.scores, combine::POOLING);
        self.labels = labels;
        pooled
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

    /// The final distribution and the stage that settled it.
    fn decide(&mut self) -> (Vec<f64>, DecidedBy) {
        let n = self.labels.len();
        if !self.errors.is_empty() {
            return (vec![0.0; n], DecidedBy::Nothing);
        }
        let content = self.content().map(|(p, stage)| (p.to_vec(), stage));
        match (content, self.filename_hint) {
            (Some((content, stage)), hint) => {
                let linear_best = argmax(&content);
                let pooled = self.pool_semantic(content);
                let semantic_best = self
                    .semantic
                    .as_ref()
                    .and_then(|r| r.scores.first())
                    .and_then(|best| self.labels.iter().position(|l| *l == best.label));
                let combined = combine(&pooled, hint, self.labels.len());
                let best = argmax(&combined);
                let decided_by = if best == linear_best {
                    self.early_exit.unwrap_or(stage)
                } else if best == argmax(&pooled) && Some(best) == semantic_best {
                    DecidedBy::Semantic
                } else {
                    DecidedBy::Ensemble
                };
                (combined, decided_by)
            }
            (None, Some(hint)) => (combine::name_prior(hint, n), DecidedBy::Filename),
            (None, None) => (vec![0.0; n], DecidedBy::Nothing),
        }
    }

    /// The whole document's prediction: the deciding stage's when it read
    /// the whole text (the usual case), else read now (a decision on the
    /// heading alone).
    fn read_whole(&self, model: &TextModel) -> Option<Reading> {
        let (scored_input, scored_prediction) = self.scored.as_ref()?;
        let text = self.pages.join("\n\n");
        let input = features::with_signals(&text, self.format);
        let whole = if *scored_input == input {
            scored_prediction.clone()
        } else {
            model.predict(&input)
        };
        Some(Reading {
            whole,
            coverage: model.coverage(&text),
        })
    }

    /// For a type only the semantic stage knows, the semantic stage
    /// judges whether the document is like it (the linear model cannot);
    /// `None` for the linear model's own types.
    fn semantic_vouches(&self, best: usize) -> Option<Familiarity> {
        if best < self.model_labels {
            return None;
        }
        let label = self.labels.get(best)?;
        let score = self
            .semantic
            .as_ref()?
            .scores
            .iter()
            .find(|s| s.label == *label)?;
        Some(if score.similarity >= SEMANTIC_FAMILIAR {
            Familiarity::Familiar
        } else {
            Familiarity::UnlikeAnyType {
                best_probability: f64::from(score.similarity),
            }
        })
    }

    /// Whether the document is like any known type. A file that opened
    /// fine but gave no text at all (a blank page, a photo with no writing)
    /// is foreign too; a file that failed to open is an error instead.
    fn familiarity(&self, reading: Option<&Reading>, config: &OodConfig) -> Familiarity {
        match reading {
            Some(reading) => ood::judge(&reading.coverage, reading.whole.unscaled_best, config),
            None if self.errors.is_empty() && self.filename_hint.is_none() => {
                Familiarity::TooLittleKnownText { known_words: 0 }
            }
            None => Familiarity::Familiar,
        }
    }

    pub(crate) fn finish(
        mut self,
        pipeline: &Pipeline,
        model: &TextModel,
        input: &FileInput<'_>,
        started: Instant,
    ) -> ClassificationResult {
        let (probabilities, decided_by) = self.decide();
        let best = argmax(&probabilities);
        let confidence = probabilities.get(best).copied().unwrap_or(0.0);
        let predicted = self
            .labels
            .get(best)
            .map(|l| l.as_str().to_owned())
            .unwrap_or_default();
        let reading = self.read_whole(model);
        let familiarity = match self.semantic_vouches(best) {
            Some(familiarity) => familiarity,
            None => self.familiarity(reading.as_ref(), &model.ood_config()),
        };
        let threshold = pipeline.abstention(model).confidence_threshold;
        let accepted = decided_by != DecidedBy::Nothing
            && confidence >= threshold
            && !familiarity.is_out_of_distribution();
        if let Some(reason) = familiarity.reason() {
            self.warnings
                .push(Notice::new(NoticeCode::OutOfDistribution, reason));
        } else if !accepted && decided_by != DecidedBy::Nothing {
            self.warnings.push(Notice::new(
                NoticeCode::LowConfidence,
                format!("best guess {predicted} at {confidence:.2} is below the threshold {threshold:.2}"),
            ));
        }
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
        let label = if accepted {
            predicted.clone()
        } else {
            Label::UNSURE.to_owned()
        };
        let labels = match (&reading, accepted) {
            (Some(reading), true) if best < self.model_labels => {
                self.present_labels(model, reading, best)
            }
            (_, true) => vec![predicted.clone()],
            (_, false) => Vec::new(),
        };
        let content_decided = !matches!(decided_by, DecidedBy::Nothing | DecidedBy::Filename);
        let scored_text = self.scored.as_ref().map(|(text, _)| text);
        let evidence = match (scored_text, content_decided) {
            (Some(text), true) => self.evidence(model, text, best, SHORT_EVIDENCE),
            _ => Vec::new(),
        };
        let explanation = match (scored_text, &reading, content_decided) {
            (Some(text), Some(reading), true) => {
                Some(self.explain(model, text, reading, &probabilities, familiarity))
            }
            _ => None,
        };
        let label_path = if decided_by == DecidedBy::Nothing {
            Vec::new()
        } else {
            self.label_path(pipeline, &predicted, &probabilities)
        };
        metrics::counter!("heron_files_classified_total", "label" => label.clone(), "decided_by" => crate::decided_by_name(decided_by)).increment(1);

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
                stage_semantic: self.semantic.as_ref().map(|r| round(r.confidence())),
            },
            pipeline_version: pipeline.version_with(model),
            processing_ms: round(started.elapsed().as_secs_f64() * 1000.0),
            request_id: input.request_id.to_owned(),
            warnings: self.warnings,
            errors: self.errors,
            document_id: None,
            sha256: input.sha256.to_owned(),
            class_confidences: self
                .labels
                .iter()
                .zip(&probabilities)
                .map(|(l, p)| (l.as_str().to_owned(), round(*p)))
                .collect(),
            predicted_label: predicted,
            decided_by,
            page_count: self.page_count,
            language: self.language,
            cached: false,
            label_path,
            evidence,
            labels,
            out_of_distribution: familiarity.is_out_of_distribution(),
            // Counted by the pipeline, which has the text.
            pii: BTreeMap::new(),
            model_version: model.id().to_owned(),
            taxonomy_version: format!(
                "{}+{}",
                pipeline.taxonomy.version,
                &pipeline.taxonomy.hash[..12.min(pipeline.taxonomy.hash.len())]
            ),
            explanation,
            duplicate_of: None,
            fields: None,
            entities: None,
            tables: None,
            segments: None,
            documents: None,
        }
    }

    /// The accepted label first, then every other type the document is
    /// also of (one-vs-rest, on the whole text and on each page).
    fn present_labels(&self, model: &TextModel, reading: &Reading, best: usize) -> Vec<String> {
        let pages: Vec<&str> = self.pages.iter().map(String::as_str).collect();
        let also = model
            .present_types(&reading.whole, &pages, self.format)
            .into_iter()
            .filter(|&(i, _)| i != best)
            .map(|(i, _)| i);
        std::iter::once(best)
            .chain(also)
            .filter_map(|i| self.labels.get(i).map(|l| l.as_str().to_owned()))
            .collect()
    }

    fn evidence(&self, model: &TextModel, text: &str, class: usize, limit: usize) -> Vec<Evidence> {
        if class >= self.model_labels {
            // A type only the semantic stage knows has no terms.
            return Vec::new();
        }
        model
            .explain(text, class, limit)
            .into_iter()
            .map(|(term, weight)| Evidence {
                location: locate(&self.pages, &term),
                term,
                weight: round(weight),
            })
            .collect()
    }

    fn explain(
        &self,
        model: &TextModel,
        text: &str,
        reading: &Reading,
        probabilities: &[f64],
        familiarity: Familiarity,
    ) -> Explanation {
        let mut ranked: Vec<usize> = (0..probabilities.len()).collect();
        ranked.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]));
        let top = &ranked[..EXPLAINED_ALTERNATIVES.min(ranked.len())];
        let name = |i: usize| self.labels[i].as_str().to_owned();
        Explanation {
            alternatives: ranked
                .iter()
                .take(5)
                .map(|&i| Alternative {
                    label: name(i),
                    confidence: round(probabilities[i]),
                })
                .collect(),
            terms: top
                .iter()
                .map(|&i| (name(i), self.evidence(model, text, i, EXPLAINED_TERMS)))
                .collect(),
            one_vs_rest: reading
                .whole
                .one_vs_rest
                .iter()
                .enumerate()
                .filter(|&(_, &p)| p >= 0.05)
                .map(|(i, &p)| (name(i), round(p)))
                .collect(),
            signals: std::iter::once(format!("format: {}", self.format))
                .chain(
                    features::layout_signals(&self.pages.join("\n\n"))
                        .into_iter()
                        .filter_map(|s| {
                            features::readable_term(&format!(
                                "{}{s}",
                                features::LAYOUT_MARKER_PREFIX
                            ))
                        }),
                )
                .collect(),
            known_words: reading.coverage.known_words,
            known_word_share: round(reading.coverage.words),
            out_of_distribution_reason: familiarity.reason(),
        }
    }

    fn label_path(
        &self,
        pipeline: &Pipeline,
        predicted: &str,
        probabilities: &[f64],
    ) -> Vec<LabelPathLevel> {
        let raw: BTreeMap<String, f64> = self
            .labels
            .iter()
            .zip(probabilities)
            .map(|(l, p)| (l.as_str().to_owned(), *p))
            .collect();
        pipeline
            .taxonomy
            .label_path(predicted, &raw)
            .into_iter()
            .map(|level| LabelPathLevel {
                level: level.level.to_owned(),
                id: level.id,
                confidence: round(level.confidence),
            })
            .collect()
    }
}

/// Where an evidence term first occurs in the pages, matched without
/// regard to case; `None` for signal tokens and terms whose digits the
/// features replaced with zeros.
fn locate(pages: &[String], term: &str) -> Option<TextLocation> {
    if term.starts_with('(') || term.contains('0') {
        return None;
    }
    let needle: Vec<char> = term.chars().collect();
    for (index, page) in pages.iter().enumerate() {
        let haystack: Vec<char> = page.chars().flat_map(char::to_lowercase).collect();
        // Lowercasing can change a page's length in characters; only trust
        // offsets when it did not.
        if haystack.len() != page.chars().count() {
            continue;
        }
        let found = haystack.windows(needle.len()).position(|window| {
            window
                .iter()
                .zip(&needle)
                .all(|(a, b)| a == b || (a.is_whitespace() && *b == ' '))
        });
        if let Some(start) = found {
            return Some(TextLocation {
                page: index as u32 + 1,
                start: start as u32,
                end: (start + needle.len()) as u32,
            });
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_located_by_page_and_character() {
        let pages = vec![
            "Nothing here".to_owned(),
            "Über the INVOICE total".to_owned(),
        ];
        assert_eq!(
            locate(&pages, "invoice total"),
            Some(TextLocation {
                page: 2,
                start: 9,
                end: 22
            })
        );
        assert_eq!(locate(&pages, "(sent as pdf)"), None);
        assert_eq!(locate(&pages, "00/00/0000"), None);
        assert_eq!(locate(&pages, "absent"), None);
    }
}
